/** The reporter interface, shaped after vitest's and Playwright's: every hook optional, any may be async. */
import type { CheckEvent, CheckResult, RunStartInfo, Verdict } from '../engine/verdict.js'

type Awaitable<T> = T | Promise<T>

/**
 * Receives a run's events. Live reporters (console) use the check hooks; file reporters implement
 * only `onRunEnd`. A hook that throws is isolated by the multiplexer: the others still run.
 */
export interface Reporter {
  onRunStart?(info: RunStartInfo): Awaitable<void>
  /** A check is about to run. */
  onCheckStart?(event: CheckEvent): Awaitable<void>
  /** A running check's progress note (`event.note`). Not part of the verdict. */
  onCheckProgress?(event: CheckEvent): Awaitable<void>
  /** A check finished; called in completion order. */
  onCheckEnd?(result: CheckResult): Awaitable<void>
  /** The run is over, with its final verdict (already redacted). */
  onRunEnd?(verdict: Verdict): Awaitable<void>
}

/** A writable the reporters write to; `isTTY` and `columns` as on `process.stdout`. */
export type OutputStream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number }

/** The process around the reporters, passed in so tests can give fakes. */
export interface ReporterIO {
  stdout: OutputStream
  stderr: OutputStream
  /** Read for NO_COLOR, FORCE_COLOR, TERM and GITHUB_STEP_SUMMARY only. */
  env: Readonly<Record<string, string | undefined>>
  /** Relative output paths resolve against it. */
  cwd: string
  /** Whether stdout is a terminal. */
  isTTY: boolean
  /**
   * Where the JSON verdict of this run is written (relative to `cwd` when it is inside), shown in the
   * `vigil reproduce` lines. `createReporter` sets it from a `json:FILE` reporter when the caller did not.
   */
  verdictPath?: string
}

/** Where one reporter's output goes. */
export type ReporterTarget =
  | { kind: 'stream'; stream: OutputStream; name: 'stdout' | 'stderr'; isTTY: boolean }
  /** `append`: add to the file (GITHUB_STEP_SUMMARY) instead of replacing it. */
  | { kind: 'file'; path: string; append: boolean }

export interface ReporterOptions {
  target: ReporterTarget
  io: ReporterIO
}

/** One registry entry: how to build a reporter and where it writes when no path is given. */
export interface ReporterFactory {
  /** One line, for `--help`. */
  description: string
  /**
   * Its output without `name:path`: `stdout`, or a file from the environment (markdown appends to
   * GITHUB_STEP_SUMMARY when it is set). `live` is the terminal: stdout, or stderr when another
   * reporter writes its document to stdout.
   */
  defaultTarget(io: ReporterIO): 'stdout' | 'live' | { path: string; append: boolean }
  create(options: ReporterOptions): Reporter
}
