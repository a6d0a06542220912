/** Replaces secrets in everything that may reach a report. */

export const REDACTED = '[REDACTED]'

/** Header names whose values are always secrets. */
export const DEFAULT_SENSITIVE_HEADERS = [
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'x-auth-token',
] as const

export interface RedactorOptions {
  /** Secret values (from `secrets:` and `{{secrets.NAME}}`); each occurrence in any text is replaced. */
  secrets?: Iterable<string>
  /** Extra header names to redact, case-insensitive. */
  headers?: Iterable<string>
}

export class Redactor {
  private values: string[] = []
  private readonly headerNames: Set<string>

  constructor(options: RedactorOptions = {}) {
    this.headerNames = new Set([
      ...DEFAULT_SENSITIVE_HEADERS,
      ...[...(options.headers ?? [])].map((h) => h.toLowerCase()),
    ])
    this.add(options.secrets ?? [])
  }

  /**
   * Learns more secret values (e.g. a secret resolved only when a template uses it). Mutates this
   * redactor, so every client and report sharing it redacts them from now on.
   */
  add(secrets: Iterable<string>): void {
    // Longest first so that a secret containing another is replaced whole; very short values
    // would redact ordinary text ("a", "1"), so they are kept only when at least 4 characters.
    const next = new Set(this.values)
    for (const value of secrets) if (typeof value === 'string' && value.length >= 4) next.add(value)
    if (next.size !== this.values.length)
      this.values = [...next].sort((a, b) => b.length - a.length || a.localeCompare(b))
  }

  /** A redactor that also knows these secret values. */
  with(secrets: Iterable<string>): Redactor {
    return new Redactor({ secrets: [...this.values, ...secrets], headers: this.headerNames })
  }

  isSensitiveHeader(name: string): boolean {
    return this.headerNames.has(name.toLowerCase())
  }

  text(input: string): string {
    let out = input
    for (const value of this.values) if (out.includes(value)) out = out.split(value).join(REDACTED)
    return out
  }

  headerValue(name: string, value: string): string {
    if (!this.isSensitiveHeader(name)) return this.text(value)
    // Keep the auth scheme ("Bearer", "Basic"): it helps to read a finding and reveals nothing.
    const scheme = /^(Bearer|Basic|Token|Digest)\s+/i.exec(value)
    return scheme ? `${scheme[1]} ${REDACTED}` : REDACTED
  }

  headers(headers: Readonly<Record<string, string>>): Record<string, string> {
    const out: Record<string, string> = {}
    for (const [name, value] of Object.entries(headers)) out[name] = this.headerValue(name, value)
    return out
  }

  /** Deep-redacts every string in a JSON value. */
  json<T>(value: T): T {
    if (typeof value === 'string') return this.text(value) as T
    if (Array.isArray(value)) return value.map((v) => this.json(v)) as T
    if (value && typeof value === 'object') {
      const out: Record<string, unknown> = {}
      for (const [k, v] of Object.entries(value)) out[k] = this.json(v)
      return out as T
    }
    return value
  }
}
