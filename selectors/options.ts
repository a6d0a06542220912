/**
 * Selector options from, in order of precedence: command-line flags, the environment
 * (`ANTHROPIC_API_KEY`, `ANTHROPIC_BASE_URL`, `VIGIL_MODEL`), the config's `selector:` block, defaults.
 * The selector itself: `--selector`, else `selector.default`, else `hybrid` when an API key is present and
 * `rules` otherwise; the record says which of these chose it.
 */
import { parseDuration } from '../plans/duration.js'
import { SelectorError } from './errors.js'
import type { SelectorOptions } from './types.js'

export type SelectorName = 'rules' | 'llm' | 'hybrid'
export const SELECTOR_NAMES: readonly SelectorName[] = ['hybrid', 'llm', 'rules']

/** The `selector:` block of vigil.config.yaml. */
export interface SelectorConfig {
  /** Selector when `--selector` is not given. @default hybrid with an API key, else rules */
  default?: SelectorName
  /** @default {@link DEFAULT_MODEL} */
  model?: string
  /** @default 0.2 */
  threshold?: number
  /** @default the SDK's */
  baseURL?: string
  /** Environment variable holding the API key. @default 'ANTHROPIC_API_KEY' */
  apiKeyEnv?: string
  /** Per-request timeout. @default 60s */
  timeout?: string | number
  /** Deadline of the whole selection, retries and waits included; then it degrades. @default 60s */
  deadline?: string | number
  /** @default 2 */
  maxRetries?: number
  /** @default 12000 */
  diffBudgetTokens?: number
  /** @default 150 */
  batchSize?: number
  /** @default 4 */
  concurrency?: number
  /** @default 4096 */
  maxTokens?: number
  /** false disables the result cache. @default true */
  cache?: boolean
}

export interface SelectorFlags {
  selector?: string
  model?: string
  threshold?: number
  /** Cache folder; overrides the config folder's `.vigil/cache/selections`. */
  cacheDir?: string
  /** false: `--no-cache`. */
  cache?: boolean
  /** `--selector-deadline`: deadline of the whole selection, e.g. `30s`. */
  deadline?: string
}

/**
 * A current Sonnet-class model of the installed SDK's model list, and in none of its deprecation lists
 * (test/selectors/model.test.ts reads them from the SDK).
 */
export const DEFAULT_MODEL = 'claude-sonnet-5-5'

/** @default deadline of a whole selection, in ms. */
export const DEFAULT_DEADLINE_MS = 60_000

export interface ResolvedSelector {
  selector: SelectorName
  /** e.g. `--selector`, `config selector.default`, `default: API key present`. */
  choice: string
  options: SelectorOptions
}

export function resolveSelector(input: {
  config?: unknown
  env: NodeJS.ProcessEnv
  flags?: SelectorFlags
  /** Cache folder used unless flags or config say otherwise. */
  defaultCacheDir?: string
  /** Prefix for config error messages, e.g. `vigil.config.yaml`. */
  where?: string
}): ResolvedSelector {
  const where = input.where ?? 'vigil.config.yaml'
  const config = checkConfig(input.config, where)
  const flags = input.flags ?? {}
  const env = input.env
  const apiKey = env[config.apiKeyEnv ?? 'ANTHROPIC_API_KEY'] || undefined
  const options: SelectorOptions = {
    threshold: flags.threshold ?? config.threshold ?? 0.2,
    model: flags.model || env.VIGIL_MODEL || config.model || DEFAULT_MODEL,
    timeoutMs: config.timeout === undefined ? 60_000 : duration(config.timeout, `${where}: selector.timeout`),
    deadlineMs:
      flags.deadline !== undefined
        ? positive(flags.deadline, `--selector-deadline ${flags.deadline}`, 'VIGIL_USAGE')
        : config.deadline !== undefined
          ? positive(config.deadline, `${where}: selector.deadline`, 'VIGIL_CONFIG')
          : DEFAULT_DEADLINE_MS,
    maxRetries: config.maxRetries ?? 2,
    diffBudgetTokens: config.diffBudgetTokens ?? 12_000,
    batchSize: config.batchSize ?? 150,
    concurrency: config.concurrency ?? 4,
    maxTokens: config.maxTokens ?? 4096,
  }
  if (!(options.threshold >= 0 && options.threshold <= 1))
    throw new SelectorError('VIGIL_USAGE', `--threshold ${options.threshold}: expected a number from 0 to 1`)
  if (apiKey) options.apiKey = apiKey
  const baseURL = env.ANTHROPIC_BASE_URL || config.baseURL
  if (baseURL) options.baseURL = baseURL
  const cacheDir =
    flags.cache === false || config.cache === false ? undefined : (flags.cacheDir ?? input.defaultCacheDir)
  if (cacheDir) options.cacheDir = cacheDir

  if (flags.selector !== undefined) {
    if (!SELECTOR_NAMES.includes(flags.selector as SelectorName))
      throw new SelectorError(
        'VIGIL_USAGE',
        `--selector ${flags.selector}: expected one of ${SELECTOR_NAMES.join(', ')}`,
      )
    return { selector: flags.selector as SelectorName, choice: '--selector', options }
  }
  if (config.default) return { selector: config.default, choice: 'config selector.default', options }
  return apiKey
    ? { selector: 'hybrid', choice: 'default: API key present', options }
    : { selector: 'rules', choice: 'default: no API key', options }
}

