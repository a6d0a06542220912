/**
 * AsyncAPI 2 and 3 documents, read with the AsyncAPI initiative's parser (@asyncapi/parser), which is
 * loaded only when a plan names such a document. What the event kind needs of one: its channels' addresses,
 * and a message's payload schema by pointer (`#/components/messages/OrderCreated`).
 *
 * Loading the parser and its first parse cost seconds (its rule set is compiled on first use), more than
 * the rest of an event check; so what a valid document gives is kept, by its content: in the process (a warm
 * session sees an edited document afresh), and on disk under `$XDG_CACHE_HOME/vigil/asyncapi/` for documents
 * that refer to no other file, keyed by the parser's version and the document's bytes. A run that finds it
 * there does not load the parser at all. An invalid document is parsed every time, for its errors.
 */
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import path from 'node:path'
import { cacheDir } from '../../cache-dir.js'
import { get as getPointer } from '../../api/pointer.js'

export interface AsyncApiDocument {
  file: string
  version: string
  /** Channel addresses (AsyncAPI 3) or names (AsyncAPI 2), sorted. */
  channels: string[]
  /** The document with its `$ref`s resolved (without the parser's `x-parser-*` annotations and cycles). */
  json: Record<string, unknown>
}

type Parsed = Omit<AsyncApiDocument, 'file'>

/** By the document's path and bytes. */
const cache = new Map<string, Promise<Parsed>>()

/** Parses and validates the document; throws with the parser's errors (first five) when it is invalid. */
export async function loadAsyncApi(file: string, label: string): Promise<AsyncApiDocument> {
  const text = await readFile(file, 'utf8')
  const digest = createHash('sha256').update(text).digest('hex')
  const key = `${file}\0${digest}`
  let loading = cache.get(key)
  if (!loading) {
    loading = cached(file, label, text, digest)
    cache.set(key, loading)
    loading.catch(() => cache.delete(key))
  }
  return { file: label, ...(await loading) }
}

async function cached(file: string, label: string, text: string, digest: string): Promise<Parsed> {
  const stored = selfContained(text) ? storedPath(digest) : undefined
  if (stored) {
    try {
      const kept = JSON.parse(readFileSync(stored, 'utf8')) as Parsed
      if (typeof kept.version === 'string' && Array.isArray(kept.channels) && kept.json) return kept
    } catch {
      // Not kept yet (or unreadable): parse it.
    }
  }
  const parsed = await parse(file, label, text)
  if (stored) {
    try {
      mkdirSync(path.dirname(stored), { recursive: true })
      const temporary = `${stored}.${process.pid}.tmp`
      writeFileSync(temporary, JSON.stringify(parsed))
      renameSync(temporary, stored)
    } catch {
      // A cache that cannot be written only costs the next run the parse.
    }
  }
  return parsed
}

/** True when every `$ref` of the document points inside it (`#/…`): its bytes are all its meaning. */
export function selfContained(text: string): boolean {
  for (const match of text.matchAll(/["']?\$ref["']?\s*:\s*["']?([^\s"',}]*)/g)) {
    if (!match[1]!.startsWith('#')) return false
  }
  return true
}

let parserVersion: string | undefined

function storedPath(digest: string): string | undefined {
  try {
    parserVersion ??= (
      JSON.parse(
        readFileSync(createRequire(import.meta.url).resolve('@asyncapi/parser/package.json'), 'utf8'),
      ) as { version: string }
    ).version
  } catch {
    return undefined
  }
  return path.join(cacheDir('asyncapi'), `${parserVersion}-${digest}.json`)
}

async function parse(file: string, label: string, text: string): Promise<Parsed> {
  const { Parser } = await import('@asyncapi/parser')
  const parser = new Parser()
  const { document, diagnostics } = await parser.parse(text, { source: file })
  if (!document) {
    const errors = diagnostics
      .filter((d) => d.severity === 0)
      .slice(0, 5)
      .map((d) => {
        const at = d.range ? `${label}:${d.range.start.line + 1}:${d.range.start.character + 1}` : label
        return `${at} ${d.message}${d.path?.length ? ` (at /${d.path.join('/')})` : ''}`
      })
    throw new Error(`invalid AsyncAPI document:\n${errors.join('\n')}`)
  }
  const channels = document
    .channels()
    .all()
    .map((c) => c.address() ?? c.id())
    .filter((a): a is string => typeof a === 'string')
    .sort()
  return {
    version: document.version(),
    channels,
    json: strip(document.json() as Record<string, unknown>),
  }
}

/** The JSON Schema of the payload of the message at `pointer`, or of whatever schema is there. */
export function messageSchema(doc: AsyncApiDocument, pointer: string): Record<string, unknown> | undefined {
  const found = getPointer(doc.json, pointer) as Record<string, unknown> | undefined
  if (!found || typeof found !== 'object') return undefined
  let schema = 'payload' in found ? (found.payload as Record<string, unknown>) : found
  // AsyncAPI 3 multi-format schemas wrap the schema itself.
  if (schema && typeof schema === 'object' && 'schemaFormat' in schema && 'schema' in schema)
    schema = schema.schema as Record<string, unknown>
  return schema && typeof schema === 'object' ? strip(schema) : undefined
}

/** A plain copy without AsyncAPI's `x-parser-*` annotations and cycles (ajv compiles it). */
function strip(value: Record<string, unknown>, seen = new WeakSet<object>()): Record<string, unknown> {
  if (seen.has(value)) return {}
  seen.add(value)
  const out: Record<string, unknown> = {}
  for (const [key, v] of Object.entries(value)) {
    if (key.startsWith('x-parser-')) continue
    if (Array.isArray(v))
      out[key] = v.map((item) =>
        item && typeof item === 'object' ? strip(item as Record<string, unknown>, seen) : item,
      )
    else if (v && typeof v === 'object') out[key] = strip(v as Record<string, unknown>, seen)
    else out[key] = v
  }
  seen.delete(value)
  return out
}
