import type { PlanDiagnostic } from './types.js'

/**
 * The base of every area's error classes (plans, engine, selectors, reporters): a fixed `code` and the exit
 * code the CLI uses. It lives here because plans/ is the layer every other area may import.
 */
export class CodedError extends Error {
  readonly code: string
  /** Exit code a CLI uses when this error ends the command. @default 2 */
  readonly exitCode: number
  constructor(code: string, message: string, options?: { cause?: unknown; exitCode?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.code = code
    this.exitCode = options?.exitCode ?? 2
  }
}

/** Errors of the plans area. Each class has a fixed `code`; messages begin with the location. */
export class PlansError extends CodedError {}

/**
 * `vigil.config.yaml` (or a section of it: the sandbox, the executor, the secrets) is unreadable or invalid:
 * exit 2. The message holds one `file:line:col message` line per problem; `diagnostics` carries them
 * structured when the plans area found them. The one config error of every area.
 */
export class ConfigError extends PlansError {
  readonly diagnostics: readonly PlanDiagnostic[]
  constructor(message: string, options?: { cause?: unknown; diagnostics?: readonly PlanDiagnostic[] }) {
    super('VIGIL_CONFIG', message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.diagnostics = options?.diagnostics ?? []
  }
}

/** A plan asked for by name does not exist. */
export class PlanNotFoundError extends PlansError {
  constructor(message: string) {
    super('VIGIL_PLAN_NOT_FOUND', message)
  }
}