function duration(value: string | number, where: string): number {
  try {
    return parseDuration(value)
  } catch (error) {
    throw new SelectorError('VIGIL_CONFIG', `${where}: ${(error as Error).message}`)
  }
}

/** A duration above zero: a zero deadline could only ever degrade. */
function positive(value: string | number, where: string, code: 'VIGIL_USAGE' | 'VIGIL_CONFIG'): number {
  let ms: number
  try {
    ms = parseDuration(value)
  } catch (error) {
    throw new SelectorError(code, `${where}: ${(error as Error).message}`)
  }
  if (ms <= 0) throw new SelectorError(code, `${where}: expected a duration above zero, like 60s`)
  return ms
}

const NUMBER_KEYS = [
  'threshold',
  'maxRetries',
  'diffBudgetTokens',
  'batchSize',
  'concurrency',
  'maxTokens',
] as const
const STRING_KEYS = ['model', 'baseURL', 'apiKeyEnv'] as const
const KNOWN = new Set<string>([...NUMBER_KEYS, ...STRING_KEYS, 'default', 'timeout', 'deadline', 'cache'])

/** The config block is an open object in the config schema; its keys are checked here. */
function checkConfig(value: unknown, where: string): SelectorConfig {
  if (value === undefined || value === null) return {}
  const fail = (message: string) => new SelectorError('VIGIL_CONFIG', `${where}: selector.${message}`)
  if (typeof value !== 'object' || Array.isArray(value))
    throw new SelectorError('VIGIL_CONFIG', `${where}: selector must be an object`)
  const config = value as Record<string, unknown>
  for (const key of Object.keys(config)) {
    if (!KNOWN.has(key))
      throw fail(`${key}: unknown property; expected one of ${[...KNOWN].sort().join(', ')}`)
  }
  for (const key of NUMBER_KEYS) {
    const v = config[key]
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0))
      throw fail(`${key} must be a number >= 0`)
  }
  for (const key of STRING_KEYS) {
    if (config[key] !== undefined && typeof config[key] !== 'string') throw fail(`${key} must be a string`)
  }
  if (config.default !== undefined && !SELECTOR_NAMES.includes(config.default as SelectorName))
    throw fail(`default must be one of ${SELECTOR_NAMES.join(', ')}`)
  if (config.cache !== undefined && typeof config.cache !== 'boolean')
    throw fail('cache must be true or false')
  if (
    config.timeout !== undefined &&
    typeof config.timeout !== 'string' &&
    typeof config.timeout !== 'number'
  )
    throw fail('timeout must be a duration such as 60s')
  if (
    config.deadline !== undefined &&
    typeof config.deadline !== 'string' &&
    typeof config.deadline !== 'number'
  )
    throw fail('deadline must be a duration such as 60s')
  return config as SelectorConfig
}
