/**
 * A fast path for the plain YAML that plans are made of: block mappings and sequences, one-line flow
 * collections, quoted and plain scalars, `|`/`>` block scalars. It returns exactly what the `yaml` package
 * would (YAML 1.2 core schema), or undefined for anything outside that subset — anchors, tags, multi-line
 * plain or flow scalars, unusual numbers, tabs, duplicate keys, errors — which the `yaml` package then
 * parses with full positions. Parsing with positions costs several times more, and only broken plans need
 * them. test/plans/fast-yaml.test.ts checks it against the `yaml` package on generated documents.
 *
 * Collections nested deeper than `maxDepth` are refused too (the caller reports them with a position), so
 * the recursion here is bounded whatever the input.
 */

class Refuse extends Error {}
const refuse = (): never => {
  throw new Refuse()
}

export function fastParseYaml(source: string, maxDepth: number): { value: unknown } | undefined {
  if (source.includes('\t') || source.includes('\r') || source.charCodeAt(0) === 0xfeff) return undefined
  // Each line as its indentation and the text after it, in two arrays rather than an object per line.
  const indents: number[] = []
  const texts: string[] = []
  for (let start = 0; ;) {
    const newline = source.indexOf('\n', start)
    const end = newline === -1 ? source.length : newline
    let at = start
    while (at < end && source.charCodeAt(at) === 32) at++
    // Other white space before the text (form feed, no-break space…) is not indentation: leave it to `yaml`.
    const c = source.charCodeAt(at)
    if (at < end && (c < 32 || c >= 0xa0) && WHITE_SPACE.test(source[at]!)) return undefined
    indents.push(at - start)
    texts.push(source.slice(at, end))
    if (newline === -1) break
    start = newline + 1
  }
  try {
    const parser = new BlockParser(indents, texts, maxDepth)
    const first = parser.peek()
    if (first === -1) return undefined
    const value = parser.node(indents[first]!, -1, 1)
    if (parser.peek() !== -1) refuse()
    return { value }
  } catch (error) {
    if (error instanceof Refuse) return undefined
    throw error
  }
}

const WHITE_SPACE = /\s/
const INT = /^[-+]?[0-9]+$/
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/
/** Plain scalars whose meaning differs between YAML versions or that are rare enough to leave to `yaml`. */
const SPECIAL = /^(?:[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)|[-+]?0[xXoObB])/
const STARTS_SPECIAL = new Set(['n', 'N', 't', 'T', 'f', 'F'])

/**
 * Length of the `key: ` (or `key:` at the end) that starts `text`, or -1 when it does not start with one; the
 * key is `text.slice(0, keyLength)`. By hand, as the regex /^([A-Za-z0-9_$/.][\w$/.()~-]*)( *):(?: +|$)/ would
 * do: this runs on nearly every line, and a regex match allocates its groups.
 */
function keyPrefix(text: string): number {
  const first = text.charCodeAt(0)
  if (!(isWord(first) || first === 36 /* $ */ || first === 47 /* / */ || first === 46) /* . */) return -1
  let at = 1
  for (; at < text.length; at++) {
    const c = text.charCodeAt(at)
    // \w $ / . ( ) ~ -
    if (!(isWord(c) || c === 36 || c === 47 || c === 46 || c === 40 || c === 41 || c === 126 || c === 45))
      break
  }
  keyLength = at
  while (text.charCodeAt(at) === 32) at++
  if (text.charCodeAt(at) !== 58 /* : */) return -1
  at++
  if (at === text.length) return at
  if (text.charCodeAt(at) !== 32) return -1
  while (text.charCodeAt(at) === 32) at++
  return at
}
/** Set by keyPrefix: where the key it found ends. */
let keyLength = 0

/** [A-Za-z0-9_] */
function isWord(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95
}

