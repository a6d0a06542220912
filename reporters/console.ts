/**
 * `console`: live progress for people. On a terminal, a block of running checks (spinner, elapsed,
 * progress note) is redrawn in place under the finished-check lines; elsewhere (CI logs, files) it
 * prints plain lines and never moves the cursor. The run ends with the summary (renderSummary).
 */
import { Writable } from 'node:stream'
import { colorEnabled } from '../plans/color.js'
import type { CheckEvent, CheckResult, RunStartInfo, Verdict } from '../engine/verdict.js'
import { renderCheckLine, renderLiveBlock, renderRunStart, renderSummary } from './console-render.js'
import type { ConsoleRenderOptions, RunningCheck } from './console-render.js'
import { writeDocument, writeToStream } from './output.js'
import type { OutputStream, Reporter, ReporterFactory } from './types.js'

export { colorEnabled }

export interface ConsoleReporterOptions {
  stream: OutputStream
  /** Redraw a live block in place (a terminal). @default false */
  live?: boolean
  /** @default false */
  color?: boolean
  /** Milliseconds between spinner frames while checks run. @default 100 */
  tickMs?: number
  /** The clock, for elapsed times. @default Date.now */
  now?: () => number
  /** Where the JSON verdict is written, for the `vigil reproduce` lines. */
  verdictPath?: string
}

// `ESC[nA` moves up n lines, `ESC[J` clears from the cursor to the end of the screen.
const up = (n: number) => (n > 0 ? `\r\x1b[${n}A\x1b[J` : '')

export class ConsoleReporter implements Reporter {
  private readonly stream: OutputStream
  private readonly live: boolean
  private readonly render: ConsoleRenderOptions
  private readonly now: () => number
  private readonly tickMs: number
  private readonly running = new Map<string, RunningCheck>()
  private readonly lastNote = new Map<string, string>()
  private timer: NodeJS.Timeout | undefined
  private drawn = 0
  private frame = 0
  private startedAt: number
  private total = 0
  private done = 0
  private failed = 0
  /** Plans whose failures are warnings, from onRunStart. */
  private nonBlocking = new Set<string>()
  /** Set when the stream failed (a closed pipe); later hooks throw it so the multiplexer records it. */
  private broken: Error | undefined

  constructor(options: ConsoleReporterOptions) {
    this.stream = options.stream
    this.live = options.live ?? false
    this.render = {
      color: options.color ?? false,
      ...(options.verdictPath !== undefined ? { verdictPath: options.verdictPath } : {}),
    }
    this.now = options.now ?? Date.now
    this.tickMs = options.tickMs ?? 100
    this.startedAt = this.now()
    // Without a listener, a failed write (EPIPE when the reader went away) would crash the process.
    this.stream.on('error', (error: Error) => {
      this.broken ??= error
      this.stopTicking()
    })
  }

  onRunStart(info: RunStartInfo): void {
    this.startedAt = this.now()
    this.total = info.plans.reduce((n, p) => n + p.checks.length, 0)
    this.nonBlocking = new Set(info.plans.filter((p) => p.blocking === false).map((p) => p.name))
    this.print(renderRunStart(info, this.render))
  }

  onCheckStart(event: CheckEvent): void {
    this.running.set(key(event), { ...event, startedAt: this.now() })
    if (this.live) {
      this.print('')
      this.startTicking()
    }
  }

  onCheckProgress(event: CheckEvent): void {
    const id = key(event)
    const entry = this.running.get(id) ?? { ...event, startedAt: this.now() }
    this.running.set(id, { ...entry, note: event.note })
    if (this.live) return this.print('')
    // Plain output: each distinct note once, so a chatty check does not flood a CI log.
    if (!event.note || this.lastNote.get(id) === event.note) return
    this.lastNote.set(id, event.note)
    this.print(`  … ${event.plan} › ${event.check}: ${event.note}\n`)
  }

  onCheckEnd(result: CheckResult): void {
    const id = key(result)
    this.running.delete(id)
    this.lastNote.delete(id)
    this.done += 1
    const warning = this.nonBlocking.has(result.plan) || result.blocking === false
    if ((result.state === 'failed' && !warning) || result.state === 'errored') this.failed += 1
    if (this.running.size === 0) this.stopTicking()
    this.print(renderCheckLine(result, { ...this.render, warning }))
  }

  async onRunEnd(verdict: Verdict): Promise<void> {
    this.stopTicking()
    if (this.broken) throw this.broken
    this.running.clear()
    const clear = up(this.drawn)
    this.drawn = 0
    await writeToStream(this.stream, `${clear}${renderSummary(verdict, this.render)}`)
  }

  /** Writes text above the live block and redraws the block, in one write so it does not flicker. */
  private print(text: string): void {
    if (this.broken) throw this.broken
    if (!this.live) {
      if (text) this.stream.write(text)
      return
    }
    const block = this.running.size > 0 ? this.block() : []
    this.stream.write(`${up(this.drawn)}${text}${block.map((l) => `${l}\n`).join('')}`)
    this.drawn = block.length
  }

  private block(): string[] {
    const width = Math.max(20, (this.stream.columns ?? 80) - 1)
    const rows = Math.max(3, Math.min(12, ((this.stream as { rows?: number }).rows ?? 24) - 4))
    const status = {
      done: this.done,
      total: this.total,
      failed: this.failed,
      elapsedMs: this.now() - this.startedAt,
    }
    return renderLiveBlock(
      [...this.running.values()],
      status,
      this.now(),
      this.frame,
      width,
      rows,
      this.render,
    )
  }

  private startTicking(): void {
    if (this.timer) return
    this.timer = setInterval(() => {
      // A timer callback must not throw: a broken stream is reported by the next hook instead.
      if (this.broken) return this.stopTicking()
      this.frame += 1
      this.print('')
    }, this.tickMs)
    // The spinner must never keep the process alive.
    this.timer.unref()
  }

  private stopTicking(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
  }
}

function key(event: { plan: string; check: string }): string {
  return `${event.plan}\u0000${event.check}`
}

/** Collects what a console reporter writes to a file, so the file is written once, at the end, with its folders. */
class Collector extends Writable {
  readonly chunks: string[] = []
  override _write(
    chunk: Buffer | string,
    _encoding: BufferEncoding,
    done: (error?: Error | null) => void,
  ): void {
    this.chunks.push(String(chunk))
    done()
  }
}

export const consoleReporter: ReporterFactory = {
  description: 'live progress and a summary for people; on stderr when another reporter writes to stdout',
  defaultTarget: () => 'live',
  create: ({ target, io }) => {
    if (target.kind === 'stream') {
      return new ConsoleReporter({
        stream: target.stream,
        live: target.isTTY && io.env.TERM !== 'dumb',
        color: colorEnabled(io.env, target.isTTY),
        ...(io.verdictPath !== undefined ? { verdictPath: io.verdictPath } : {}),
      })
    }
    // `console:FILE`: plain lines without colour, as a CI artifact.
    const collector = new Collector({ decodeStrings: false })
    const reporter = new ConsoleReporter({
      stream: collector,
      ...(io.verdictPath !== undefined ? { verdictPath: io.verdictPath } : {}),
    })
    return {
      onRunStart: (info) => reporter.onRunStart(info),
      onCheckStart: (e) => reporter.onCheckStart(e),
      onCheckProgress: (e) => reporter.onCheckProgress(e),
      onCheckEnd: (r) => reporter.onCheckEnd(r),
      onRunEnd: async (verdict) => {
        await reporter.onRunEnd(verdict)
        await writeDocument(target, collector.chunks.join(''))
      },
    }
  },
}
