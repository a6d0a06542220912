/**
 * The one redaction module: replaces every form of a secret (secret-forms.ts) in everything that may
 * reach an output. It lives in plans/, the lowest layer, so the engine, the selectors and the reporters
 * all use this one.
 */
import { CodedError } from './errors.js'
import { escapeRegex, MIN_SECRET_LENGTH, secretForms, type SecretForms } from './secret-forms.js'

export { MIN_SECRET_LENGTH } from './secret-forms.js'

export const REDACTED = '[REDACTED]'

/** The marker vigil puts where it cuts a long value. */
const CUT = '…'
/** Characters of a base64, base64url or hex run, when the form a match belongs to is not known. */
const ANY_RUN = /[A-Za-z0-9+/_-]/

/** Header names whose values are always secrets. */
export const DEFAULT_SENSITIVE_HEADERS = [
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'x-auth-token',
] as const

/**
 * A secret too short to redact reliably. Callers that know the secret's name and where it is declared
 * check first and say so (engine/vars.ts); this is the guard that keeps a short value from being a silent hole.
 */
export class SecretTooShortError extends CodedError {
  constructor(message: string) {
    super('VIGIL_CONFIG', message, { exitCode: 2 })
  }
}

export interface RedactorOptions {
  /** Secret values (from `secrets:`, `{{secrets.NAME}}`, the API key); every form of each is replaced. */
  secrets?: Iterable<string>
  /** Extra header names to redact, case-insensitive. */
  headers?: Iterable<string>
}

/** Code points of a value, as the {@link MIN_SECRET_LENGTH} rule counts them. */
export function secretLength(value: string): number {
  return [...value].length
}

/**
 * The values long enough to redact, for credentials that are not declared secrets (an API key): one
 * shorter than {@link MIN_SECRET_LENGTH} is no real key (the API refuses it), and redacting it would hide
 * ordinary text. Declared secrets that short are a config error instead (engine/vars.ts).
 */
export function redactableKeys(values: Iterable<string | undefined>): string[] {
  const out: string[] = []
  for (const v of values) if (v !== undefined && secretLength(v) >= MIN_SECRET_LENGTH) out.push(v)
  return out
}

/**
 * Every secret value any redactor of this process has learned: the last resort for output that no run's
 * redactor sees (an unexpected error's message and stack, printed by the CLI as it exits).
 */
const learned = new Set<string>()

/** A redactor of every secret this process has learned so far, whichever redactor learned it. */
export function processRedactor(): Redactor {
  return new Redactor({ secrets: learned })
}

export class Redactor {
  private readonly byValue = new Map<string, SecretForms>()
  /** Every textual form of every secret, longest secret first, so that a secret containing another is replaced whole. */
  private textual: RegExp | undefined
  /** Every literal encoded form of every secret, longest first. */
  private encoded: RegExp | undefined
  /** The run of encoded characters around each literal encoded form. */
  private readonly runs = new Map<string, RegExp>()
  /** The start of a textual form right before a cut marker (`…`), and of an encoded form. */
  private cutTextual: RegExp | undefined
  private cutEncoded: RegExp | undefined
  private minLength = Infinity
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
   * redactor, so every client and report sharing it redacts them from now on. A value's forms are
   * compiled once. A value surrounded by whitespace is also learned trimmed (a service may trim it).
   * @throws SecretTooShortError for a value shorter than {@link MIN_SECRET_LENGTH} characters
   */
  add(secrets: Iterable<string>): void {
    let changed = false
    for (const value of secrets) {
      if (typeof value !== 'string' || this.byValue.has(value)) continue
      if (secretLength(value) < MIN_SECRET_LENGTH) {
        throw new SecretTooShortError(
          `a secret of ${secretLength(value)} characters cannot be redacted reliably; secrets must have at least ${MIN_SECRET_LENGTH}`,
        )
      }
      this.byValue.set(value, secretForms(value))
      learned.add(value)
      const trimmed = value.trim()
      if (trimmed !== value && secretLength(trimmed) >= MIN_SECRET_LENGTH && !this.byValue.has(trimmed))
        this.byValue.set(trimmed, secretForms(trimmed))
      changed = true
    }
    if (changed) this.refresh()
  }

