/** Errors of the adversarial area. Each has a fixed code; messages begin with the location when there is one. */
import { VigilError } from '../../errors.js'

/** A block asks for something that does not exist or cannot work (duplicate target names, a non-relative path). */
export class AdversarialUsageError extends VigilError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('VIGIL_ADVERSARIAL_USAGE', message, { ...options, exitCode: 2 })
  }
}

/** The service was unhealthy before any case was sent: nothing the cases found could be trusted. */
export class AdversarialHealthError extends VigilError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('VIGIL_ADVERSARIAL_UNHEALTHY', message, { ...options, exitCode: 3 })
  }
}

/** `vigil adversary suggest` could not get usable cases: no key, an API failure, or a reply that fails validation. */
export class SuggestError extends VigilError {
  constructor(
    code: 'VIGIL_SUGGEST_NO_KEY' | 'VIGIL_SUGGEST_API' | 'VIGIL_SUGGEST_REPLY' | 'VIGIL_SUGGEST_PLAN',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, { ...options, exitCode: code === 'VIGIL_SUGGEST_API' ? 3 : 2 })
  }
}
