/**
 * Variables of a check: `{{name}}` from plan vars and captures, `{{env.NAME}}` (allow-listed in the
 * config's `env`), `{{secrets.NAME}}` (from the config's `secrets`, redacted everywhere),
 * `{{services.NAME.url}}`, `{{baseUrl}}` and `{{seed}}`.
 */
import { closest } from 'fastest-levenshtein'
import { MIN_SECRET_LENGTH, Redactor, redactableKeys, secretLength } from '../plans/redact.js'
import { ConfigError, VigilError } from './errors.js'
import { ConfigDocument } from './config-document.js'
import { fillPlaceholders, onlyPlaceholder } from './template.js'

/** A secret as the config declares it: inline (samples only) or read from an environment variable. */
export type SecretSpec = string | { value: string } | { env: string }

/** A template names a variable that does not exist, or one that may not be used. */
export class VariableError extends VigilError {
  constructor(message: string) {
    super('VIGIL_VARIABLE', message, { exitCode: 2 })
  }
}

export interface VariablesOptions {
  /** Plan vars; captures are added with `set()`. @default {} */
  vars?: Readonly<Record<string, unknown>>
  /** Names usable as `{{env.NAME}}`; others throw, so a plan cannot read arbitrary environment. @default [] */
  envAllow?: readonly string[]
  /** Where `{{env.NAME}}` and `{ env: NAME }` secrets are read. @default process.env */
  env?: Readonly<Record<string, string | undefined>>
  /** Secrets by name. @default {} */
  secrets?: Readonly<Record<string, SecretSpec>>
  /** Service name → base URL, for `{{services.NAME.url}}`. @default {} */
  services?: Readonly<Record<string, string>>
  /** The service `{{baseUrl}}` points at. @default the first service */
  defaultService?: string
  /** Seed of the check, as `{{seed}}`. */
  seed?: number
  /** Every secret value used is added here, so it is redacted from reports. */
  redactor?: Redactor
}

/** Resolves one secret; `undefined` with a reason when its environment variable is unset. */
export function resolveSecret(
  spec: SecretSpec,
  env: Readonly<Record<string, string | undefined>>,
): { value?: string; reason?: string } {
  if (typeof spec === 'string') return { value: spec }
  if ('value' in spec) return { value: spec.value }
  const value = env[spec.env]
  return value === undefined || value === ''
    ? { reason: `environment variable ${spec.env} is not set` }
    : { value }
}

/** A declared secret whose value resolved. */
export interface DeclaredSecret {
  name: string
  value: string
  /** Where the value comes from, e.g. `environment variable SHOP_ALICE_TOKEN` or `inline value`. */
  source: string
}

/** What secret declarations need of a loaded config (`LoadedConfig` from plans/config.ts satisfies it). */
export interface SecretsSource {
  /** The config file, for `file:line:col` in errors; empty when running on defaults. */
  file: string
  config: { secrets?: unknown; redact?: unknown; selector?: unknown }
}

/**
 * The config's `secrets` that resolve (inline, or from a set environment variable). Each must have at
 * least {@link MIN_SECRET_LENGTH} characters: a shorter value could neither be found reliably nor redacted
 * without hiding ordinary text, so it is a config error naming the secret, where it is declared and
 * where its value came from — never a silent hole in redaction.
 * @throws ConfigError listing every secret that is too short
 */
export function declaredSecrets(
  loaded: SecretsSource,
  env: Readonly<Record<string, string | undefined>> = process.env,
): DeclaredSecret[] {
  const declared = loaded.config.secrets
  if (!declared || typeof declared !== 'object' || Array.isArray(declared)) return []
  const out: DeclaredSecret[] = []
  const problems: string[] = []
  let doc: ConfigDocument | undefined
  for (const [name, spec] of Object.entries(declared as Record<string, unknown>)) {
    if (!isSecretSpec(spec)) continue
    const { value } = resolveSecret(spec, env)
    if (value === undefined) continue
    const inline = typeof spec === 'string' || 'value' in spec
    const source = inline ? 'inline value' : `environment variable ${spec.env}`
    if (secretLength(value) < MIN_SECRET_LENGTH) {
      doc ??= new ConfigDocument(loaded.file)
      const key = typeof spec === 'string' ? [] : [inline ? 'value' : 'env']
      problems.push(
        `${doc.where(['secrets', name, ...key])}secrets.${name}: the secret's value (${source}) has ${secretLength(value)} characters; a secret needs at least ${MIN_SECRET_LENGTH}, or it could not be redacted reliably from reports`,
      )
      continue
    }
    out.push({ name, value, source })
  }
  if (problems.length) throw new ConfigError(problems.join('\n'))
  return out
}

