/**
 * The hostile values cases draw from: injection strings, unicode edge cases, huge numbers and malformed
 * JSON. fast-check picks among them (and varies them) per case, from the case's seed.
 */
import { REDIRECT_HOST } from './content.js'

/**
 * A JSON fragment sent as written (numbers JSON.stringify cannot write, deep nesting). Long fragments are
 * given as pieces (slices of one flat run each): joining them would copy a megabyte that the body's
 * encoding copies again, so the pieces are kept and `text` is joined only when something reads it.
 */
export class RawJson {
  readonly pieces: readonly string[]
  /** Length of the text, in UTF-16 units. */
  readonly length: number
  private joined: string | undefined

  constructor(
    text: string | readonly string[],
    /** What the server's JSON.parse would see, when it can be computed (undefined: it cannot parse it). */
    readonly parsed?: { value: unknown },
    /** The text is all ASCII (one byte a unit in UTF-8): it is encoded without being scanned. */
    readonly ascii = false,
  ) {
    this.pieces = typeof text === 'string' ? [text] : text
    this.length = this.pieces.reduce((n, p) => n + p.length, 0)
  }

  get text(): string {
    return (this.joined ??= this.pieces.join(''))
  }

  /** The first `n` units of the text, without joining the pieces. */
  head(n: number): string {
    let out = ''
    for (const piece of this.pieces) {
      if (out.length >= n) break
      out += piece.slice(0, n - out.length)
    }
    return out
  }
}

export const INJECTIONS: ReadonlyArray<{ family: string; value: string }> = [
  { family: 'SQL', value: "' OR '1'='1" },
  { family: 'SQL', value: "'" },
  { family: 'SQL', value: '1; DROP TABLE orders;--' },
  { family: 'SQL', value: "tea' UNION SELECT password FROM users--" },
  { family: 'NoSQL', value: '{"$gt":""}' },
  { family: 'NoSQL', value: "' || '1'=='1" },
  { family: 'path traversal', value: '../../etc/passwd' },
  { family: 'path traversal', value: '../../../../etc/passwd' },
  { family: 'path traversal', value: '../../../../../../../../etc/passwd' },
  { family: 'path traversal', value: '..%2f..%2f..%2f..%2fetc%2fpasswd' },
  { family: 'path traversal', value: '..\\..\\..\\windows\\win.ini' },
  { family: 'template', value: `{{7*7777777}}` },
  { family: 'template', value: '${7*7777777}' },
  { family: 'template', value: '<%= 7*7777777 %>' },
  { family: 'template', value: '#{7*7777777}' },
  { family: 'header injection', value: 'x\r\nX-Vigil-Injected: 1' },
  { family: 'header injection', value: 'x%0d%0aSet-Cookie:%20vigil=1' },
  { family: 'command', value: '$(id)' },
  { family: 'command', value: '; id' },
  { family: 'command', value: '| id' },
  { family: 'command', value: '`id`' },
  { family: 'open redirect', value: `https://${REDIRECT_HOST}/` },
  { family: 'open redirect', value: `//${REDIRECT_HOST}/` },
  { family: 'markup', value: '<script>alert(1)</script>' },
  { family: 'LDAP', value: '*)(uid=*))(|(uid=*' },
  { family: 'format string', value: '%s%s%s%n' },
]

/**
 * The families every string parameter and body field gets at least once, in this order (the first value
 * of each first, then the second of each, …). SQL comes first as a boolean pair: the valid value with an
 * always-true and with an always-false condition, whose answers the differential oracle compares.
 */
export const SWEEP_FAMILIES = [
  'SQL',
  'NoSQL',
  'command',
  'path traversal',
  'template',
  'header injection',
  'open redirect',
] as const

/** The boolean pair, appended to the valid value: the same query made always true, then always false. */
export const BOOLEAN_PAIR = { truthy: "' OR '1'='1", falsy: "' AND '1'='2" } as const

/** Operator objects that a NoSQL store would take for a query instead of a value. */
export const NOSQL_OPERATORS: ReadonlyArray<string> = [
  '{"$gt":""}',
  '{"$ne":null}',
  '{"$where":"sleep(1000)"}',
  '{"$regex":".*"}',
]

/** Keys that pollute prototypes in a naive merge. */
export const PROTO_KEYS: ReadonlyArray<string> = [
  '{"__proto__":{"polluted":true,"isAdmin":true}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
]

export const UNICODE_EDGES: ReadonlyArray<{ name: string; value: string }> = [
  { name: 'NUL', value: 'tea\u0000' },
  { name: 'lone surrogate', value: '\ud800' },
  { name: 'right-to-left override', value: '\u202etea' },
  { name: 'zero-width space', value: 'te\u200ba' },
  { name: 'byte order mark', value: '\ufefftea' },
  { name: 'combining accent', value: 'te\u0301a' },
  { name: 'fullwidth letters', value: 'ｔｅａ' },
  { name: 'emoji', value: '🍵' },
  { name: 'dotted capital I', value: 'İ' },
  { name: 'non-character', value: '\uffff' },
  { name: 'line separator', value: 'tea\u2028' },
]

/** Number literals past double precision or range (written raw: JSON.stringify cannot). */
export const HUGE_NUMBERS: ReadonlyArray<string> = [
  '1e308',
  '-1e308',
  '1e400',
  '-1e400',
  '9007199254740993',
  '-9007199254740993',
  '123456789012345678901234567890',
  '1e-400',
  '-0',
  '4294967296',
  '2147483648',
]

export function hugeNumber(text: string): RawJson {
  return new RawJson(text, { value: JSON.parse(text) })
}

/** Malformed variants of a valid JSON text. */
export const MALFORMED: ReadonlyArray<{
  name: string
  make(valid: string): string | Buffer
  /** Only JSON is broken by it (a form or an XML document may stay well-formed). */
  jsonOnly?: true
}> = [
  { name: 'truncated', make: (v) => v.slice(0, Math.max(1, Math.floor(v.length / 2))) },
  { name: 'trailing comma', make: (v) => (v.endsWith('}') ? `${v.slice(0, -1)},}` : `${v},`) },
  { name: 'single quotes', make: (v) => v.replace(/"/g, "'"), jsonOnly: true },
  { name: 'unquoted keys', make: (v) => v.replace(/"([A-Za-z_$][\w$]*)":/g, '$1:'), jsonOnly: true },
  { name: 'NaN literal', make: () => '{"value":NaN}' },
  { name: 'comment', make: (v) => `/* x */${v}` },
  { name: 'two documents', make: (v) => `${v}${v}` },
  { name: 'unbalanced', make: (v) => `${v.slice(0, -1)}` || '{' },
  { name: 'empty body', make: () => '' },
  { name: 'only whitespace', make: () => ' \n\t ' },
  {
    name: 'invalid UTF-8',
    make: (v) =>
      Buffer.concat([Buffer.from(v.slice(0, -1)), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(v.slice(-1))]),
  },
  { name: 'bare string', make: () => '"tea"' },
  { name: 'null', make: () => 'null' },
]

/** Content types a JSON endpoint should refuse (null: no content-type header at all). */
export const WRONG_CONTENT_TYPES: ReadonlyArray<string | null> = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=vigil',
  'application/xml',
  'text/html',
  null,
]
