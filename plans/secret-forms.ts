/**
 * The forms a secret takes in text, compiled once per secret for the Redactor (redact.ts).
 *
 * A secret reaches an output written in many ways: raw; percent-encoded by `encodeURIComponent`, by
 * `URLSearchParams` (`+` for a space, more characters encoded), by a URL's path (only some characters
 * encoded, a backslash turned into a slash), in either hex case, sometimes twice (`%252B`); JSON-escaped
 * (`\"`, `\\`, `\/`, `\u00e9`, also a JSON string inside a JSON string); HTML-escaped; shell-quoted (`'\''`);
 * base64 or base64url, alone or inside a longer encoded value such as HTTP Basic `user:secret`; hex. A
 * service or a command may echo any of these. Two matchers cover them:
 *
 * - a regular expression per secret that allows, for every character, each way it can be written, so
 *   any mix of raw, percent-encoded and escaped characters matches;
 * - literal encoded forms. Base64 of a value that holds the secret at byte offset k (mod 3) contains, for
 *   that k, the characters that depend only on the secret's bytes (its "core"). The three cores in both
 *   alphabets find the secret inside any base64 text without decoding anything; the whole base64 run
 *   around a core is then redacted. The alternative, decoding every base64-looking run at its four
 *   possible starts and searching the secrets' forms inside, was measured on the same texts (7 secrets):
 *   3.7× as long on 10 MB of base64-heavy JSON bodies, 13× on 1 MB of prose.
 */

/** Shorter secrets cannot be redacted without hiding ordinary text, nor found reliably: a config error. */
export const MIN_SECRET_LENGTH = 6

/** A secret's compiled matchers. */
export interface SecretForms {
  value: string
  /** Source of a regular expression matching every textual form, any mix of them. */
  pattern: string
  /**
   * Source matching the start of a textual form (at least {@link CUT_MIN_CHARS} characters, maybe ending
   * inside an escape) and of an encoded form (at least {@link CUT_MIN_ENCODED} characters): what is left
   * where a long value was cut for a message (`…`) before anyone could redact it whole.
   */
  cutPattern: string
  cutEncoded: string
  /**
   * Literal encoded forms: base64 cores (standard and URL alphabets) of the value and of its JSON- and
   * percent-encoded forms, and hex of its UTF-8 bytes. Each is found as is; the run of encoded
   * characters around it is redacted with it.
   */
  encoded: EncodedForm[]
  /** Length of the shortest text that can hold a form: shorter texts are skipped. */
  minLength: number
}

export interface EncodedForm {
  literal: string
  /** Characters the encoded run around the literal may contain (base64 also ends with `=` padding). */
  run: RegExp
}

const ALNUM = /^[A-Za-z0-9]$/
const STD_RUN = /[A-Za-z0-9+/]/
const URL_RUN = /[A-Za-z0-9_-]/
const HEX_RUN = /[0-9A-Fa-f]/

/** Characters with a short JSON escape. */
const JSON_SHORT: Record<string, string> = { '\b': 'b', '\f': 'f', '\n': 'n', '\r': 'r', '\t': 't' }
/** Characters of a secret's start, before a cut, that are redacted: fewer are too common in ordinary text. */
export const CUT_MIN_CHARS = 3
/** Characters of a base64 form's start, before a cut, that are redacted (two base64 digits carry 12 bits). */
export const CUT_MIN_ENCODED = 2
/** What a cut may leave of an escape after the last whole character: `%2`, `\u00`, `&#3`, half a surrogate pair. */
const CUT_ESCAPE = '(?:%(?:25)?[0-9A-Fa-f]?|\\\\+(?:u[0-9A-Fa-f]{0,3})?|&#?[0-9A-Za-z]*|[\\uD800-\\uDBFF])?'

/** `p0 p1 … p(min-1) (?:p(min) (?:…)?)?`: the first `min` parts, then any number of the next ones. */
function prefixes(parts: readonly string[], min: number): string {
  let tail = ''
  for (let i = parts.length - 1; i >= min; i--) tail = `(?:${parts[i]}${tail})?`
  return parts.slice(0, min).join('') + tail
}

/** Characters a URL parser removes. */
const URL_DROPPED = new Set(['\t', '\n', '\r'])
const HTML_NAMED: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
}

export function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')
}

/** A hex number matched in either case: `c3` → `[cC]3`. */
function hexCase(hex: string): string {
  return hex.replace(/[a-f]/g, (c) => `[${c}${c.toUpperCase()}]`)
}

