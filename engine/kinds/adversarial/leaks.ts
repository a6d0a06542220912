/**
 * The `no-leak` oracle's eyes: stack traces, internal file paths, database errors and configured secrets
 * in a response. Whatever the request itself sent is cut out of the response first, so a service that
 * politely echoes `../../etc/passwd` back in a 400 is not taken for one that leaks its file system.
 */
import type { Redactor } from '../../http/redact.js'
import { DATABASE_ERRORS, jsonStringLines } from './content.js'

export interface Leak {
  /** `a stack trace`, `an internal path`, `a database error`, `a configured secret`. */
  what: string
  /** The matching text, clipped (and redacted by the caller's reporting). */
  match: string
}

const PATTERNS: ReadonlyArray<{ what: string; re: RegExp }> = [
  {
    what: 'a stack trace',
    re: /^\s*at (?:async )?\S.*?\(?(?:file:\/\/|node:|\/|[A-Za-z]:\\)[^\s)]*:\d+:\d+\)?/m,
  },
  { what: 'a stack trace', re: /Traceback \(most recent call last\)/ },
  { what: 'a stack trace', re: /^\s*at [\w$.]+\([\w$]+\.(?:java|kt|scala):\d+\)/m },
  {
    what: 'a stack trace',
    re: /Exception in thread "|goroutine \d+ \[running\]|\.rb:\d+:in `|\bin \S+\.php on line \d+/,
  },
  { what: 'a stack trace', re: /^\s*at [\w.<>`]+\(.*\) in .+:line \d+/m },
  { what: 'a stack trace', re: /\b(?:TypeError|ReferenceError|SyntaxError|RangeError): [^\n]*\n\s+at / },
  {
    what: 'an internal path',
    re: /(?:^|[\s"'(=:,[])(\/(?:home|Users|root|usr|var|opt|srv|app|workspace|builds)\/[\w.@+-]+\/[\w.@+/-]*)/,
  },
  { what: 'an internal path', re: /\b[A-Za-z]:\\(?:Users|Windows|inetpub|Program Files|src)\\[^\s"']+/ },
  { what: 'an internal path', re: /file:\/\/\/[^\s"']+|\bnode_modules\/[\w@.-]+/ },
  {
    what: 'a database error',
    re: new RegExp(DATABASE_ERRORS.map(({ re }) => re.source).join('|'), 'i'),
  },
]

/** Every string a request carried: raw body, JSON string leaves, decoded path segments and query values. */
export function sentStrings(path: string, body: string | Buffer | undefined, values?: unknown): string[] {
  const out = new Set<string>()
  const add = (s: string) => {
    if (s.length >= 3) {
      out.add(s)
      const escaped = JSON.stringify(s).slice(1, -1)
      if (escaped !== s) out.add(escaped)
    }
  }
  const [pathname = '', search = ''] = path.split('?')
  for (const segment of pathname.split('/')) {
    try {
      add(decodeURIComponent(segment))
    } catch {
      add(segment)
    }
  }
  for (const [key, value] of new URLSearchParams(search)) {
    add(key)
    add(value)
  }
  if (body !== undefined) {
    const text = typeof body === 'string' ? body : body.toString('utf8')
    if (text.length <= 64 * 1024) add(text)
    const walk = (v: unknown): void => {
      if (typeof v === 'string') add(v)
      else if (Array.isArray(v)) v.forEach(walk)
      else if (v && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) {
          add(k)
          walk(x)
        }
      }
    }
    // A form or an XML document: the value it encodes; else the JSON text parsed.
    if (values !== undefined) walk(values)
    else
      try {
        walk(JSON.parse(text))
      } catch {
        // Not JSON: the raw text was added above.
      }
  }
  // Longest first, so a value containing another is cut out whole.
  return [...out].sort((a, b) => b.length - a.length)
}

/** Every string a case's request carried (see `sentStrings`). */
export function sentBy(request: { path: string; body?: string | Buffer; values?: unknown }): string[] {
  return sentStrings(request.path, request.body, request.values)
}

/**
 * The first leak in a response's headers and body, or undefined. Scans at most the first 256 KiB. `sent`
 * may be a function: it is called only when something in the response looks like a leak.
 */
export function findLeak(
  response: { headers: Record<string, string>; body: Buffer },
  sent: readonly string[] | (() => readonly string[]),
  redactor: Redactor,
): Leak | undefined {
  const headerText = Object.entries(response.headers)
    .filter(([name]) => !redactor.isSensitiveHeader(name))
    .map(([name, value]) => `${name}: ${value}`)
    .join('\n')
  const bodyText = response.body.subarray(0, 256 * 1024).toString('utf8')
  // A stack trace inside a JSON string value has its newlines escaped: the decoded strings are read too.
  const raw = `${headerText}\n\n${bodyText}${jsonStringLines(bodyText, (v) => v.includes('\n'))}`
  if (redactor.text(raw) !== raw) return { what: 'a configured secret', match: '[REDACTED]' }
  // Most responses match no pattern: only then is it worth cutting the echoes out and looking again.
  if (!PATTERNS.some(({ re }) => re.test(raw))) return undefined
  let text = raw
  for (const s of typeof sent === 'function' ? sent() : sent)
    if (text.includes(s)) text = text.split(s).join(' ')
  for (const { what, re } of PATTERNS) {
    const m = re.exec(text)
    if (m) {
      const match = (m[1] ?? m[0]).trim()
      return { what, match: match.length > 120 ? `${match.slice(0, 117)}…` : match }
    }
  }
  return undefined
}
