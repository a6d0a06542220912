/**
 * When measurements may run. A measurement (a load check's rounds) must not be skewed by other traffic:
 * it waits until every non-measuring check has finished (the executor opens the gate once they have, and
 * every measuring check has come to the gate), and then runs beside another measurement only
 * when the two share no resource — no service (a service's dependencies count as its own) and no load
 * generator — and the machine has the cores both need. "Exclusive" means no interference, not one at a
 * time. Waiters are served in plan order; one that does not fit never lets a later one that conflicts with
 * it go first.
 *
 * Before the gate opens, work that measures nothing and changes no state (a load check's read-only warm-up)
 * may run beside the non-measuring checks, on cores it leaves free for them (`early`). Once the gate opens,
 * a measurement that conflicts with such work still running waits for it, as for another measurement.
 */
import { availableParallelism } from 'node:os'
import type { MeasureClaim } from '../../api/kind.js'

/** A claim on every resource: the measurement runs alone. */
export const ALONE = '*'

interface Waiter {
  id: string
  resources: Set<string>
  cores: number
  grant(): void
}

interface EarlyWaiter extends Omit<Waiter, 'grant'> {
  grant(granted: boolean): void
}

/** A claim's resources as the gate compares them: none named means every one. */
function claimed(claim: MeasureClaim): Set<string> {
  return new Set(claim.resources.length ? claim.resources : [ALONE])
}

export interface MeasuredTogether {
  /** Ids (`plan › check`) of the measurements that ran at the same time as this one. */
  with: string[]
}

export class MeasureGate {
  private quiet = false
  private readonly active = new Map<string, { resources: Set<string>; cores: number }>()
  private readonly queue: Waiter[] = []
  /** Work running before the gate opened (`early`), by id: measurements that conflict with it wait. */
  private readonly warming = new Map<string, { resources: Set<string>; cores: number }>()
  private readonly earlyQueue: EarlyWaiter[] = []
  /** Per measurement id: the others that were active at some point while it ran. */
  readonly together = new Map<string, Set<string>>()

  constructor(private readonly cores = availableParallelism()) {}

  /** Every non-measuring check has finished: measurements may start. */
  open(): void {
    this.quiet = true
    // Early work not yet started has missed its chance: it runs inside its measurement instead.
    for (const w of this.earlyQueue.splice(0)) w.grant(false)
    this.pump()
  }

  /**
   * Runs `fn` (which measures nothing and changes no state) beside the non-measuring checks, if the gate has
   * not opened yet, beside no other such work sharing a resource, and on cores the claim leaves free for the
   * checks: at least one more than it needs. Resolves true once `fn` ran, false when it did not (the gate
   * opened first, or the machine lacks the cores): then the caller does it inside its measurement.
   */
  async early(id: string, claim: MeasureClaim, fn: () => Promise<unknown>): Promise<boolean> {
    const resources = claimed(claim)
    if (this.quiet || resources.has(ALONE) || claim.cores >= this.cores) return false
    const granted = await new Promise<boolean>((grant) => {
      this.earlyQueue.push({ id, resources, cores: claim.cores, grant })
      this.pumpEarly()
    })
    if (!granted) return false
    try {
      await fn()
      return true
    } finally {
      this.warming.delete(id)
      this.pumpEarly()
      this.pump()
    }
  }

  /** Runs `fn` when the claim fits. `id` names the measurement in the verdict. */
  async run<T>(id: string, claim: MeasureClaim, fn: () => Promise<T>): Promise<T> {
    const resources = claimed(claim)
    // A claim needing more cores than the machine has can still run, but only alone.
    if (claim.cores > this.cores) resources.add(ALONE)
    await new Promise<void>((grant) => {
      this.queue.push({ id, resources, cores: Math.min(claim.cores, this.cores), grant })
      this.pump()
    })
    try {
      return await fn()
    } finally {
      this.active.delete(id)
      this.pump()
    }
  }

  private pump(): void {
    if (!this.quiet) return
    const skipped: Waiter[] = []
    for (let i = 0; i < this.queue.length;) {
      const w = this.queue[i]!
      const held = [...this.active.values(), ...this.warming.values()]
      const cores = held.reduce((sum, h) => sum + h.cores, w.cores)
      // An earlier waiter that could not start keeps its place against anything it conflicts with.
      if (cores <= this.cores && ![...held, ...skipped].some((h) => conflict(w.resources, h.resources))) {
        this.queue.splice(i, 1)
        for (const other of this.active.keys()) this.link(w.id, other)
        this.active.set(w.id, { resources: w.resources, cores: w.cores })
        w.grant()
      } else {
        skipped.push(w)
        i++
      }
    }
  }

  private pumpEarly(): void {
    if (this.quiet) return
    for (let i = 0; i < this.earlyQueue.length;) {
      const w = this.earlyQueue[i]!
      const held = [...this.warming.values()]
      const cores = held.reduce((sum, h) => sum + h.cores, w.cores)
      if (cores < this.cores && !held.some((h) => conflict(w.resources, h.resources))) {
        this.earlyQueue.splice(i, 1)
        this.warming.set(w.id, { resources: w.resources, cores: w.cores })
        w.grant(true)
      } else i++
    }
  }

  private link(a: string, b: string): void {
    for (const [x, y] of [
      [a, b],
      [b, a],
    ] as const) {
      const set = this.together.get(x) ?? new Set<string>()
      set.add(y)
      this.together.set(x, set)
    }
  }
}

function conflict(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.has(ALONE) || b.has(ALONE)) return true
  for (const r of a) if (b.has(r)) return true
  return false
}
