/**
 * Oracles that read what came back, not only its status: evidence that an injection was evaluated (a
 * template marker computed, a system file's signature, command output, a database engine's error, a header
 * the request smuggled in), a redirect off the sandbox, and missing security headers or weak cookies.
 * Whatever the request itself sent is cut out of the body first, so an echo is never taken for evidence.
 */

/** What a template payload computes (7 * 7777777): the evidence is the product, which is never sent. */
export const TEMPLATE_PRODUCT = '54444439'

/** What an XML internal entity case's entities expand to (see encodings.ts); the request holds only its halves. */
export const XML_ENTITY_EXPANSION = 'vigil-xxe-expanded'

/** The host an open-redirect payload points to; `.invalid` never resolves. */
export const REDIRECT_HOST = 'vigil-redirect.invalid'

const EVIDENCE: ReadonlyArray<{ what: string; re: RegExp }> = [
  { what: 'a template expression evaluated', re: new RegExp(`(?<!\\d)${TEMPLATE_PRODUCT}(?!\\d)`) },
  { what: 'the contents of /etc/passwd', re: /\broot:[x*!]?:0:0:/ },
  { what: 'the contents of win.ini', re: /; for 16-bit app support|\[fonts\]\s*\r?\n\s*\[extensions\]/i },
  { what: 'the output of a command', re: /\buid=\d+\([\w.-]*\) gid=\d+\([\w.-]*\)/ },
  {
    what: 'an XML internal entity expanded (the parser reads document type definitions: XXE)',
    re: new RegExp(XML_ENTITY_EXPANSION),
  },
]

