/**
 * Runs an existing test command (a Playwright suite, a script) for a check: shell-free, bounded in
 * time, cancellable, keeping the tail of its combined output.
 */
import { spawn } from 'node:child_process'
import path from 'node:path'
import { onExit } from '../lifecycle.js'
import { processStartTime } from './process-tree.js'
import { trackLooseProcess } from './run-state.js'

export interface RunCommandOptions {
  cwd: string
  env: Record<string, string | undefined>
  /** Killed (whole process group) after this long. */
  timeoutMs: number
  /** Aborting kills the process group too. */
  signal?: AbortSignal
  /** Lines of output kept. @default 50 */
  tailLines?: number
  /** Time between SIGTERM and SIGKILL. @default 2000 */
  killGraceMs?: number
  /** Runs the command as this user and group (vigil running as root, a server that refuses root). @default vigil's */
  uid?: number
  gid?: number
}

export interface CommandResult {
  /** Exit code, or null when killed by a signal or not started. */
  exitCode: number | null
  /** The signal that ended it, if any. */
  signal: NodeJS.Signals | null
  timedOut: boolean
  cancelled: boolean
  /** Why it could not start (e.g. `spawn npx ENOENT`). */
  spawnError?: string
  /** Last lines of stdout and stderr, interleaved as they arrived. */
  tail: string[]
  durationMs: number
}

/** Keeps the last `max` lines of a stream of chunks. */
class TailBuffer {
  private lines: string[] = []
  private partial = ''
  constructor(private readonly max: number) {}

  push(chunk: Buffer): void {
    const parts = (this.partial + chunk.toString('utf8')).split(/\r?\n/)
    this.partial = parts.pop() ?? ''
    // A process that writes one endless line must not grow memory without bound.
    if (this.partial.length > 64 * 1024) this.partial = this.partial.slice(-64 * 1024)
    this.lines.push(...parts)
    if (this.lines.length > this.max * 2) this.lines = this.lines.slice(-this.max)
  }

  tail(): string[] {
    const all = this.partial ? [...this.lines, this.partial] : this.lines
    return all.slice(-this.max)
  }
}

export function runCommand(argv: readonly string[], options: RunCommandOptions): Promise<CommandResult> {
  const started = performance.now()
  const buffer = new TailBuffer(options.tailLines ?? 50)
  return new Promise((resolve) => {
    let timedOut = false
    let cancelled = false
    let settled = false
    const [file, ...args] = argv
    // Its own process group, so that a test runner's workers are killed with it.
    const child = spawn(file!, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: process.platform !== 'win32',
      ...(options.uid !== undefined ? { uid: options.uid } : {}),
      ...(options.gid !== undefined ? { gid: options.gid } : {}),
    })
    // Recorded for `vigil sandboxes gc`, and killed by the exit hooks if vigil dies while it runs.
    const pgid = process.platform !== 'win32' ? child.pid : undefined
    const forget = pgid
      ? trackLooseProcess({
          sandbox: 'check',
          service: path.basename(file!),
          pid: pgid,
          pgid,
          startTime: processStartTime(pgid),
        })
      : () => {}
    const unregisterExit = pgid
      ? onExit(() => {
          try {
            process.kill(-pgid, 'SIGKILL')
          } catch {
            // Already gone.
          }
          forget()
        })
      : () => {}
    let killTimer: NodeJS.Timeout | undefined
    const kill = () => {
      const send = (sig: NodeJS.Signals) => {
        try {
          if (child.pid !== undefined && process.platform !== 'win32') process.kill(-child.pid, sig)
          else child.kill(sig)
        } catch {
          // Already gone.
        }
      }
      send('SIGTERM')
      killTimer ??= setTimeout(() => send('SIGKILL'), options.killGraceMs ?? 2000)
      killTimer.unref()
    }
    const timer = setTimeout(() => {
      timedOut = true
      kill()
    }, options.timeoutMs)
    const onAbort = () => {
      cancelled = true
      kill()
    }
    if (options.signal?.aborted) onAbort()
    else options.signal?.addEventListener('abort', onAbort, { once: true })

    const finish = (result: Omit<CommandResult, 'tail' | 'durationMs' | 'timedOut' | 'cancelled'>) => {
      if (settled) return
      settled = true
      unregisterExit()
      forget()
      clearTimeout(timer)
      options.signal?.removeEventListener('abort', onAbort)
      resolve({
        ...result,
        timedOut,
        cancelled,
        tail: buffer.tail(),
        durationMs: performance.now() - started,
      })
    }
    child.stdout.on('data', (chunk: Buffer) => buffer.push(chunk))
    child.stderr.on('data', (chunk: Buffer) => buffer.push(chunk))
    child.on('error', (error) => finish({ exitCode: null, signal: null, spawnError: error.message }))
    child.on('close', (code, signal) => {
      if (killTimer) clearTimeout(killTimer)
      finish({ exitCode: code, signal })
    })
  })
}

/** Environment variable name for a service URL: `orders-api` → `VIGIL_ORDERS_API_URL`. */
export function serviceEnvName(service: string): string {
  return `VIGIL_${service.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}_URL`
}
