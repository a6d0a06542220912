/** Executors: where a run's checks execute, keyed by the name `executor.kind` and `--executor` use. */
import type { Executor } from '../api/executor.js'
import kubernetes from './kubernetes/from-config.js'
import local from './local/executor.js'
import type { EXECUTOR_NAMES } from './names.js'

export const executors = { local, kubernetes } satisfies Record<(typeof EXECUTOR_NAMES)[number], Executor>
export type ExecutorName = keyof typeof executors

export type {
  Executor,
  ExecutorRun,
  ExecuteOptions,
  ExecuteResult,
  ExecutorReporter,
} from '../api/executor.js'
export { DEFAULT_SEED, checkSeed } from './local/executor.js'
export { CheckAbort, finishFindings, toFinding } from './local/check-runner.js'
