/** Errors of the contract check's inputs (schemas, OpenAPI documents). Each has a fixed code; messages begin with the file. */
import { VigilError } from '../../errors.js'

/** A JSON Schema or OpenAPI file cannot be read, parsed or resolved. The check errors (it did not run). */
export class ContractSourceError extends VigilError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('VIGIL_CONTRACT_SOURCE', message, { ...options, exitCode: 2 })
  }
}

/** A plan's contract block asks for something that does not exist (an unknown operation, a bad pointer). */
export class ContractUsageError extends VigilError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('VIGIL_CONTRACT_USAGE', message, { ...options, exitCode: 2 })
  }
}
