/**
 * The secrets table of the redaction tests, and an oracle, written apart from plans/secret-forms.ts, of
 * every form a secret may take in an output: `findForms(text)` greps a text for all of them.
 */

/** Secret values chosen to break naive redaction; every test of redaction runs over all of them. */
export const SECRETS = {
  /** Every character URL encoding touches. */
  special: 'sp3c!al+tok/en=Q&x?y',
  /** A base64 token with + / and = padding, as most API tokens are. */
  base64: 'dGVzdC10b2tlbis/Lz0+PT0=',
  /** Cyrillic, Greek, an accent and an astral emoji. */
  unicode: 'пароль-Ωé😀x',
  /** Quotes and backslashes: JSON, shell and HTML escape them. */
  quotes: `q"uo\\te'd`,
  /** Spaces: `+` in a form-encoded query. */
  spaced: 'pass phrase 42',
  /** The shortest allowed secret: six characters. */
  six: 'six6ch',
} as const

export type SecretName = keyof typeof SECRETS

function percentLower(encoded: string): string {
  return encoded.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase())
}

/** Base64 characters of `k zero bytes ⧺ value` that depend only on the value: what any base64 text holding it at that offset contains. */
function base64Core(value: string, k: number): string {
  const bytes = Buffer.from(value, 'utf8')
  const all = Buffer.concat([Buffer.alloc(k), bytes]).toString('base64')
  return all.slice(Math.ceil((k * 8) / 6), Math.floor(((k + bytes.length) * 8) / 6))
}

/** JSON with every non-ASCII character escaped, as Python's `json.dumps` writes it. */
function asciiJson(value: string): string {
  return JSON.stringify(value)
    .slice(1, -1)
    .replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/** Every form of one secret, by name. */
export function formsOf(value: string): Record<string, string> {
  const forms: Record<string, string> = {
    raw: value,
    encodeURIComponent: encodeURIComponent(value),
    'percent lower-case': percentLower(encodeURIComponent(value)),
    URLSearchParams: new URLSearchParams({ v: value }).toString().slice(2),
    'double percent': encodeURIComponent(encodeURIComponent(value)),
    'JSON string': JSON.stringify(value).slice(1, -1),
    'JSON ASCII': asciiJson(value),
    'JSON in JSON': JSON.stringify(JSON.stringify(value)).slice(3, -3),
    base64: Buffer.from(value).toString('base64'),
    'base64 unpadded': Buffer.from(value).toString('base64').replace(/=+$/, ''),
    base64url: Buffer.from(value).toString('base64url'),
    hex: Buffer.from(value).toString('hex'),
    HTML: value
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&#39;'),
    shell: value.replace(/'/g, `'\\''`),
  }
  for (const k of [0, 1, 2]) {
    forms[`base64 core +${k}`] = base64Core(value, k)
    forms[`base64url core +${k}`] = base64Core(value, k).replace(/\+/g, '-').replace(/\//g, '_')
  }
  return forms
}

/** Where a value lands in a URL path as the WHATWG parser writes it. */
export function pathForm(value: string): string {
  return new URL(`http://h/${value.replace(/[?#]/g, encodeURIComponent)}`).pathname.slice(1)
}

/** `Basic` credentials of `user:secret`, base64. */
export function basic(user: string, secret: string): string {
  return Buffer.from(`${user}:${secret}`).toString('base64')
}

/** `[secret name, form name]` of every form of every secret found in `text`. */
export function findForms(
  text: string,
  secrets: Readonly<Record<string, string>> = SECRETS,
): Array<[string, string]> {
  const found: Array<[string, string]> = []
  for (const [name, value] of Object.entries(secrets)) {
    for (const [form, written] of Object.entries(formsOf(value))) {
      if (text.includes(written)) found.push([name, form])
    }
    if (text.includes(pathForm(value))) found.push([name, 'URL path'])
    // What a service receives from that path: a backslash has become a slash.
    const delivered = decodeURIComponent(pathForm(value))
    if (delivered !== value) {
      for (const [form, written] of Object.entries(formsOf(delivered)))
        if (text.includes(written)) found.push([name, `delivered by a URL path, ${form}`])
    }
  }
  return found
}
