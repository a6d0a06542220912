/** `--executor kubernetes` from a run's loaded config: resolves the executor options and secrets, then runs the Jobs. */
import type { LoadedConfig } from '../../../plans/config.js'
import type { Plan } from '../../../plans/types.js'
import { defineExecutor, type ExecuteResult, type ExecutorReporter } from '../../api/executor.js'
import type { Sandbox } from '../../api/sandbox.js'
import { executeAsJobs } from './executor.js'
import { resolveJobOptions } from './options.js'

export interface ClusterRunInput {
  loaded: LoadedConfig
  plans: readonly Plan[]
  sandboxes: { candidate: Sandbox; baseline?: Sandbox }
  runId: string
  seed: number
  deadlineMs: number
  env: Readonly<Record<string, string | undefined>>
  signal?: AbortSignal
  reporter?: ExecutorReporter
  log?(line: string): void
}

export function executeInCluster(input: ClusterRunInput): Promise<ExecuteResult> {
  const { config } = input.loaded
  const options = resolveJobOptions(config.executor, input.loaded.file)
  const secrets: Record<string, string> = {}
  for (const [name, source] of Object.entries(config.secrets)) {
    const value = source.value ?? (source.env ? input.env[source.env] : undefined)
    if (value !== undefined) secrets[name] = value
  }
  const env: Record<string, string> = {}
  for (const name of config.env) {
    const value = input.env[name]
    if (value !== undefined) env[name] = value
  }
  return executeAsJobs({
    plans: input.plans,
    sandboxes: input.sandboxes,
    options,
    runId: input.runId.replace(/-/g, '').slice(0, 8),
    seed: input.seed,
    config: {
      plans: config.plans,
      concurrency: config.concurrency,
      checkTimeoutMs: config.checkTimeoutMs,
      timeoutMs: config.timeoutMs,
      env: config.env,
      redactHeaders: config.redact.headers,
      allowHosts: config.allowHosts,
    },
    secrets,
    env,
    deadlineMs: input.deadlineMs,
    signal: input.signal,
    reporter: input.reporter,
    log: input.log,
  })
}

/** `kubernetes`: each plan runs as a Job in the candidate's cluster. */
export default defineExecutor({ execute: executeInCluster })