  /** A redactor that also knows these secret values (the forms compiled so far are shared). */
  with(secrets: Iterable<string>): Redactor {
    const out = new Redactor({ headers: this.headerNames })
    for (const [value, forms] of this.byValue) out.byValue.set(value, forms)
    out.refresh()
    out.add(secrets)
    return out
  }

  /**
   * One expression for all textual forms and one for all encoded forms: one pass per text, whatever the
   * number of secrets (measured: about half the time of one search per secret, or per form).
   */
  private refresh(): void {
    const secrets = [...this.byValue.values()].sort(
      (a, b) => b.value.length - a.value.length || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0),
    )
    this.textual = new RegExp(secrets.map((s) => s.pattern).join('|'), 'g')
    this.runs.clear()
    for (const form of secrets.flatMap((s) => s.encoded)) this.runs.set(form.literal, form.run)
    const literals = [...this.runs.keys()].sort((a, b) => b.length - a.length)
    this.encoded = new RegExp(literals.map(escapeRegex).join('|'), 'g')
    this.cutTextual = new RegExp(`(?:${secrets.map((s) => s.cutPattern).join('|')})(?=${CUT})`, 'g')
    this.cutEncoded = new RegExp(`(?:${secrets.map((s) => s.cutEncoded).join('|')})(?=${CUT})`, 'g')
    this.minLength = Math.min(...secrets.map((s) => s.minLength))
  }

  /** How many secret values (with their trimmed variants) this redactor knows. */
  get size(): number {
    return this.byValue.size
  }

  isSensitiveHeader(name: string): boolean {
    return this.headerNames.has(name.toLowerCase())
  }

  /** The text with every form of every secret replaced by {@link REDACTED}. */
  text(input: string): string {
    if (input.length < this.minLength || !this.textual || !this.encoded) return input
    // `replace` with a global pattern starts at 0 and returns the text itself when nothing matches.
    let out = input.replace(this.textual, REDACTED)
    this.encoded.lastIndex = 0
    if (this.encoded.test(out)) out = this.redactEncodedRuns(out, this.encoded)
    // A value cut for a message before it was redacted leaves a secret's first characters before the cut.
    if (out.includes(CUT)) {
      out = out.replace(this.cutTextual!, REDACTED)
      this.cutEncoded!.lastIndex = 0
      if (this.cutEncoded!.test(out)) out = this.redactEncodedRuns(out, this.cutEncoded!)
    }
    return out
  }

  /**
   * Replaces each encoded run that holds a match of `pattern` (a literal encoded form, or the start of one
   * before a cut): the run, then any `=` padding.
   */
  private redactEncodedRuns(text: string, pattern: RegExp): string {
    pattern.lastIndex = 0
    let out = ''
    let from = 0
    for (let m = pattern.exec(text); m; m = pattern.exec(text)) {
      const run = this.runs.get(m[0]) ?? ANY_RUN
      let start = m.index
      while (start > from && run.test(text[start - 1]!)) start--
      let end = m.index + m[0].length
      while (end < text.length && run.test(text[end]!)) end++
      while (end < text.length && text[end] === '=') end++
      out += text.slice(from, start) + REDACTED
      from = end
      pattern.lastIndex = end
    }
    return out + text.slice(from)
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

  /** Deep-redacts every string in a JSON value, object keys included. Returns the value itself when nothing changed. */
  json<T>(value: T): T {
    if (!this.textual) return value
    return this.deep(value) as T
  }

  private deep(value: unknown): unknown {
    if (typeof value === 'string') return this.text(value)
    if (Array.isArray(value)) {
      let out: unknown[] | undefined
      for (let i = 0; i < value.length; i++) {
        const next = this.deep(value[i])
        if (next !== value[i]) (out ??= value.slice())[i] = next
      }
      return out ?? value
    }
    if (value && typeof value === 'object') {
      let changed = false
      const out: Record<string, unknown> = {}
      for (const [k, v] of Object.entries(value)) {
        const key = this.text(k)
        const next = this.deep(v)
        if (key !== k || next !== v) changed = true
        out[key] = next
      }
      return changed ? out : value
    }
    return value
  }
}
