/**
 * The `sandbox` section of `vigil.config.yaml` (and its `baseline` overrides): pick the provider, merge,
 * validate against the provider's own JSON Schema with ajv, and report problems as `file:line:col key: message`.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import { closest, distance } from 'fastest-levenshtein'
import { ConfigDocument } from '../config-document.js'
import { ConfigError } from '../errors.js'
import { split } from '../../plans/pointer.js'
import type { JsonSchema } from '../../plans/types.js'
import type { SandboxProvider } from '../api/sandbox.js'

/** What the sandboxes need of a loaded config (`LoadedConfig` from plans/config.ts satisfies it). */
export interface SandboxConfigSource {
  /** The config file as found; empty or missing when running on defaults. */
  file: string
  /** Absolute directory of the config file (or the working directory without one). */
  dir: string
  config: {
    sandbox?: unknown
    baseline?: unknown
    allowHosts?: readonly string[]
    secrets?: unknown
    redact?: unknown
  }
}

export type ProviderRegistry = Readonly<Record<string, SandboxProvider<never>>>

/** A sandbox section resolved for one side. */
export interface ResolvedSandboxConfig {
  provider: string
  options: Record<string, unknown>
  /** Where each key path came from, to locate errors found later (e.g. a dependency cycle). */
  locate(keyPath: readonly (string | number)[]): string
}

const validators = new WeakMap<object, ValidateFunction>()
// verbose: errors carry their parent schema, to list the properties an unknown key could have been.
const ajv = new Ajv({ allErrors: true, strict: false, verbose: true })

/**
 * The options of `which` sandbox: the `sandbox` section, and for the baseline the `baseline` section merged
 * over it (objects merge key by key, anything else replaces, `null` removes a key).
 * @throws ConfigError naming the file, line, column and key path of every problem.
 */
export function resolveSandboxConfig(
  source: SandboxConfigSource,
  which: 'candidate' | 'baseline',
  providers: ProviderRegistry,
): ResolvedSandboxConfig {
  const doc = new ConfigDocument(source.file)
  const base = source.config.sandbox
  if (base === undefined || base === null) {
    throw new ConfigError(
      `${doc.where(['sandbox'])}sandbox: no sandbox is configured; add a \`sandbox:\` section with a provider (${Object.keys(providers).join(', ')})`,
    )
  }
  if (!isPlainObject(base)) throw new ConfigError(`${doc.where(['sandbox'])}sandbox: must be an object`)
  const overrides = which === 'baseline' ? source.config.baseline : undefined
  if (overrides !== undefined && overrides !== null && !isPlainObject(overrides)) {
    throw new ConfigError(`${doc.where(['baseline'])}baseline: must be an object`)
  }
  const options = overrides ? deepMerge(base, overrides) : structuredClone(base)
  // A key the baseline sets is reported where the baseline sets it.
  const locate = (keyPath: readonly (string | number)[]): string => {
    const inBaseline = overrides && doc.has(['baseline', ...keyPath])
    return doc.where([inBaseline ? 'baseline' : 'sandbox', ...keyPath])
  }
  const name = options.provider
  const provider = typeof name === 'string' ? providers[name] : undefined
  if (!provider) {
    const known = Object.keys(providers).sort()
    const hint = typeof name === 'string' ? suggestion(name, known) : ''
    throw new ConfigError(
      `${locate(['provider'])}sandbox.provider: ${name === undefined ? 'missing' : `unknown provider ${JSON.stringify(name)}`}; expected one of ${known.join(', ')}${hint}`,
    )
  }
  const validate = compile(provider.schema)
  if (!validate(options)) {
    const lines = describeErrors(validate.errors ?? []).map(
      ({ keyPath, display, message }) => `${locate(keyPath)}${['sandbox', ...display].join('.')}: ${message}`,
    )
    throw new ConfigError(lines.join('\n'))
  }
  return { provider: name as string, options, locate }
}

function compile(schema: JsonSchema): ValidateFunction {
  let fn = validators.get(schema)
  if (!fn) {
    fn = ajv.compile(schema)
    validators.set(schema, fn)
  }
  return fn
}

const KEYWORD_RANK: Record<string, number> = {
  additionalProperties: 0,
  required: 1,
  enum: 2,
  const: 2,
  pattern: 3,
}

/** Turns ajv's errors into at most five sentences, most specific first (ESLint-style rewriting). */
function describeErrors(
  errors: ErrorObject[],
): Array<{ keyPath: string[]; display: string[]; message: string }> {
  const withPath = errors
    .filter((e) => e.keyword !== 'oneOf' && e.keyword !== 'anyOf' && e.keyword !== 'if')
    .map((e) => {
      const display = split(e.instancePath)
      // An unknown key is located at the key itself; the sentence names it.
      const keyPath =
        e.keyword === 'additionalProperties' ? [...display, String(e.params.additionalProperty)] : display
      return { error: e, keyPath, display, key: e.instancePath }
    })
  // A value given in one of several accepted shapes fails the other shapes' `type`: only report a
  // type mismatch when nothing more specific was found for that value or inside it.
  const specific = withPath.filter((e) => e.error.keyword !== 'type').map((e) => e.key)
  const kept = withPath.filter(
    (e) =>
      e.error.keyword !== 'type' || !specific.some((key) => key === e.key || key.startsWith(`${e.key}/`)),
  )
  kept.sort(
    (a, b) =>
      b.display.length - a.display.length ||
      (KEYWORD_RANK[a.error.keyword] ?? 9) - (KEYWORD_RANK[b.error.keyword] ?? 9),
  )
  const seen = new Set<string>()
  const out: Array<{ keyPath: string[]; display: string[]; message: string }> = []
  for (const { error, keyPath, display } of kept) {
    const message = sentence(error)
    const id = `${display.join('.')}\0${message}`
    if (seen.has(id)) continue
    seen.add(id)
    out.push({ keyPath, display, message })
  }
  if (out.length === 0) out.push({ keyPath: [], display: [], message: 'is invalid' })
  return out.slice(0, 5)
}

function sentence(error: ErrorObject): string {
  const p = error.params as Record<string, unknown>
  // A schema may word its own failure (`errorMessage`), e.g. what a duration looks like.
  const own = (error.parentSchema as { errorMessage?: unknown } | undefined)?.errorMessage
  if (typeof own === 'string' && error.keyword !== 'additionalProperties' && error.keyword !== 'required')
    return own
  switch (error.keyword) {
    case 'additionalProperties': {
      const allowed = Object.keys((error.parentSchema as { properties?: object })?.properties ?? {}).sort()
      const name = String(p.additionalProperty)
      return `unknown property ${JSON.stringify(name)}${allowed.length ? `; expected one of ${allowed.join(', ')}` : ''}${suggestion(name, allowed)}`
    }
    case 'required':
      return `missing required property ${JSON.stringify(p.missingProperty)}`
    case 'enum':
      return `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`
    case 'type':
      return `must be ${String(p.type).replace(',', ' or ')}`
    default:
      return error.message ?? 'is invalid'
  }
}

function suggestion(name: string, known: readonly string[]): string {
  if (known.length === 0) return ''
  const best = closest(name, known)
  return distance(name, best) <= Math.max(2, Math.floor(best.length / 3)) ? ` (did you mean "${best}"?)` : ''
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function deepMerge(
  base: Record<string, unknown>,
  over: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = structuredClone(base)
  for (const [key, value] of Object.entries(over)) {
    if (value === null) delete out[key]
    else if (isPlainObject(value) && isPlainObject(out[key])) out[key] = deepMerge(out[key], value)
    else out[key] = structuredClone(value)
  }
  return out
}
