import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { validatorFor } from './ajv.js'
import { compareDiagnostics, formatDiagnostic } from './diagnostics.js'
import { toPosix } from './discover.js'
import { parseDuration } from './duration.js'
import { ConfigError } from './errors.js'
import configSchema from './schema/config.json' with { type: 'json' }
import { translateErrors } from './schema-errors.js'
import { LineIndex } from './text.js'
import type { JsonSchema, PlanDiagnostic } from './types.js'
import { locate, parseYaml } from './yaml.js'

/** The config file looked for in the working directory when no path is given. */
export const CONFIG_FILE = 'vigil.config.yaml'

/** Where a `{{secrets.NAME}}` value comes from: inline (samples only) or an environment variable. */
export type SecretSource = { value: string; env?: never } | { env: string; value?: never }

/** `vigil.config.yaml` with defaults applied (schema: plans/schema/config.json). */
export interface VigilConfig {
  /** Folders, files or globs of plans, relative to the config's folder. @default ['plans'] */
  plans: string[]
  /** Checks run at once. @default 8 */
  concurrency: number
  /** Deadline of the whole run, as written. @default '10m' */
  timeout: string | number
  /** `timeout` in milliseconds. @default 600000 */
  timeoutMs: number
  /** Default per-check timeout, as written; a plan's `timeout` overrides it. @default '60s' */
  checkTimeout: string | number
  /** `checkTimeout` in milliseconds. @default 60000 */
  checkTimeoutMs: number
  /** Environment variables plans may read as `{{env.NAME}}`. @default [] */
  env: string[]
  /** `{{secrets.NAME}}` sources; values are redacted from every report. @default {} */
  secrets: Record<string, SecretSource>
  /** Extra header names to redact. @default { headers: [] } */
  redact: { headers: string[] }
  /** Hosts besides loopback that sandboxes and traffic may use. @default [] */
  allowHosts: string[]
  /**
   * Folders (relative to the config's folder) whose files plans may read besides the project's: the git
   * repository holding the config, else its folder. @default []
   */
  allowFiles: string[]
  /** The system under test; its provider validates the rest. Absent when the config has none. */
  sandbox?: { provider: string; default?: string; services?: Record<string, unknown>; [key: string]: unknown }
  /** Overrides merged over `sandbox` for the baseline. @default {} */
  baseline: Record<string, unknown>
  /** Selector settings (owned by the selectors). @default {} */
  selector: Record<string, unknown>
  /** Where checks run. @default { kind: 'local' } */
  executor: { kind: string; [key: string]: unknown }
  /** Kubernetes settings. @default {} */
  kubernetes: Record<string, unknown>
  /** How the services' log lines are attached to findings. */
  logs: LogsConfig
}

/** The `logs:` section: which of a service's log lines belong to a finding. */
export interface LogsConfig {
  /** A header that correlates requests with log lines (`x-request-id`): sent with every request. @default none */
  requestId?: string
  /** Lines written this long after a request's end still belong to it, in milliseconds. @default 100 */
  graceMs: number
  /** Lines kept per service and finding. @default 20 */
  lines: number
}

export interface LoadedConfig {
  /** Absolute path of the config file (where it would be when `found` is false). */
  file: string
  /** Absolute folder of the config: plan roots and sandbox paths are relative to it. */
  dir: string
  /** False when no path was given and the working directory has no vigil.config.yaml (defaults apply). */
  found: boolean
  config: VigilConfig
}

/**
 * Reads and validates `vigil.config.yaml`. Without `configPath` it looks in `cwd` and falls back to the
 * defaults when there is none; a given path must exist.
 * @throws ConfigError whose message has one `file:line:col message` line per problem.
 */
