/**
 * Fans a run's events out to several reporters, isolating each: one that throws is recorded in
 * `failures` and the others still run (a broken Markdown reporter must not lose the JUnit file).
 */
import type { CheckEvent, CheckResult, RunStartInfo, Verdict } from '../engine/verdict.js'
import { ReporterFailure } from './errors.js'
import { writeToStream } from './output.js'
import type { OutputStream, Reporter } from './types.js'

type Hook = keyof Reporter

export interface MultiplexedReporter {
  /** The spec it was created from, e.g. `junit:out/junit.xml`; names it in failures. */
  label: string
  reporter: Reporter
}

export class Multiplexer implements Required<Reporter> {
  /** Every reporter failure so far, in the order they happened; non-empty means the CLI must exit non-zero. */
  readonly failures: ReporterFailure[] = []
  private readonly seen = new Set<string>()

  constructor(
    private readonly entries: readonly MultiplexedReporter[],
    /** Where failures are described once the run ends (after the console's summary). */
    private readonly stderr?: OutputStream,
  ) {}

  onRunStart(info: RunStartInfo): Promise<void> {
    return this.each('onRunStart', info)
  }

  onCheckStart(event: CheckEvent): Promise<void> {
    return this.each('onCheckStart', event)
  }

  onCheckProgress(event: CheckEvent): Promise<void> {
    return this.each('onCheckProgress', event)
  }

  onCheckEnd(result: CheckResult): Promise<void> {
    return this.each('onCheckEnd', result)
  }

  async onRunEnd(verdict: Verdict): Promise<void> {
    await this.each('onRunEnd', verdict)
    if (!this.stderr || this.failures.length === 0) return
    const text = this.failures.map((f) => `vigil: ${f.message}\n`).join('')
    try {
      await writeToStream(this.stderr, text)
    } catch {
      // stderr itself is gone; `failures` still carries them to the exit code.
    }
  }

  /** Calls one hook on every reporter in order, awaiting each, so output order is stable. Never rejects. */
  private async each<H extends Hook>(hook: H, arg: Parameters<NonNullable<Reporter[H]>>[0]): Promise<void> {
    for (const { label, reporter } of this.entries) {
      const fn = reporter[hook] as ((value: typeof arg) => unknown) | undefined
      if (typeof fn !== 'function') continue
      try {
        await fn.call(reporter, arg)
      } catch (error) {
        // A reporter failing on every check would bury the rest; its first failure per hook is enough.
        const id = `${label}\u0000${hook}`
        if (this.seen.has(id)) continue
        this.seen.add(id)
        this.failures.push(new ReporterFailure(label, hook, error))
      }
    }
  }
}
