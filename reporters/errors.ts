/** Errors of the reporters. Each class has a fixed `code`; messages begin with the reporter spec they concern. */
import { CodedError } from '../plans/errors.js'

export class ReporterError extends CodedError {}

/** A `--reporter` value that names no reporter, or outputs that collide: a usage error (exit 2). */
export class ReporterSpecError extends ReporterError {
  constructor(message: string) {
    super('VIGIL_REPORTER_SPEC', message, { exitCode: 2 })
  }
}

/** A reporter threw (or could not write its file). The run went on; the CLI exits non-zero. */
export class ReporterFailure extends ReporterError {
  constructor(
    /** The spec as given, e.g. `junit:out/junit.xml`. */
    readonly reporter: string,
    /** The hook that failed, e.g. `onRunEnd`. */
    readonly hook: string,
    cause: unknown,
  ) {
    const reason = cause instanceof Error ? cause.message : String(cause)
    super('VIGIL_REPORTER_FAILED', `${reporter}: reporter failed in ${hook}: ${reason}`, {
      cause,
      exitCode: 3,
    })
  }
}
