import type { RecordedRequest } from '../verdict.js'

/** Quotes one argument for a POSIX shell. */
export function shellQuote(value: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value
  return `'${value.replace(/'/g, `'\\''`)}'`
}

/** A curl command that sends the same request. The request is expected to be redacted already. */
export function renderCurl(request: RecordedRequest): string {
  const parts = ['curl', '-sS', '-i']
  // `-X HEAD` makes curl wait for a body that never comes; `-I` is curl's HEAD.
  if (request.method === 'HEAD') parts.push('-I')
  else if (request.method !== 'GET' || request.body !== undefined) parts.push('-X', request.method)
  parts.push(shellQuote(request.url))
  for (const [name, value] of Object.entries(request.headers).sort(([a], [b]) => a.localeCompare(b))) {
    parts.push('-H', shellQuote(`${name}: ${value}`))
  }
  if (request.body !== undefined) parts.push('--data-binary', shellQuote(request.body))
  return parts.join(' ')
}
