/** Errors of the reporters. Each class has a fixed `code`; messages begin with the reporter spec they concern. */

export class ReporterError extends Error {
  readonly code: string
  /** The exit code the CLI should use when this error ends the command. */
  readonly exitCode: number
  constructor(code: string, message: string, options?: { cause?: unknown; exitCode?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.code = code
    this.exitCode = options?.exitCode ?? 2
  }
}

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
