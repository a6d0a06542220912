/**
 * The executor interface: where a run's checks execute. `local` runs them in this process; `kubernetes`
 * runs each plan as a Job in the cluster (whose vigil runs them locally there). Registry:
 * engine/executors/index.ts, chosen by `executor.kind` in vigil.config.yaml or `--executor`.
 */
import type { LoadedConfig } from '../../plans/config.js'
import type { CheckBlock, Plan } from '../../plans/types.js'
import type { Redactor } from '../http/redact.js'
import type { SandboxAddresses } from '../clients/addresses.js'
import type { CheckEvent, CheckResult, PlanResult, TimingEntry } from '../verdict.js'
import type { AnyCheckKind, CheckMemory, CheckSandboxes, Variables } from './kind.js'
import type { LogAttributionOptions } from '../findings/logs.js'

/** The live hooks the executor calls (a subset of a reporter). Errors thrown by hooks are ignored. */
export interface ExecutorReporter {
  onCheckStart?(event: CheckEvent): unknown
  onCheckProgress?(event: CheckEvent): unknown
  onCheckEnd?(result: CheckResult): unknown
}

export interface ExecuteOptions {
  plans: readonly Plan[]
  /** The check kind registry. */
  kinds: Readonly<Record<string, AnyCheckKind>>
  sandboxes: CheckSandboxes
  /** The run's open clients by name (engine/clients/index.ts); each check gets those its kind needs. */
  clients: Readonly<Record<string, unknown>>
  /** Redacts findings, errors and progress notes. */
  redactor: Redactor
  /** Variables of one check: plan vars plus a fresh set of captures. */
  createVariables(plan: Plan, check: CheckBlock, seed: number): Variables
  /** Checks running at once. @default 8 */
  concurrency?: number
  /** Per-check timeout when the plan sets none. @default 60000 */
  checkTimeoutMs?: number
  /** Deadline of the whole execution, in milliseconds from now. @default none */
  deadlineMs?: number
  /** Run seed; each check gets `checkSeed(seed, plan, check id)`. @default 1 */
  seed?: number
  /** Aborting it (Ctrl-C) ends in-flight checks as errored "cancelled" and skips the rest. */
  signal?: AbortSignal
  reporter?: ExecutorReporter
  /** How the services' log lines are attributed to findings. @default 100 ms grace, 20 lines */
  logs?: LogAttributionOptions
  /** The run's sandbox addresses, to which a check's isolated service copies are admitted while it runs. */
  addresses?: SandboxAddresses
  /** The run's sampling of its services, which also samples each copy a check starts while it lives. @default none */
  copies?: CopyWatch
  /** A warm session's memory of one check (learned noise), handed to it as `ctx.memory`. @default none */
  memory?(plan: string, check: string): CheckMemory
  /**
   * Why a check is not run now (a warm session defers slow kinds): it ends as skipped with this note.
   * @default every check runs
   */
  defer?(plan: Plan, check: CheckBlock): string | undefined
}

/** A copy of a service one check started for itself (`ctx.isolate`), whose resources the run samples. */
export interface WatchedCopy {
  /** The side it is a copy on (`candidate`, `baseline`). */
  side: string
  service: string
  /** The check that started it. */
  plan: string
  check: string
  /** The leader of its process group. */
  pid: number
}

/** Samples each copy a check starts, from its start until the function it returns is called (before it stops). */
export interface CopyWatch {
  watchCopy(copy: WatchedCopy): () => void
}

export interface ExecuteResult {
  plans: PlanResult[]
  /** True when the signal or the deadline stopped the run early. */
  cancelled: boolean
  /** `plan:<name>` wall times. */
  timings: TimingEntry[]
}

/** What a run hands its executor: the checks to execute and what the run knows besides. */
export interface ExecutorRun extends ExecuteOptions {
  /** The run's config (an executor's own options sit in its `executor` section). */
  loaded: LoadedConfig
  /** The verdict's run id. */
  runId: string
  /** The run seed (`seed` of ExecuteOptions, always set here). */
  seed: number
  /** Deadline of the whole execution, in milliseconds from now. */
  deadlineMs: number
  /** Where the config's `{{env.NAME}}` and secrets are read. */
  env: Readonly<Record<string, string | undefined>>
  log(line: string): void
}

export interface Executor {
  /** Executes every check of `run.plans`; results come back in plan and check order. */
  execute(run: ExecutorRun): Promise<ExecuteResult>
}

/** Identity function for type inference, like `defineCheckKind`. */
export function defineExecutor(executor: Executor): Executor {
  return executor
}
