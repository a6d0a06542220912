/**
 * The `sandbox` section of `vigil.config.yaml` (and its `baseline` overrides): pick the provider, merge,
 * validate against the provider's own JSON Schema, and report problems as `file:line:col message`.
 */
import { validatorFor } from '../../plans/ajv.js'
import { ConfigDocument } from '../config-document.js'
import { ConfigError } from '../errors.js'
import { split } from '../../plans/pointer.js'
import { didYouMean, translateErrors } from '../../plans/schema-errors.js'
import type { SandboxProvider } from '../api/sandbox.js'
import type { DependencyKind } from '../api/dependency.js'

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
export type DependencyKindRegistry = Readonly<Record<string, DependencyKind<never>>>

/** One entry of a sandbox's `dependencies:`, validated against its kind's schema. */
export interface ResolvedDependency {
  name: string
  kind: string
  options: Record<string, unknown>
}

/** A sandbox section resolved for one side. */
export interface ResolvedSandboxConfig {
  provider: string
  options: Record<string, unknown>
  /** The sandbox's brokers and databases (`dependencies:`), in name order; not part of `options`. */
  dependencies: ResolvedDependency[]
  /** Where each key path came from, to locate errors found later (e.g. a dependency cycle). */
  locate(keyPath: readonly (string | number)[]): string
}

/**
 * The options of `which` sandbox: the `sandbox` section, and for the baseline the `baseline` section merged
 * over it (objects merge key by key, anything else replaces, `null` removes a key).
 * @throws ConfigError naming the file, line, column and key path of every problem.
 */
export function resolveSandboxConfig(
  source: SandboxConfigSource,
  which: 'candidate' | 'baseline',
  providers: ProviderRegistry,
  dependencyKinds: DependencyKindRegistry = {},
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
    const best = typeof name === 'string' ? didYouMean(name, known) : undefined
    const hint = best ? ` (did you mean "${best}"?)` : ''
    throw new ConfigError(
      `${locate(['provider'])}sandbox.provider: ${name === undefined ? 'missing' : `unknown provider ${JSON.stringify(name)}`}; expected one of ${known.join(', ')}${hint}`,
    )
  }
  const dependencies = resolveDependencies(options.dependencies, dependencyKinds, locate)
  delete options.dependencies
  if (dependencies.length > 0 && provider.dependencies?.refused) {
    throw new ConfigError(
      `${locate(['dependencies'])}sandbox.dependencies: ${provider.dependencies.refused} (${dependencies.map((d) => d.name).join(', ')})`,
    )
  }
  const validate = validatorFor(provider.schema)
  if (!validate(options)) {
    // Worded as every other problem of the config file is (plans/schema-errors.ts), at the key or value.
    const lines = translateErrors(validate.errors ?? [], 'config', '/sandbox').map(
      (issue) => `${locate(split(issue.pointer))}${issue.message}`,
    )
    throw new ConfigError(lines.join('\n'))
  }
  return { provider: name as string, options, dependencies, locate }
}

const DEPENDENCY_NAME = /^[A-Za-z][A-Za-z0-9_-]*$/

/** Validates `dependencies:` entry by entry against the schema of the kind each names. */
function resolveDependencies(
  value: unknown,
  kinds: DependencyKindRegistry,
  locate: (keyPath: readonly (string | number)[]) => string,
): ResolvedDependency[] {
  if (value === undefined || value === null) return []
  if (!isPlainObject(value)) {
    throw new ConfigError(
      `${locate(['dependencies'])}sandbox.dependencies: must be a mapping of names to dependencies`,
    )
  }
  const known = Object.keys(kinds).sort()
  const out: ResolvedDependency[] = []
  for (const name of Object.keys(value).sort()) {
    const entry = value[name]
    const at = ['dependencies', name]
    const label = `sandbox.dependencies.${name}`
    if (!DEPENDENCY_NAME.test(name)) {
      throw new ConfigError(
        `${locate(at)}${label}: a dependency's name is letters, digits, - and _, starting with a letter`,
      )
    }
    if (!isPlainObject(entry)) {
      throw new ConfigError(`${locate(at)}${label}: must be a mapping with a kind (${known.join(', ')})`)
    }
    const kindName = entry.kind
    const kind = typeof kindName === 'string' && Object.hasOwn(kinds, kindName) ? kinds[kindName] : undefined
    if (!kind) {
      const best = typeof kindName === 'string' ? didYouMean(kindName, known) : undefined
      const hint = best ? ` (did you mean "${best}"?)` : ''
      throw new ConfigError(
        `${locate([...at, 'kind'])}${label}.kind: ${kindName === undefined ? 'missing' : `unknown dependency kind ${JSON.stringify(kindName)}`}; expected one of ${known.join(', ')}${hint}`,
      )
    }
    const validate = validatorFor(kind.meta.schema)
    if (!validate(entry)) {
      const lines = translateErrors(validate.errors ?? [], 'config', `/sandbox/dependencies/${name}`).map(
        (issue) => `${locate([...at, ...split(issue.pointer)])}${issue.message}`,
      )
      throw new ConfigError(lines.join('\n'))
    }
    out.push({ name, kind: kindName as string, options: entry })
  }
  return out
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
