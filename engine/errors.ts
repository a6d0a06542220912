/** Errors of the engine and the CLI. Each class has a fixed `code`; messages begin with the location when there is one. */
import { CodedError } from '../plans/errors.js'

export class VigilError extends CodedError {}

/** Bad command-line input or config: exit 2. */
export class UsageError extends VigilError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('VIGIL_USAGE', message, { ...options, exitCode: 2 })
  }
}

/** The config file is missing or invalid: exit 2. */
export class ConfigError extends VigilError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('VIGIL_CONFIG', message, { ...options, exitCode: 2 })
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

export function isVigilError(error: unknown): error is VigilError {
  return error instanceof VigilError
}

/**
 * A known error of any area: each area has its own errors module (plans/ and selectors/ import
 * nothing of the engine), so the CLI recognises the shared shape — a `VIGIL_*` code and an exit code.
 */
export function isKnownError(error: unknown): error is Error & { code: string; exitCode: number } {
  if (error instanceof VigilError) return true
  const e = error as { code?: unknown; exitCode?: unknown } | null
  return (
    error instanceof Error &&
    typeof e?.code === 'string' &&
    e.code.startsWith('VIGIL_') &&
    typeof e.exitCode === 'number'
  )
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
