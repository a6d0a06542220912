/** Errors of the selectors. Each class has a fixed `code`; messages begin with the location when there is one. */
import { CodedError } from '../plans/errors.js'

export class SelectorError extends CodedError {
  /** Exit code the CLI uses when this error ends the command: 2 usage, 3 infrastructure. */
  declare readonly exitCode: 2 | 3
  constructor(code: string, message: string, options?: { cause?: unknown; exitCode?: 2 | 3 }) {
    super(code, message, options)
  }
}

/** A diff could not be read or obtained from git. */
export class DiffError extends SelectorError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('VIGIL_DIFF', message, { ...options, exitCode: 2 })
  }
}

/** The Messages API failed (network, status after retries, timeout) or replied with something invalid. */
export class LlmError extends SelectorError {
  constructor(
    code: 'VIGIL_LLM_API' | 'VIGIL_LLM_INVALID_REPLY' | 'VIGIL_LLM_NO_KEY',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, { ...options, exitCode: code === 'VIGIL_LLM_NO_KEY' ? 2 : 3 })
  }
}

/** A selection record file is missing or does not match its schema. */
export class SelectionRecordError extends SelectorError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('VIGIL_SELECTION_RECORD', message, { ...options, exitCode: 2 })
  }
}