/** Error text of the common database engines, as it reaches a response when a query was broken. */
export const DATABASE_ERRORS: ReadonlyArray<{ engine: string; re: RegExp }> = [
  {
    engine: 'PostgreSQL',
    re: /syntax error at or near|unterminated quoted string at or near|invalid input syntax for (?:type|integer)|\bPG::SyntaxError|\bpq: /i,
  },
  {
    engine: 'MySQL',
    re: /You have an error in your SQL syntax|\bER_PARSE_ERROR\b|\bmysql_fetch_|Warning: mysqli?_|\bER_BAD_FIELD_ERROR\b/i,
  },
  {
    engine: 'SQLite',
    re: /\bSQLITE_ERROR\b|SQLite(?:3::|\.Exception)|unrecognized token: "|near "[^"]*": syntax error|\bno such column: /i,
  },
  {
    engine: 'SQL Server',
    re: /Unclosed quotation mark after the character string|Incorrect syntax near|\bSqlException\b|Microsoft OLE DB Provider for SQL Server/i,
  },
  { engine: 'Oracle', re: /\bORA-\d{5}\b|quoted string not properly terminated/ },
  {
    engine: 'MongoDB',
    re: /\bMongoServerError\b|\bMongoError\b|\bCastError: Cast to \w+ failed|unknown operator: \$\w+|\$where is not allowed/,
  },
  {
    engine: 'SQL (generic)',
    re: /\bSQLSTATE\[|\bSQL syntax\b|\bODBC (?:SQL Server )?Driver\b|\bJDBC\b.*\bSQLException\b/i,
  },
]

export interface ContentFinding {
  /** What the response shows, in a phrase. */
  what: string
  /** The matching text, clipped. */
  match: string
}

const clip = (text: string) => (text.length > 120 ? `${text.slice(0, 117)}…` : text)

/**
 * The body as text, then (for JSON) its string values decoded — `"a\\nuid=…"` hides a line start and a word
 * boundary — with every string the request sent cut out (longest first, see `sentStrings`).
 */
export function withoutEchoes(body: Buffer, sent: readonly string[]): string {
  let text = body.subarray(0, 256 * 1024).toString('utf8')
  // Values that hold escapes, decoded.
  text += jsonStringLines(text, (v) => JSON.stringify(v).includes('\\'))
  for (const s of sent) if (text.includes(s)) text = text.split(s).join(' ')
  return text
}

/**
 * The string values of a JSON text that `keep` accepts, one per line after a blank line ('' when there are
 * none, or the text is not JSON or holds no escape: a value without one is already readable in the text).
 */
export function jsonStringLines(text: string, keep: (value: string) => boolean): string {
  const first = text.trimStart()[0]
  if ((first !== '{' && first !== '[' && first !== '"') || !text.includes('\\')) return ''
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return ''
  }
  const out: string[] = []
  const walk = (v: unknown): void => {
    if (typeof v === 'string') {
      if (keep(v)) out.push(v)
    } else if (Array.isArray(v)) v.forEach(walk)
    else if (v && typeof v === 'object') Object.values(v).forEach(walk)
  }
  walk(value)
  return out.length ? `\n\n${out.join('\n')}` : ''
}

/** The first database engine's error in a text, if any. */
export function databaseError(text: string): ContentFinding | undefined {
  for (const { engine, re } of DATABASE_ERRORS) {
    const m = re.exec(text)
    if (m) return { what: `${/^[AEIO]/.test(engine) ? 'an' : 'a'} ${engine} error`, match: clip(m[0]) }
  }
  return undefined
}

/**
 * Evidence that an injection case reached an interpreter: a computed template marker, a file's
 * signature, command output, a database error, or a header the case tried to smuggle in. `control` is the
 * valid request's body (echoes cut too): what the valid answer already shows is not evidence.
 */
export function injectionEvidence(
  response: { headers: Record<string, string>; body: Buffer },
  sent: readonly string[],
  control: string | undefined,
): ContentFinding | undefined {
  for (const [name, value] of Object.entries(response.headers)) {
    if (name.toLowerCase() === 'x-vigil-injected')
      return { what: 'a header the request smuggled in (CRLF injection)', match: `${name}: ${value}` }
    if (name.toLowerCase() === 'set-cookie' && /(?:^|[\s,;])vigil=1\b/.test(value))
      return { what: 'a cookie the request smuggled in (CRLF injection)', match: `${name}: ${clip(value)}` }
  }
  const text = withoutEchoes(response.body, sent)
  for (const { what, re } of EVIDENCE) {
    const m = re.exec(text)
    if (m && !(control !== undefined && re.test(control))) return { what, match: clip(m[0]) }
  }
  const db = databaseError(text)
  if (db && !(control !== undefined && databaseError(control))) return db
  return undefined
}

/**
 * A redirect whose `Location` leaves the service: resolved against the request's URL, its origin is not
 * the sandbox's. A relative location stays on the service.
 */
export function offSandboxRedirect(
  response: { status: number; headers: Record<string, string> },
  requestUrl: string,
): ContentFinding | undefined {
  if (response.status < 300 || response.status >= 400) return undefined
  const location = header(response.headers, 'location')
  if (!location) return undefined
  let target: URL
  try {
    target = new URL(location.trim(), requestUrl)
  } catch {
    return undefined
  }
  const from = new URL(requestUrl)
  if (target.host === from.host && (target.protocol === 'http:' || target.protocol === 'https:'))
    return undefined
  return { what: 'a redirect off the sandbox', match: clip(location) }
}

/** Headers an HTML answer should carry; a missing one is named. */
const HTML_HEADERS: ReadonlyArray<{
  name: string
  ok(value: string | undefined, all: Record<string, string>): boolean
}> = [
  { name: 'x-content-type-options: nosniff', ok: (v) => /nosniff/i.test(v ?? '') },
  {
    name: 'content-security-policy (or x-frame-options)',
    ok: (v, all) => v !== undefined || header(all, 'x-frame-options') !== undefined,
  },
]
const HEADER_OF: Record<string, string> = {
  'x-content-type-options: nosniff': 'x-content-type-options',
  'content-security-policy (or x-frame-options)': 'content-security-policy',
}

function header(headers: Record<string, string>, name: string): string | undefined {
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return v
  return undefined
}

/**
 * Security headers missing on an HTML answer, and cookies set without `HttpOnly`, `Secure` or `SameSite`.
 * undici joins repeated `set-cookie` headers with ", ": each cookie is told apart by its `name=` start.
 */
export function headerHygiene(response: { headers: Record<string, string> }): ContentFinding[] {
  const out: ContentFinding[] = []
  const type = header(response.headers, 'content-type') ?? ''
  if (/^\s*text\/html/i.test(type)) {
    const missing = HTML_HEADERS.filter(
      (h) => !h.ok(header(response.headers, HEADER_OF[h.name]!), response.headers),
    ).map((h) => h.name)
    if (missing.length)
      out.push({ what: 'an HTML answer without security headers', match: missing.join(', ') })
  }
  const cookies = header(response.headers, 'set-cookie')
  if (cookies) {
    for (const cookie of splitCookies(cookies)) {
      const attributes = cookie
        .split(';')
        .slice(1)
        .map((a) => a.trim().split('=')[0]!.toLowerCase())
      const missing = ['HttpOnly', 'Secure', 'SameSite'].filter((a) => !attributes.includes(a.toLowerCase()))
      if (missing.length) {
        const name = cookie.split('=')[0]!.trim()
        out.push({ what: `a cookie without ${missing.join(', ')}`, match: clip(`${name}=…`) })
      }
    }
  }
  return out
}

/** `a=1; Path=/, b=2; Expires=Wed, 21 Oct 2026 07:28:00 GMT` → two cookies (a comma before `name=` splits). */
export function splitCookies(value: string): string[] {
  return value
    .split(/,(?=\s*[^;,=\s]+=)/)
    .map((c) => c.trim())
    .filter(Boolean)
}

/** Rows in a JSON answer: the length of a top-level array, or of the longest array one level down. */
export function rowCount(body: Buffer): number | undefined {
  let value: unknown
  try {
    value = JSON.parse(body.toString('utf8'))
  } catch {
    return undefined
  }
  if (Array.isArray(value)) return value.length
  if (value && typeof value === 'object') {
    let most: number | undefined
    for (const v of Object.values(value)) if (Array.isArray(v)) most = Math.max(most ?? 0, v.length)
    return most
  }
  return undefined
}
