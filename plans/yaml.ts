/**
 * Plan YAML, read by two parsers: js-yaml for the plain YAML plans and their documents are made of, and the
 * `yaml` package for everything else and for positions (diagnostics point at a key or value). Why two,
 * measured: the plans benchmark's 4,026 YAML texts parse in 46-72 ms with js-yaml and 580-1,000 ms with the
 * `yaml` package; an OpenAPI document of the shop in 0.5-0.7 ms against 3.6-5.3 ms. The hand-written part
 * is only the gate (quickParse) that sends js-yaml the texts both read alike, and YAML 1.2's core schema.
 */
import { FAILSAFE_SCHEMA, Type, load, type LoadOptions } from 'js-yaml'
import { Composer, Parser, YAMLParseError, isAlias, isMap, isScalar, isSeq, parseDocument } from 'yaml'
import type { CST, Document, Node, Pair } from 'yaml'
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
 * Parses YAML (1.2, core schema). A document js-yaml reads without trouble takes that path and builds its
 * positions only when asked; everything else — an error, nesting past the limit, an alias, an empty
 * document — goes through the `yaml` package's full parser, whose errors and positions diagnostics use.
 */
export function parseYaml(text: string): ParsedYaml {
  const fast = quickParse(text)
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

const NULL = /^(?:~|null|Null|NULL)?$/
const BOOL = /^(?:true|True|TRUE|false|False|FALSE)$/
const INT = /^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$/
const FLOAT =
  /^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/

/** Whether a plain scalar may be a number: most are words, and are told apart by their first character. */
function numeric(text: string): boolean {
  const c = text.charCodeAt(0)
  return (c >= 48 && c <= 57) || c === 45 || c === 43 || c === 46 // 0-9 - + .
}

/**
 * YAML 1.2's core schema, as the `yaml` package reads it (and as plans always meant): js-yaml's own core
 * schema differs at the edges (`0b101`, `-0x1F` and `+0o7` are numbers there, `-.5` a string), so the four
 * scalar types are defined here from the YAML 1.2.2 specification's regular expressions (10.3.2). Keys and
 * values such as `yes`, `no`, `on`, `off`, `y`, `n` and timestamps stay strings, as in YAML 1.2.
 */
const CORE_1_2 = FAILSAFE_SCHEMA.extend({
  implicit: [
    new Type('tag:yaml.org,2002:null', {
      kind: 'scalar',
      resolve: (text: string) => text.length <= 4 && NULL.test(text),
      construct: () => null,
    }),
    new Type('tag:yaml.org,2002:bool', {
      kind: 'scalar',
      resolve: (text: string) => (text.length === 4 || text.length === 5) && BOOL.test(text),
      construct: (text: string) => text[0] === 't' || text[0] === 'T',
    }),
    new Type('tag:yaml.org,2002:int', {
      kind: 'scalar',
      resolve: (text: string) => numeric(text) && INT.test(text),
      construct: (text: string) =>
        text.startsWith('0o')
          ? parseInt(text.slice(2), 8)
          : text.startsWith('0x')
            ? parseInt(text.slice(2), 16)
            : parseInt(text, 10),
    }),
    new Type('tag:yaml.org,2002:float', {
      kind: 'scalar',
      resolve: (text: string) => numeric(text) && FLOAT.test(text),
      construct: (text: string) => {
        const lower = text.toLowerCase()
        if (lower.endsWith('nan')) return NaN
        if (lower.endsWith('inf')) return text[0] === '-' ? -Infinity : Infinity
        return parseFloat(text)
      },
    }),
  ],
})

/**
 * Keys js-yaml turns into other strings than the `yaml` package does — a collection as a key (`[a]: x`,
 * `{a: 1}: x`, `? …`, and in a flow mapping `{ a: 1, [b] }`), a null key (`~: x`, `null: x`, `: x`) — found
 * by their look. A false alarm (a list of flow mappings, `[{…}, {…}]`) only costs the slower path. A bracket
 * inside a word is not a collection: an OpenAPI path key (`/products/{sku}:`) takes the fast path.
 */
const ODD_KEY =
  /,[ \t]*[[{]|\{[ \t]*\[|\{[ \t]+\{|(?:^|[\s,[{:])[[{][^\n]*[\]}][ \t]*:(?:[\s,[\]{}]|$)|(?:^|[\s{,[])\?(?:[ \t]|$)|(?:^|[\s{,[])(?:~|null|Null|NULL)?[ \t]*:(?:[\s,[\]{}]|$)/m

/**
 * True when a line opens more flow brackets than it closes, or closes more: a flow collection over several
 * lines, or a double-quoted scalar over several lines. YAML 1.2 wants their lines indented deeper than
 * their parent; the `yaml` package enforces that and js-yaml does not, so such a text is read by the `yaml`
 * package (a JSON body in a block scalar lands here too, at the cost of the slower path).
 */
function multiLineFlow(text: string): boolean {
  let depth = 0
  let quotes = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    // { [ open, } ] close, a " not after a backslash opens or closes a quoted scalar.
    if (c === 123 || c === 91) depth++
    else if (c === 125 || c === 93) depth--
    else if (c === 34 && text.charCodeAt(i - 1) !== 92) quotes++
    else if (c === 10 && (depth !== 0 || quotes % 2 !== 0)) return true
  }
  return false
}

/**
 * What js-yaml forgives and YAML 1.2 (and so the `yaml` package) does not, which must stay an error: a tab
 * where indentation could be, a comment glued to a token (`}#`, and `"x"#`: see gluedToQuote); and anchors
 * and aliases, whose names and expansion the `yaml` package bounds.
 */
const UNFORGIVEN = /\t|[\]}]#|(?:^|[\s[{,])[&*]\S/m

/** A quote beside a `#`: a comment glued to a quoted scalar, or an OpenAPI `'#/components/…'`. */
const QUOTE_HASH = /["']#/

/**
 * Whether a comment is glued to a quoted scalar (`'x'#c`, an error in YAML 1.2 that js-yaml reads as a
 * comment). A quote opens a scalar at the start of a token that follows an indicator — `key: '…'`, `- '…'`
 * at the start of a line, `[ '…'`, `{ a: '…', b: '…' }` — or starts a line; anywhere else (inside a word,
 * after a plain word: `as "placed" or 'paid'`) it is a plain scalar's character. A quoted scalar over
 * several lines answers true, which only costs the slower path. So an OpenAPI `$ref: '#/components/…'` is
 * not a glued comment, and `"x"#c` is.
 */
function gluedToQuote(text: string): boolean {
  const LF = 10
  const INDICATOR = -1 // `last` after an indicator a quoted scalar may follow
  let quote = 0 // the open quote, or 0
  let last = LF // LF at the start of a line, INDICATOR, or the last character of a plain token
  let depth = 0 // flow collections open on this line
  const blank = (c: number) => c === 32 || c === 9 || c === LF || Number.isNaN(c)
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (quote !== 0) {
      if (c === LF) return true
      if (quote === 34 && c === 92)
        i++ // an escape in a double-quoted scalar
      else if (quote === 39 && c === 39 && text.charCodeAt(i + 1) === 39)
        i++ // '' in a single-quoted one
      else if (c === quote) {
        if (text.charCodeAt(i + 1) === 35) return true
        quote = 0
        last = c
      }
      continue
    }
    const before = i === 0 ? LF : text.charCodeAt(i - 1)
    const tokenStart = blank(before) || last === INDICATOR
    if (c === LF) {
      last = LF
      depth = 0
    } else if (c === 32 || c === 9) continue
    else if (c === 35 && blank(before)) {
      // A comment: the rest of its line is not YAML.
      const end = text.indexOf('\n', i)
      if (end < 0) return false
      i = end - 1
    } else if (c === 34 || c === 39) {
      if (tokenStart && (last === LF || last === INDICATOR)) quote = c
      else last = c
    } else if (c === 58 && (blank(text.charCodeAt(i + 1)) || (depth > 0 && /[,[\]{}]/.test(text[i + 1]!))))
      last = INDICATOR // `: `
    else if ((c === 45 || c === 63) && (last === LF || last === INDICATOR) && blank(text.charCodeAt(i + 1)))
      last = INDICATOR // `- `, `? ` before anything else on the line
    else if (c === 44 && depth > 0) last = INDICATOR
    else if ((c === 91 || c === 123) && tokenStart) {
      depth++
      last = INDICATOR
    } else if ((c === 93 || c === 125) && depth > 0) {
      depth--
      last = c
    } else last = c
  }
  return quote !== 0
}

/**
 * js-yaml's reading of a document, or undefined when the `yaml` package must read it: js-yaml found an
 * error (the `yaml` package then says where, in its words), nesting past MAX_YAML_DEPTH, an empty document,
 * an anchor or alias (expanded with the `yaml` package's bound on aliases), a key of another kind
 * than a string, number or boolean, or a flow collection over several lines: the shapes where the two
 * read a text differently.
 */
export function quickParse(text: string): { value: unknown } | undefined {
  if (ODD_KEY.test(text) || UNFORGIVEN.test(text) || multiLineFlow(text)) return undefined
  if (QUOTE_HASH.test(text) && gluedToQuote(text)) return undefined
  let value: unknown
  try {
    // js-yaml 4.3 bounds nesting with `maxDepth` (its types do not list it yet).
    value = load(text, { schema: CORE_1_2, maxDepth: MAX_YAML_DEPTH } as LoadOptions)
  } catch {
    return undefined
  }
  if (value === undefined) return undefined
  return { value }
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