/** Every way one character (a code point) may be written. */
function alternatives(ch: string, droppable: boolean): string {
  if (ALNUM.test(ch)) return ch
  const cp = ch.codePointAt(0)!
  const out: string[] = []
  // A backslash: raw, or escaped once or more (JSON, a JSON string inside a JSON string).
  out.push(ch === '\\' ? '\\\\+' : escapeRegex(ch))
  // Percent-encoded UTF-8 bytes, in either case, possibly encoded twice (%25 for %).
  out.push(
    [...Buffer.from(ch, 'utf8')]
      .map((b) => `%(?:25)?${hexCase(b.toString(16).padStart(2, '0').toLowerCase())}`)
      .join(''),
  )
  if (ch === ' ') out.push('\\+')
  // JSON and JavaScript escapes: \uXXXX per UTF-16 unit (surrogate pairs too), short escapes, \" and \/.
  const units = Array.from({ length: ch.length }, (_, i) => ch.charCodeAt(i))
  out.push(units.map((u) => `\\\\+u${hexCase(u.toString(16).padStart(4, '0'))}`).join(''))
  if (JSON_SHORT[ch]) out.push(`\\\\+${JSON_SHORT[ch]}`)
  if (ch === '"' || ch === '/' || ch === "'") out.push(`\\\\+${escapeRegex(ch)}`)
  // HTML and XML entities, named and numeric.
  if (HTML_NAMED[ch]) out.push(HTML_NAMED[ch])
  out.push(`&#0*${cp};`, `&#[xX]0*${hexCase(cp.toString(16))};`)
  // A single quote inside a single-quoted shell argument.
  if (ch === "'") out.push("'\\\\''")
  // A URL's parser turns a backslash in an http(s) path into a slash, and drops tabs and line breaks.
  if (ch === '\\') out.push('/', '%(?:25)?2[fF]')
  return droppable && URL_DROPPED.has(ch) ? `(?:${out.join('|')})?` : `(?:${out.join('|')})`
}

/** The base64 characters of `prefix ⧺ bytes` that depend only on `bytes`, for a prefix of k bytes. */
function core(bytes: Buffer, k: number): string {
  const encoded = Buffer.concat([Buffer.alloc(k), bytes]).toString('base64')
  const total = k + bytes.length
  return encoded.slice(Math.ceil((8 * k) / 6), Math.floor((8 * total) / 6))
}

function encodedForms(value: string): EncodedForm[] {
  // The value as sent, JSON-escaped, percent-encoded, and as a URL path delivers it to a service.
  const asPath = value.replace(/\\/g, '/').replace(/[\t\n\r]/g, '')
  const inner = new Set([value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value), asPath])
  const out = new Map<string, EncodedForm>()
  for (const text of inner) {
    const bytes = Buffer.from(text, 'utf8')
    for (const k of [0, 1, 2]) {
      const std = core(bytes, k)
      const url = std.replace(/\+/g, '-').replace(/\//g, '_')
      // A core without + or / reads the same in both alphabets; the run around it is taken as standard.
      out.set(std, { literal: std, run: STD_RUN })
      if (url !== std) out.set(url, { literal: url, run: URL_RUN })
    }
  }
  for (const text of new Set([value, asPath])) {
    const hex = Buffer.from(text, 'utf8').toString('hex')
    for (const literal of [hex, hex.toUpperCase()]) out.set(literal, { literal, run: HEX_RUN })
  }
  return [...out.values()]
}

/** Compiles the matchers of one secret (at least {@link MIN_SECRET_LENGTH} characters). */
export function secretForms(value: string): SecretForms {
  const chars = [...value]
  // Tabs and line breaks may be missing only when enough else remains to be a secret on its own.
  const written = chars.filter((c) => !URL_DROPPED.has(c)).length
  const droppable = written >= MIN_SECRET_LENGTH
  const parts = chars.map((c) => alternatives(c, droppable))
  const pattern = parts.join('')
  const encoded = encodedForms(value)
  const minLength = Math.min(droppable ? written : chars.length, ...encoded.map((c) => c.literal.length))
  const cutPattern = prefixes(parts, CUT_MIN_CHARS) + CUT_ESCAPE
  // Hex digits are common (hashes, ids): a cut hex form needs 4 of them (2 bytes) before it is taken for a secret.
  const cutEncoded = encoded
    .map((e) => prefixes([...e.literal].map(escapeRegex), e.run === HEX_RUN ? 4 : CUT_MIN_ENCODED))
    .join('|')
  return { value, pattern, cutPattern, cutEncoded, encoded, minLength }
}
