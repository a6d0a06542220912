/** Errors of the load check. Each class has a fixed `code`; messages begin with what they concern. */
import { VigilError } from '../../errors.js'

/** A threshold expression that is not k6's `<aggregation> <operator> <value>` syntax. */
export class ThresholdSyntaxError extends VigilError {
  constructor(message: string) {
    super('VIGIL_LOAD_THRESHOLD', message)
  }
}

/** A load plan asks for something unsafe or unbounded: another host, too long, too many requests. */
export class LoadSafetyError extends VigilError {
  constructor(message: string) {
    super('VIGIL_LOAD_UNSAFE', message)
  }
}

/** `engine: k6` was asked for and no `k6` binary can be run. */
export class K6NotFoundError extends VigilError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('VIGIL_LOAD_K6_NOT_FOUND', message, { ...options, exitCode: 3 })
  }
}

/** k6 ran but failed, or left no result vigil can read. */
export class K6RunError extends VigilError {
  constructor(
    message: string,
    readonly logTail: string[] = [],
    options?: { cause?: unknown },
  ) {
    super('VIGIL_LOAD_K6_RUN', message, { ...options, exitCode: 3 })
  }
}

/** A k6 summary or output document in none of the shapes vigil knows. */
export class K6SummaryError extends VigilError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('VIGIL_LOAD_K6_SUMMARY', message, { ...options, exitCode: 3 })
  }
}
