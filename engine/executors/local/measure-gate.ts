/**
 * When measurements may run. A measurement (a load check's rounds) must not be skewed by other traffic:
 * it waits until every non-measuring check has finished, and then runs beside another measurement only
 * when the two share no resource — no service (a service's dependencies count as its own) and no load
 * generator — and the machine has the cores both need. "Exclusive" means no interference, not one at a
 * time. Waiters are served in plan order; one that does not fit never lets a later one that conflicts with
 * it go first.
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

export interface MeasuredTogether {
  /** Ids (`plan › check`) of the measurements that ran at the same time as this one. */
  with: string[]
}

export class MeasureGate {
  private quiet = false
  private readonly active = new Map<string, { resources: Set<string>; cores: number }>()
  private readonly queue: Waiter[] = []
  /** Per measurement id: the others that were active at some point while it ran. */
  readonly together = new Map<string, Set<string>>()

  constructor(private readonly cores = availableParallelism()) {}

  /** Every non-measuring check has finished: measurements may start. */
  open(): void {
    this.quiet = true
    this.pump()
  }

  /** Runs `fn` when the claim fits. `id` names the measurement in the verdict. */
  async run<T>(id: string, claim: MeasureClaim, fn: () => Promise<T>): Promise<T> {
    const resources = new Set(claim.resources.length ? claim.resources : [ALONE])
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
      const held = [...this.active.values()]
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