/** `-` alone or followed by a space: a block sequence entry. */
function isDash(text: string): boolean {
  return text.charCodeAt(0) === 45 && (text.length === 1 || text.charCodeAt(1) === 32)
}

/** Resolves a plain scalar the way YAML 1.2's core schema does. */
function plain(text: string): unknown {
  const c = text.charCodeAt(0)
  // Most scalars start with a letter that no null, boolean or number starts with: plain strings.
  if (((c >= 97 && c <= 122) || (c >= 65 && c <= 90)) && !STARTS_SPECIAL.has(text[0]!)) return text
  switch (text) {
    case '~':
    case 'null':
    case 'Null':
    case 'NULL':
      return null
    case 'true':
    case 'True':
    case 'TRUE':
      return true
    case 'false':
    case 'False':
    case 'FALSE':
      return false
  }
  if (SPECIAL.test(text)) refuse()
  if (INT.test(text) || FLOAT.test(text)) return Number(text)
  return text
}

class BlockParser {
  private at = 0
  constructor(
    private readonly indents: number[],
    private readonly texts: string[],
    private readonly maxDepth: number,
  ) {}

  /** Index of the next line that is neither blank nor a comment (-1 at the end); refuses document markers and directives. */
  peek(): number {
    const texts = this.texts
    for (; this.at < texts.length; this.at++) {
      const text = texts[this.at]!
      const c = text.charCodeAt(0)
      if (text === '' || c === 35 /* # */) continue
      // `---`, `...` and `%` directives at the margin start new documents: not our subset.
      if (this.indents[this.at] === 0 && (c === 45 || c === 46 || c === 37) && /^(?:---|\.\.\.|%)/.test(text))
        refuse()
      return this.at
    }
    return -1
  }

  /**
   * A block node whose lines are indented exactly `indent` (and more than the parent's `parent`); `depth` is
   * its nesting level (1 at the top).
   */
  node(indent: number, parent: number, depth: number): unknown {
    const line = this.peek()
    if (this.indents[line]! !== indent || indent <= parent) refuse()
    const text = this.texts[line]!
    if (isDash(text)) return this.sequence(indent, depth)
    if (keyPrefix(text) !== -1) return this.mapping(indent, depth)
    return refuse()
  }

  private mapping(indent: number, depth: number): Record<string, unknown> {
    if (depth > this.maxDepth) refuse()
    const out: Record<string, unknown> = {}
    for (let line = this.peek(); line !== -1 && this.indents[line] === indent; line = this.peek()) {
      const text = this.texts[line]!
      const prefix = keyPrefix(text)
      if (prefix === -1) refuse()
      const key = text.slice(0, keyLength)
      if (typeof plain(key) !== 'string' || key === '__proto__' || key === '<<' || Object.hasOwn(out, key))
        refuse()
      this.at++
      out[key] = this.value(prefix === text.length ? '' : text.slice(prefix), indent, true, depth)
    }
    this.expectDedent(indent)
    return out
  }

  private sequence(indent: number, depth: number): unknown[] {
    if (depth > this.maxDepth) refuse()
    const out: unknown[] = []
    for (let line = this.peek(); line !== -1 && this.indents[line] === indent; line = this.peek()) {
      const text = this.texts[line]!
      if (!isDash(text)) break
      const rest = text.slice(1).trimStart()
      if (rest === '' || rest.charCodeAt(0) === 35 /* # */) {
        this.at++
        out.push(this.nested(indent, false, depth))
      } else if (isDash(rest) || keyPrefix(rest) !== -1) {
        // `- key: value` / `- - x`: the item is a block node starting after the dash; re-read this line
        // as if it were indented to where that node starts.
        const shift = text.length - rest.length
        this.indents[line] = indent + shift
        this.texts[line] = rest
        out.push(this.node(indent + shift, indent, depth + 1))
      } else {
        this.at++
        out.push(this.value(rest, indent, false, depth))
      }
    }
    this.expectDedent(indent)
    return out
  }