function isSecretSpec(spec: unknown): spec is SecretSpec {
  if (typeof spec === 'string') return true
  if (!spec || typeof spec !== 'object') return false
  const s = spec as { value?: unknown; env?: unknown }
  return typeof s.value === 'string' || typeof s.env === 'string'
}

/**
 * The redactor of a run, a sandbox session or a selection: the config's secrets ({@link declaredSecrets}),
 * the Messages API key (`selector.apiKeyEnv`, default `ANTHROPIC_API_KEY`: services inherit the
 * environment and may print it) and the config's extra header names.
 * @throws ConfigError when a secret is too short
 */
export function configRedactor(
  loaded: SecretsSource,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Redactor {
  const { redact, selector } = loaded.config as {
    redact?: { headers?: unknown }
    selector?: { apiKeyEnv?: unknown }
  }
  const headers = Array.isArray(redact?.headers) ? redact.headers.map(String) : []
  const keyEnv = typeof selector?.apiKeyEnv === 'string' ? selector.apiKeyEnv : 'ANTHROPIC_API_KEY'
  return new Redactor({
    secrets: [...declaredSecrets(loaded, env).map((s) => s.value), ...redactableKeys([env[keyEnv]])],
    headers,
  })
}

/** All secret values that resolve, for a run's Redactor. */
export function secretValues(
  secrets: Readonly<Record<string, SecretSpec>>,
  env: Readonly<Record<string, string | undefined>> = process.env,
): string[] {
  const out: string[] = []
  for (const spec of Object.values(secrets)) {
    const { value } = resolveSecret(spec, env)
    if (value !== undefined) out.push(value)
  }
  return out
}

function stringify(value: unknown): string {
  if (typeof value === 'string') return value
  if (value === undefined) return ''
  if (typeof value === 'object') return JSON.stringify(value)
  return String(value)
}

/** The run's implementation of the api's `Variables` (structurally: this module sits below engine/api/). */
export class Variables {
  private readonly store: Map<string, unknown>
  private readonly options: VariablesOptions
  private readonly env: Readonly<Record<string, string | undefined>>

  constructor(options: VariablesOptions = {}, store?: Map<string, unknown>) {
    this.options = options
    this.env = options.env ?? process.env
    this.store = store ?? new Map(Object.entries(options.vars ?? {}))
  }

  /**
   * A view on other services (e.g. the baseline sandbox) that shares this one's vars and captures.
   */
  scoped(services: Readonly<Record<string, string>>, defaultService?: string): Variables {
    return new Variables({ ...this.options, services, defaultService }, this.store)
  }

  /**
   * An independent copy for one sandbox (a check that runs its steps on both sides): it starts with this
   * one's vars and captures, resolves service URLs against `services`, and keeps its own captures.
   */
  fork(services: Readonly<Record<string, string>>, defaultService?: string): Variables {
    return new Variables({ ...this.options, services, defaultService }, new Map(this.store))
  }

  get(name: string): unknown {
    return this.store.get(name)
  }

  set(name: string, value: unknown): void {
    this.store.set(name, value)
  }

  /** Names of plan vars and captures, sorted. */
  names(): string[] {
    return [...this.store.keys()].sort()
  }

  render<T>(value: T): T {
    if (typeof value === 'string') return this.renderString(value) as T
    if (Array.isArray(value)) return value.map((v) => this.render(v)) as T
    if (value && typeof value === 'object') {
      const out: Record<string, unknown> = {}
      // Keys are rendered too: `json: { "/items/{{i}}": 1 }` is a natural thing to write.
      for (const [k, v] of Object.entries(value)) out[this.renderString(k, true) as string] = this.render(v)
      return out as T
    }
    return value
  }

  /** Value of one variable reference (the part between the braces); throws when unknown. */
  resolve(ref: string): unknown {
    if (ref.startsWith('env.')) return this.resolveEnv(ref.slice(4))
    if (ref.startsWith('secrets.')) return this.resolveSecretRef(ref.slice(8))
    if (ref.startsWith('services.')) return this.resolveService(ref)
    if (ref === 'baseUrl') {
      const services = this.options.services ?? {}
      const name = this.options.defaultService ?? Object.keys(services)[0]
      if (name === undefined || services[name] === undefined)
        throw new VariableError('{{baseUrl}}: no sandbox service')
      return services[name]
    }
    if (ref === 'seed' && this.options.seed !== undefined && !this.store.has('seed')) return this.options.seed
    if (this.store.has(ref)) return this.store.get(ref)
    // `{{order.id}}` walks into an object variable.
    const [head, ...rest] = ref.split('.')
    if (rest.length && this.store.has(head!)) {
      let current: unknown = this.store.get(head!)
      for (const key of rest) {
        if (current === null || typeof current !== 'object' || !(key in current)) {
          throw new VariableError(`{{${ref}}}: variable "${head}" has no property path "${rest.join('.')}"`)
        }
        current = (current as Record<string, unknown>)[key]
      }
      return current
    }
    const known = this.names()
    const hint = known.length ? closest(ref, known) : undefined
    throw new VariableError(
      `{{${ref}}}: unknown variable "${ref}"` +
        (hint ? `; did you mean "${hint}"?` : '') +
        (known.length ? ` (known: ${known.join(', ')})` : ' (no plan vars or captures are defined)'),
    )
  }

  private renderString(input: string, asKey = false): unknown {
    const only = asKey ? undefined : onlyPlaceholder(input)
    if (only !== undefined) return this.resolve(only)
    return fillPlaceholders(input, (ref) => stringify(this.resolve(ref)))
  }

  private resolveEnv(name: string): string {
    const allow = this.options.envAllow ?? []
    if (!allow.includes(name)) {
      throw new VariableError(
        `{{env.${name}}}: environment variable ${name} is not allow-listed; add it to "env" in vigil.config.yaml` +
          (allow.length ? ` (allowed: ${[...allow].sort().join(', ')})` : ''),
      )
    }
    const value = this.env[name]
    if (value === undefined)
      throw new VariableError(`{{env.${name}}}: environment variable ${name} is not set`)
    return value
  }

  private resolveSecretRef(name: string): string {
    const secrets = this.options.secrets ?? {}
    const spec = Object.hasOwn(secrets, name) ? secrets[name] : undefined
    if (spec === undefined) {
      const known = Object.keys(secrets).sort()
      throw new VariableError(
        `{{secrets.${name}}}: unknown secret "${name}"` +
          (known.length ? ` (configured: ${known.join(', ')})` : ''),
      )
    }
    const { value, reason } = resolveSecret(spec, this.env)
    if (value === undefined)
      throw new VariableError(`{{secrets.${name}}}: secret "${name}" is unavailable: ${reason}`)
    if (secretLength(value) < MIN_SECRET_LENGTH)
      throw new VariableError(
        `{{secrets.${name}}}: secret "${name}" has ${secretLength(value)} characters; a secret needs at least ${MIN_SECRET_LENGTH}, or it could not be redacted reliably from reports`,
      )
    this.options.redactor?.add([value])
    return value
  }

  private resolveService(ref: string): string {
    const match = /^services\.([\w-]+)\.url$/.exec(ref)
    const services = this.options.services ?? {}
    if (!match) throw new VariableError(`{{${ref}}}: expected {{services.NAME.url}}`)
    const url = services[match[1]!]
    if (url === undefined) {
      throw new VariableError(
        `{{${ref}}}: unknown service "${match[1]}" (services: ${Object.keys(services).sort().join(', ') || 'none'})`,
      )
    }
    return url
  }
}
