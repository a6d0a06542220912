/**
 * Splits a SQL script into its statements, each with the line it starts on, so that a failing migration
 * names its statement and line, and the migration gate can watch each statement's locks. Quotes,
 * double-quoted identifiers, dollar-quoted bodies (`$$ … $$`, `$fn$ … $fn$`) and both comment styles are
 * respected; a semicolon inside any of them does not end a statement.
 */

export interface SqlStatement {
  /** The statement's text, without its terminating semicolon, trimmed. */
  text: string
  /** 1-based line of the file the statement starts on (after leading comments and blank lines). */
  line: number
}

export function splitStatements(script: string): SqlStatement[] {
  const out: SqlStatement[] = []
  let start = 0
  let i = 0
  const push = (end: number): void => {
    const raw = script.slice(start, end)
    const lead = leadingNoise(raw)
    const text = raw.slice(lead).trim()
    if (text) out.push({ text, line: lineAt(script, start + lead) })
  }
  while (i < script.length) {
    const c = script[i]!
    const next = script[i + 1]
    if (c === '-' && next === '-') {
      const end = script.indexOf('\n', i)
      i = end < 0 ? script.length : end + 1
    } else if (c === '/' && next === '*') {
      i = closeBlockComment(script, i + 2)
    } else if (c === "'" || c === '"') {
      i = closeQuote(script, i + 1, c)
    } else if (c === '$') {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(script.slice(i, i + 64))
      if (tag && !/[A-Za-z0-9_]/.test(script[i - 1] ?? '')) {
        const close = script.indexOf(tag[0], i + tag[0].length)
        i = close < 0 ? script.length : close + tag[0].length
      } else i++
    } else if (c === ';') {
      push(i)
      start = ++i
    } else i++
  }
  push(script.length)
  return out
}

/** Length of the whitespace and comments a statement's raw text starts with. */
function leadingNoise(raw: string): number {
  let i = 0
  for (;;) {
    while (i < raw.length && /\s/.test(raw[i]!)) i++
    if (raw.startsWith('--', i)) {
      const end = raw.indexOf('\n', i)
      i = end < 0 ? raw.length : end + 1
    } else if (raw.startsWith('/*', i)) i = closeBlockComment(raw, i + 2)
    else return i
  }
}

/** Index after the `*\/` closing a (nestable, as in PostgreSQL) block comment opened before `from`. */
function closeBlockComment(s: string, from: number): number {
  let depth = 1
  let i = from
  while (i < s.length && depth > 0) {
    if (s.startsWith('/*', i)) {
      depth++
      i += 2
    } else if (s.startsWith('*/', i)) {
      depth--
      i += 2
    } else i++
  }
  return i
}

/** Index after the quote closing one opened before `from`; a doubled quote is an escaped one. */
function closeQuote(s: string, from: number, quote: string): number {
  let i = from
  while (i < s.length) {
    if (s[i] === quote) {
      if (s[i + 1] === quote) i += 2
      else return i + 1
    } else i++
  }
  return i
}

/** 1-based line number of an offset. */
export function lineAt(text: string, offset: number): number {
  let line = 1
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++
  return line
}