  /** After a collection at `indent`, the next line must be less indented (or the end). */
  private expectDedent(indent: number): void {
    const next = this.peek()
    if (next !== -1 && this.indents[next]! > indent) refuse()
  }

  /**
   * A value after `key:` or `- ` on the same line, or on the lines below when `rest` is empty; `depth` is the
   * level of the collection holding it.
   */
  private value(rest: string, indent: number, inMapping: boolean, depth: number): unknown {
    if (rest === '' || rest.charCodeAt(0) === 35 /* # */) return this.nested(indent, inMapping, depth)
    const c = rest[0]!
    let value: unknown
    let tail: string
    if (c === '|' || c === '>') return this.blockScalar(rest, indent)
    if (c === '[' || c === '{' || c === '"' || c === "'") {
      const flow = new FlowParser(rest, this.maxDepth)
      value = flow.value(depth + 1)
      tail = rest.slice(flow.at)
    } else {
      if ('&*!%@`?:,]}#'.includes(c) || isDash(rest)) refuse()
      const comment = rest.indexOf(' #')
      const text = (comment === -1 ? rest : rest.slice(0, comment)).trimEnd()
      if (text.includes(': ') || text.endsWith(':')) refuse()
      value = plain(text)
      tail = comment === -1 ? '' : rest.slice(comment)
    }
    if (tail !== '' && !/^(?: *| +#.*)$/.test(tail)) refuse()
    // More-indented lines after a scalar would continue it (multi-line plain scalar): not our subset.
    const next = this.peek()
    if (next !== -1 && this.indents[next]! > indent) refuse()
    return value
  }

  /** The node on the following lines (more indented; a mapping's sequence may sit at the same indent). */
  private nested(indent: number, inMapping: boolean, depth: number): unknown {
    const next = this.peek()
    if (next === -1) return null
    const nextIndent = this.indents[next]!
    if (nextIndent > indent) return this.node(nextIndent, indent, depth + 1)
    if (inMapping && nextIndent === indent && isDash(this.texts[next]!))
      return this.sequence(indent, depth + 1)
    return null
  }

  private blockScalar(header: string, indent: number): string {
    const match = /^([|>])(-?)(?: *| +#.*)$/.exec(header) ?? refuse()
    const folded = match[1] === '>'
    const strip = match[2] === '-'
    const body: string[] = []
    let contentIndent = -1
    const { indents, texts } = this
    for (; this.at < texts.length; this.at++) {
      const text = texts[this.at]!
      const lineIndent = indents[this.at]!
      if (text === '') {
        // Leading blank lines and whitespace-only lines have subtle rules in block scalars; leave them to `yaml`.
        if (contentIndent === -1 || (lineIndent > 0 && this.at < texts.length - 1)) refuse()
        body.push('')
        continue
      }
      if (lineIndent <= indent) break
      if (contentIndent === -1) contentIndent = lineIndent
      if (lineIndent < contentIndent) refuse()
      if (lineIndent > contentIndent && folded) refuse()
      body.push(lineIndent === contentIndent ? text : ' '.repeat(lineIndent - contentIndent) + text)
    }
    while (body.length > 0 && body.at(-1) === '') body.pop()
    if (body.length === 0) refuse()
    let text = ''
    if (folded) {
      // Folding: lines joined by a space; a run of n blank lines becomes n newlines instead.
      let blanks = 0
      for (const line of body) {
        if (line === '') {
          blanks++
          continue
        }
        if (text !== '') text += blanks > 0 ? '\n'.repeat(blanks) : ' '
        text += line
        blanks = 0
      }
    } else {
      text = body.join('\n')
    }
    return strip ? text : `${text}\n`
  }
}

/** One-line flow collections and quoted scalars. */
class FlowParser {
  at = 0
  constructor(
    private readonly text: string,
    private readonly maxDepth: number,
  ) {}

  private spaces(): void {
    while (this.text[this.at] === ' ') this.at++
  }

  /** The value here; a collection here would be at nesting level `depth`. */
  value(depth: number): unknown {
    this.spaces()
    const c = this.text[this.at]
    if (c === '{' || c === '[') {
      if (depth > this.maxDepth) refuse()
      return c === '{' ? this.mapping(depth) : this.sequence(depth)
    }
    if (c === '"') return this.doubleQuoted()
    if (c === "'") return this.singleQuoted()
    return plain(this.plainText())
  }

  private mapping(depth: number): Record<string, unknown> {
    this.at++
    const out: Record<string, unknown> = {}
    for (;;) {
      this.spaces()
      if (this.text[this.at] === '}') break
      const c = this.text[this.at]
      const key = c === '"' ? this.doubleQuoted() : c === "'" ? this.singleQuoted() : this.plainText()
      if (c !== '"' && c !== "'" && typeof plain(key) !== 'string') refuse()
      if (key === '__proto__' || key === '<<' || Object.hasOwn(out, key)) refuse()
      this.spaces()
      if (this.text[this.at] !== ':') refuse()
      this.at++
      this.spaces()
      const next = this.text[this.at]
      out[key] = next === ',' || next === '}' ? null : this.value(depth + 1)
      this.spaces()
      if (this.text[this.at] === ',') this.at++
      else if (this.text[this.at] !== '}') refuse()
    }
    this.at++
    return out
  }

  private sequence(depth: number): unknown[] {
    this.at++
    const out: unknown[] = []
    for (;;) {
      this.spaces()
      if (this.text[this.at] === ']') break
      out.push(this.value(depth + 1))
      this.spaces()
      if (this.text[this.at] === ',') this.at++
      else if (this.text[this.at] !== ']') refuse()
    }
    this.at++
    return out
  }

  /** A plain scalar inside a flow collection: up to `,` `]` `}`, `: `, or ` #`. */
  private plainText(): string {
    const start = this.at
    const first = this.text[start]
    if (first === undefined || '[]{},#&*!|>\'"%@`?'.includes(first)) refuse()
    if ((first === '-' || first === ':') && /[ ,\]}]|$/.test(this.text[start + 1] ?? '')) refuse()
    for (; this.at < this.text.length; this.at++) {
      const c = this.text[this.at]!
      if (c === ',' || c === ']' || c === '}' || c === '[' || c === '{') break
      if (c === ':' && /^[ ,\]}]/.test(this.text[this.at + 1] ?? ' ')) break
      if (c === '#' && this.text[this.at - 1] === ' ') refuse()
    }
    const text = this.text.slice(start, this.at).trimEnd()
    if (text === '') refuse()
    return text
  }

  private doubleQuoted(): string {
    let out = ''
    for (this.at++; this.at < this.text.length; this.at++) {
      const c = this.text[this.at]!
      if (c === '"') {
        this.at++
        return out
      }
      if (c !== '\\') {
        out += c
        continue
      }
      const e = this.text[++this.at]
      const simple: Record<string, string> = {
        '\\': '\\',
        '"': '"',
        '/': '/',
        n: '\n',
        t: '\t',
        r: '\r',
        '0': '\0',
      }
      if (e !== undefined && e in simple) out += simple[e]
      else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(this.text.slice(this.at + 1, this.at + 5))) {
        out += String.fromCharCode(parseInt(this.text.slice(this.at + 1, this.at + 5), 16))
        this.at += 4
      } else refuse()
    }
    return refuse()
  }

  private singleQuoted(): string {
    let out = ''
    for (this.at++; this.at < this.text.length; this.at++) {
      const c = this.text[this.at]!
      if (c === "'") {
        if (this.text[this.at + 1] === "'") {
          out += "'"
          this.at++
          continue
        }
        this.at++
        return out
      }
      out += c
    }
    return refuse()
  }
}