export async function loadConfig(configPath?: string, cwd: string = process.cwd()): Promise<LoadedConfig> {
  const file = path.resolve(cwd, configPath ?? CONFIG_FILE)
  const shown = toPosix(path.relative(cwd, file)) || CONFIG_FILE
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (configPath === undefined && code === 'ENOENT') {
      return { file, dir: path.dirname(file), found: false, config: withDefaults({}) }
    }
    const reason =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder' : (error as Error).message
    const d = diagnostic(shown, 1, 1, 'unreadable', `cannot read config: ${reason}`)
    throw new ConfigError(formatDiagnostic(d), { cause: error, diagnostics: [d] })
  }
  const raw = parseConfigText(text, shown)
  return { file, dir: path.dirname(file), found: true, config: withDefaults(raw) }
}

/** Parses and validates config text; returns the raw mapping or throws ConfigError. */
export function parseConfigText(text: string, shown: string): Record<string, unknown> {
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
  const index = new LineIndex(source)
  const at = (offset: number, code: string, message: string) => {
    const { line, column } = index.position(offset)
    return diagnostic(shown, line, column, code, message)
  }
  const yaml = parseYaml(source)
  const problems: PlanDiagnostic[] = yaml.errors.map((e) =>
    at(e.offset, 'invalid-yaml', `invalid YAML: ${e.message}`),
  )
  const value = yaml.errors.length === 0 ? (yaml.value ?? {}) : undefined
  if (value !== undefined) {
    const validate = validatorFor(configSchema as JsonSchema)
    if (!validate(value)) {
      for (const issue of translateErrors(validate.errors ?? [], 'config')) {
        const where = locate(yaml.doc, issue.pointer)
        const offset =
          issue.pointer === '' && issue.anchor === 'container'
            ? 0
            : issue.anchor === 'value'
              ? where.value
              : (where.key ?? where.value)
        problems.push(at(offset, issue.code, issue.message))
      }
    }
  }
  if (problems.length > 0) {
    problems.sort(compareDiagnostics)
    throw new ConfigError(problems.map(formatDiagnostic).join('\n'), { diagnostics: problems })
  }
  return value as Record<string, unknown>
}

function diagnostic(
  file: string,
  line: number,
  column: number,
  code: string,
  message: string,
): PlanDiagnostic {
  return { file, line, column, severity: 'error', code, message }
}

function withDefaults(raw: Record<string, unknown>): VigilConfig {
  const timeout = (raw.timeout as string | number | undefined) ?? '10m'
  const checkTimeout = (raw.checkTimeout as string | number | undefined) ?? '60s'
  const plans = raw.plans === undefined ? ['plans'] : [raw.plans as string | string[]].flat()
  const redact = (raw.redact as { headers?: string[] } | undefined) ?? {}
  return {
    ...(raw as Partial<VigilConfig>),
    plans,
    concurrency: (raw.concurrency as number | undefined) ?? 8,
    timeout,
    timeoutMs: parseDuration(timeout),
    checkTimeout,
    checkTimeoutMs: parseDuration(checkTimeout),
    env: (raw.env as string[] | undefined) ?? [],
    secrets: (raw.secrets as Record<string, SecretSource> | undefined) ?? {},
    redact: { ...redact, headers: redact.headers ?? [] },
    allowHosts: (raw.allowHosts as string[] | undefined) ?? [],
    allowFiles: (raw.allowFiles as string[] | undefined) ?? [],
    baseline: (raw.baseline as Record<string, unknown> | undefined) ?? {},
    selector: (raw.selector as Record<string, unknown> | undefined) ?? {},
    executor: { kind: 'local', ...((raw.executor as Record<string, unknown> | undefined) ?? {}) },
    kubernetes: (raw.kubernetes as Record<string, unknown> | undefined) ?? {},
    logs: logsConfig(raw.logs as { requestId?: string; grace?: string | number; lines?: number } | undefined),
  }
}

function logsConfig(raw: { requestId?: string; grace?: string | number; lines?: number } = {}): LogsConfig {
  const out: LogsConfig = {
    graceMs: raw.grace === undefined ? 100 : parseDuration(raw.grace),
    lines: raw.lines ?? 20,
  }
  if (raw.requestId !== undefined) out.requestId = raw.requestId.toLowerCase()
  return out
}
