/** Errors of the engine and the CLI. Each class has a fixed `code`; messages begin with the location when there is one. */
import { CodedError } from '../plans/errors.js'

export { CodedError }
/** The config file is missing or invalid: exit 2. One class for every area (plans/errors.ts). */
export { ConfigError } from '../plans/errors.js'

export class VigilError extends CodedError {}

/** Bad command-line input or config: exit 2. */
export class UsageError extends VigilError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('VIGIL_USAGE', message, { ...options, exitCode: 2 })
  }
}

/** Infrastructure could not be set up (sandbox, worktree, patch): exit 3. */
export class InfrastructureError extends VigilError {
  constructor(
    message: string,
    readonly logTail: string[] = [],
    options?: { cause?: unknown; code?: string },
  ) {
    super(options?.code ?? 'VIGIL_INFRASTRUCTURE', message, { ...options, exitCode: 3 })
  }
}

/**
 * A known error of any area: every error class of vigil extends CodedError (plans/errors.ts, the layer
 * every area imports), so it has a fixed `code` and the exit code the CLI uses; its message explains it.
 */
export function isKnownError(error: unknown): error is CodedError {
  return error instanceof CodedError
}

/**
 * Thrown by a check kind that does not apply to this run (e.g. it measures against a baseline and the
 * run has none): the executor records the check as `skipped` with this message as its note.
 */
export class CheckSkipped extends VigilError {
  constructor(note: string) {
    super('VIGIL_CHECK_SKIPPED', note, { exitCode: 0 })
  }
}
