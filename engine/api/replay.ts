/** What a kind's `replay` throws when an earlier run's finding no longer fits the plan's block. */
import { VigilError } from '../errors.js'

/** The finding cannot be located in the check as it is now (a step renamed, a request removed). */
export class ReplayError extends VigilError {
  constructor(message: string) {
    super('VIGIL_REPRODUCE', message, { exitCode: 2 })
  }
}
