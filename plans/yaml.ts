import { Composer, Parser, YAMLParseError, isAlias, isMap, isScalar, isSeq, parseDocument } from 'yaml'
import type { CST, Document, Node, Pair } from 'yaml'
import { fastParseYaml } from './fast-yaml.js'
import { split } from './pointer.js'

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
 * Collections nested deeper than this are an error at the first one past the limit. Parsing, validating and
 * every later walk of a value recurse once per level: without a bound, a 14 KB line of `[[[[…` overflows the
 * stack (or aborts the process, when the overflow hits V8's regular expression compiler). Plans rarely nest
 * past ten levels; js-yaml, which reads OpenAPI and JSON Schema files, has the same default limit.
 */
export const MAX_YAML_DEPTH = 100

const TOO_DEEP = `nested deeper than ${MAX_YAML_DEPTH} levels`

/**
 * Where YAML text (any number of documents) first nests deeper than MAX_YAML_DEPTH, for callers that parse it
 * with the `yaml` package themselves; undefined when it does not.
 */
export function yamlDepthProblem(text: string): { offset: number; message: string } | undefined {
  const offset = firstTooDeep(Array.from(new Parser().parse(text)))
  return offset === undefined ? undefined : { offset, message: TOO_DEEP }
}

/**
 * Parses YAML (1.2, core schema). Plain documents take the fast path and build their positions only when
 * asked; everything else goes through the `yaml` package's full parser.
 */
export function parseYaml(text: string): ParsedYaml {
  const fast = fastParseYaml(text, MAX_YAML_DEPTH)
  if (fast) return new FastParsed(text, fast.value)
  // yaml's parser is iterative; its composer and toJS recurse per level: measure depth between the two.
  const tokens = Array.from(new Parser().parse(text))
  const tooDeep = firstTooDeep(tokens)
  if (tooDeep !== undefined) {
    const errors = [{ offset: tooDeep, message: TOO_DEEP }]
    return { doc: parseDocument('', OPTIONS), value: undefined, errors, warnings: [] }
  }
  const doc = compose(tokens, text.length)
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

/** The first document of a token stream, as `parseDocument` composes it (a second one is an error). */
function compose(tokens: CST.Token[], length: number): Document.Parsed {
  let doc: Document.Parsed | undefined
  for (const next of new Composer(OPTIONS).compose(tokens, true, length)) {
    if (!doc) doc = next
    else {
      const message = 'Source contains multiple documents; please use YAML.parseAllDocuments()'
      doc.errors.push(new YAMLParseError([next.range[0], next.range[1]], 'MULTIPLE_DOCS', message))
      break
    }
  }
  return doc!
}

/**
 * Offset of the first collection (in document order) nested deeper than MAX_YAML_DEPTH, walking the
 * tokens with a stack of its own so that the walk itself cannot overflow.
 */
function firstTooDeep(tokens: readonly CST.Token[]): number | undefined {
  const stack: Array<{ token: CST.Token; depth: number }> = []
  const push = (token: CST.Token | null | undefined, depth: number) => {
    if (token) stack.push({ token, depth })
  }
  for (let i = tokens.length - 1; i >= 0; i--) push(tokens[i], 0)
  while (stack.length > 0) {
    const { token, depth } = stack.pop()!
    if (token.type === 'document') push(token.value, depth)
    else if (token.type === 'block-map' || token.type === 'block-seq' || token.type === 'flow-collection') {
      if (depth + 1 > MAX_YAML_DEPTH) return token.offset
      for (let i = token.items.length - 1; i >= 0; i--) {
        const item = token.items[i]!
        push(item.value, depth + 1)
        push(item.key, depth + 1)
      }
    }
  }
  return undefined
}

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
  const segments = split(pointer)
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
