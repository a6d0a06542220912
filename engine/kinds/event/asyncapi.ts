/**
 * AsyncAPI 2 and 3 documents, read with the AsyncAPI initiative's parser (@asyncapi/parser), which is
 * loaded only when a plan names such a document (it costs most of a second to load). What the event kind
 * needs of one: its channels' addresses, and a message's payload schema by pointer
 * (`#/components/messages/OrderCreated`).
 */
import { readFile } from 'node:fs/promises'
import { get as getPointer } from '../../api/pointer.js'

export interface AsyncApiDocument {
  file: string
  version: string
  /** Channel addresses (AsyncAPI 3) or names (AsyncAPI 2), sorted. */
  channels: string[]
  /** The document with its `$ref`s resolved. */
  json: Record<string, unknown>
}

const cache = new Map<string, Promise<AsyncApiDocument>>()

/** Parses and validates the document; throws with the parser's errors (first five) when it is invalid. */
export function loadAsyncApi(file: string, label: string): Promise<AsyncApiDocument> {
  let loading = cache.get(file)
  if (!loading) {
    loading = parse(file, label)
    cache.set(file, loading)
    loading.catch(() => cache.delete(file))
  }
  return loading
}

async function parse(file: string, label: string): Promise<AsyncApiDocument> {
  const text = await readFile(file, 'utf8')
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
    file: label,
    version: document.version(),
    channels,
    json: document.json() as Record<string, unknown>,
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
