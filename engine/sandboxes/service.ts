/** One service process of a `process` sandbox: spawn, capture logs, wait until ready, stop its whole tree. */
import { spawn } from 'node:child_process'
import { onExit } from '../lifecycle.js'
import { LogBuffer } from './log-buffer.js'
import { processStartTime, signalGroup, terminateGroup } from '../processes/process-tree.js'
import { ignoredPortEarly, ignoredPortHint, type PortHintInput } from './port-hint.js'
import { PORT_RETRIES, PORT_TAKEN } from './ports.js'
import { waitReady, type ReadyProbe } from './readiness.js'
import type { RunTracker } from '../api/sandbox.js'

export interface ServiceSpec {
  name: string
  /** `[command, ...args]`, run without a shell. */
  argv: string[]
  cwd: string
  env: Record<string, string>
  host: string
  port: number
  ready: ReadyProbe
  /** Milliseconds between SIGTERM and SIGKILL when stopping. */
  stopTimeoutMs: number
  /** Lines kept in the service's log buffer. */
  logLines: number
  /** Redacts each log line as it is stored. @default none */
  redactor?: { text(input: string): string }
  /** A command run in `cwd` before the service starts (`prepare:`), and its deadline. */
  prepare?: { argv: string[]; timeoutMs: number }
  /** Runs the process as this user and group (a server that refuses root). @default vigil's */
  uid?: number
  gid?: number
  /** The environment variables that carry `port`, named when the service ignores them. @default ['PORT'] */
  portVariables?: string[]
}

export interface ExitInfo {
  code: number | null
  signal: NodeJS.Signals | null
  /** Set when the process could not be spawned at all (ENOENT, EACCES). */
  error?: NodeJS.ErrnoException
}

/** Why a service did not become ready; the caller turns it into an InfrastructureError. */
export interface StartFailure {
  reason: string
  /** The service listens on a port of its own choosing, not the one it was given: another port cannot help. */
  ignoredPort?: boolean
}

/** The last lines of a process's log read for what its end says (a port taken). */
const PORT_LOG_LINES = 50

export class ServiceProcess {
  readonly logs: LogBuffer
  pid: number | undefined
  exit: ExitInfo | undefined
  readonly exited: Promise<ExitInfo>
  private stopping: Promise<void> | undefined
  /** It answered its readiness probe: an exit from then on is one "while running". */
  private ready = false
  private readonly unregister: () => void

  /**
   * Spawns the process at once; `onUnexpectedExit` hears of an exit that `stop()` did not cause, once the
   * process was ready (an exit before is the start's failure, which `waitReady` tells). With `tracked`, the
   * process group is recorded in the run's state until it is stopped.
   */
  constructor(
    readonly spec: ServiceSpec,
    onUnexpectedExit: (exit: ExitInfo) => void,
    tracked?: { tracker: RunTracker; sandbox: string },
  ) {
    this.logs = new LogBuffer({
      capacity: spec.logLines,
      ...(spec.redactor ? { redactor: spec.redactor } : {}),
    })
    let resolveExit!: (exit: ExitInfo) => void
    this.exited = new Promise((resolve) => (resolveExit = resolve))
    const child = spawn(spec.argv[0]!, spec.argv.slice(1), {
      cwd: spec.cwd,
      env: spec.env,
      // Leader of a new process group: stop() signals the group, so grandchildren go too.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(spec.uid !== undefined ? { uid: spec.uid } : {}),
      ...(spec.gid !== undefined ? { gid: spec.gid } : {}),
    })
    this.pid = child.pid
    const pgid = child.pid
    // Recorded at once (synchronously), so that even a SIGKILL of vigil right after leaves it findable.
    // The start time is set at fork, so it is there even before the command is exec'd.
    const forget =
      pgid && tracked
        ? tracked.tracker.process({
            sandbox: tracked.sandbox,
            service: spec.name,
            pid: pgid,
            pgid,
            startTime: processStartTime(pgid),
          })
        : () => {}
    // Last resort if this process dies before stop() runs: kill the whole group synchronously.
    const unregisterExit = pgid
      ? onExit(() => {
          signalGroup(pgid, 'SIGKILL')
          forget()
        })
      : () => {}
    this.unregister = () => {
      unregisterExit()
      forget()
    }
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => this.heard('stdout', chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => this.heard('stderr', chunk))
    const finish = (exit: ExitInfo): void => {
      if (this.exit) return
      this.exit = exit
      this.logs.flush()
      this.logs.note(describeExit(exit))
      resolveExit(exit)
      if (!this.stopping && this.ready) onUnexpectedExit(exit)
    }
    child.once('error', (error: NodeJS.ErrnoException) => finish({ code: null, signal: null, error }))
    // `close` (not `exit`) so that the last lines of output are in the buffer first.
    child.once('close', (code, signal) => finish({ code, signal }))
  }

