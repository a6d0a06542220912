import { isAlias, isMap, isScalar, isSeq, parseDocument } from 'yaml'
import type { Document, Node, Pair } from 'yaml'
import { fastParseYaml } from './fast-yaml.js'

/** A YAML text parsed; node positions are computed on first use, for locating problems. */
export interface ParsedYaml {
  /** The document with node ranges (parsed on first access when the fast path was taken). */
  readonly doc: Document.Parsed
  /** The plain value; undefined when the YAML has errors. */
  value: unknown
  /** Syntax errors, as offsets into the parsed text. */
  errors: Array<{ offset: number; message: string }>
  warnings: Array<{ offset: number; message: string }>
}

/** Bounds alias expansion so a hostile document cannot explode in memory ("billion laughs"). */
const MAX_ALIAS_COUNT = 100

/**
 * Parses YAML (1.2, core schema). Plain documents take the fast path and build their positions only when
 * asked; everything else goes through the `yaml` package's full parser.
 */
export function parseYaml(text: string): ParsedYaml {
  const fast = fastParseYaml(text)
  if (fast) return new FastParsed(text, fast.value)
  const doc = parseDocument(text, OPTIONS)
  // One mistake often trips several of yaml's rules at the same spot; the first says it best.
  const errors = doc.errors
    .map((e) => ({ offset: e.pos[0], message: cleanMessage(e.message) }))
    .filter((e, i, all) => all.findIndex((o) => o.offset === e.offset) === i)
  const warnings = doc.warnings.map((e) => ({ offset: e.pos[0], message: cleanMessage(e.message) }))
  if (errors.length > 0) return { doc, value: undefined, errors, warnings }
  try {
    return { doc, value: doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }), errors, warnings }
  } catch (error) {
    return {
      doc,
      value: undefined,
      errors: [{ offset: 0, message: cleanMessage((error as Error).message) }],
      warnings,
    }
  }
}

const OPTIONS = { prettyErrors: false, uniqueKeys: true } as const

/** A document the fast path took: no errors, and positions parsed only when first asked for. */
class FastParsed implements ParsedYaml {
  readonly errors: ParsedYaml['errors'] = []
  readonly warnings: ParsedYaml['warnings'] = []
  private parsed: Document.Parsed | undefined
  constructor(
    private readonly text: string,
    public value: unknown,
  ) {}

  get doc(): Document.Parsed {
    return (this.parsed ??= parseDocument(this.text, OPTIONS))
  }
}

/** yaml's messages sometimes carry a trailing code excerpt; one line is what a diagnostic needs. */
function cleanMessage(message: string): string {
  const first = message.split('\n')[0]!.trim()
  return first.replace(/[.:]$/, '')
}

/** Where a JSON pointer lands in a document: the key (for properties) and the value. */
export interface NodeLocation {
  /** Offset of the value node, or of the nearest ancestor found. */
  value: number
  /** Offset of the property key when the last segment is a map key. */
  key?: number
  /** True when the whole pointer resolved. */
  exact: boolean
}

/** Resolves an ajv `instancePath` (JSON pointer) to offsets in the parsed text. */
export function locate(doc: Document.Parsed, pointer: string): NodeLocation {
  const segments = pointer === '' ? [] : pointer.slice(1).split('/').map(unescapePointer)
  let node: unknown = doc.contents
  let location: NodeLocation = { value: startOf(node) ?? 0, exact: true }
  for (const segment of segments) {
    if (isAlias(node)) node = node.resolve(doc)
    let next: unknown
    let key: number | undefined
    if (isMap(node)) {
      const pair = (node.items as Pair[]).find((p) => keyText(p.key) === segment)
      if (pair) {
        key = startOf(pair.key)
        next = pair.value
      }
    } else if (isSeq(node)) {
      next = node.items[Number(segment)]
    }
    if (next === undefined && key === undefined) return { ...location, exact: false }
    // `key:` with nothing after it has no value node; the key is the best place to point at.
    const value = startOf(next) ?? key ?? location.value
    location = key === undefined ? { value, exact: true } : { value, key, exact: true }
    node = next
  }
  return location
}

function startOf(node: unknown): number | undefined {
  const range = (node as Node | null | undefined)?.range
  return range ? range[0] : undefined
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value)
  return typeof key === 'string' ? key : undefined
}

function unescapePointer(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~')
}