  private heard(stream: 'stdout' | 'stderr', chunk: string): void {
    this.logs.write(stream, chunk)
    this.spoke?.wake()
    this.spoke = undefined
  }

  /** Settles at the process's next output (the readiness probe's wake-up), made when first asked for. */
  private spoke: { promise: Promise<void>; wake: () => void } | undefined

  private nextOutput(): Promise<void> {
    if (!this.spoke) {
      let wake!: () => void
      this.spoke = { promise: new Promise<void>((resolve) => (wake = resolve)), wake }
    }
    return this.spoke.promise
  }

  /** Waits for readiness; resolves with a failure reason instead of throwing. */
  async waitReady(signal: AbortSignal): Promise<StartFailure | undefined> {
    const outcome = await waitReady({
      host: this.spec.host,
      port: this.spec.port,
      probe: this.spec.ready,
      signal,
      exited: this.exited,
      spoke: () => this.nextOutput(),
      ...(this.pid !== undefined ? { pgid: this.pid } : {}),
      stray: () => ignoredPortEarly(this.portHintInput()),
    })
    if (!('exited' in outcome) && outcome.ready) {
      this.ready = true
      return undefined
    }
    if (signal.aborted) return { reason: 'start was cancelled' }
    if (!('exited' in outcome) && outcome.stray) return { reason: outcome.reason, ignoredPort: true }
    const hint = ignoredPortHint(this.portHintInput())
    const reason =
      'exited' in outcome
        ? `${describeExit(this.exit!)} before it was ready`
        : `was not ready within ${formatMs(this.spec.ready.timeoutMs)} (last probe: ${outcome.reason})`
    return hint ? { reason: `${reason}; ${hint}`, ignoredPort: true } : { reason }
  }

  private portHintInput(): PortHintInput {
    return {
      port: this.spec.port,
      variables: this.spec.portVariables ?? ['PORT'],
      alive: this.exit === undefined,
      ...(this.pid !== undefined ? { pgid: this.pid } : {}),
      log: this.logs.entries(50).map((line) => line.text),
    }
  }

  /**
   * True when the process ended saying the port it bound was taken (EADDRINUSE): another process took it
   * between vigil finding it free and the process binding it, and a start on new ports may succeed.
   */
  lostPortRace(): boolean {
    return this.exit !== undefined && PORT_TAKEN.test(this.logs.render(PORT_LOG_LINES).join('\n'))
  }

  /**
   * True when this failed start (its `attempt`-th retry, from 0) may be made again on new ports: it lost its
   * port to another process, the start was not cancelled, and fewer than PORT_RETRIES retries were made.
   */
  retryOnNewPort(attempt: number, signal: AbortSignal): boolean {
    return attempt < PORT_RETRIES && !signal.aborted && this.lostPortRace()
  }

  /** Stops the process group: SIGTERM, SIGKILL after the grace period. Idempotent; never throws. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.pid !== undefined) await terminateGroup(this.pid, this.spec.stopTimeoutMs).catch(() => {})
      this.unregister()
      // The group is gone; wait (briefly) for the pipes to drain so the exit note ends the log.
      let timer: NodeJS.Timeout | undefined
      await Promise.race([this.exited, new Promise((resolve) => (timer = setTimeout(resolve, 1_000)))])
      clearTimeout(timer)
    })()
    return this.stopping
  }
}

export function describeExit(exit: ExitInfo): string {
  if (exit.error) {
    return exit.error.code === 'ENOENT'
      ? `could not start: command not found or working directory missing (${exit.error.message})`
      : `could not start: ${exit.error.message}`
  }
  if (exit.signal) return `was killed by ${exit.signal}`
  return `exited with code ${exit.code}`
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`
}
