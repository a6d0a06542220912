/** Shared shape of the benchmarks under test/bench/: each file exports `bench: Bench`. */

export interface BenchGoal {
  /** What is compared, e.g. `load 1,000 plans / read their bytes`. */
  label: string
  /** The measured figure (a ratio or a time). */
  value: number
  unit: string
  /** Human-readable goal, e.g. `<= 3x`. */
  goal: string
  met: boolean
  /**
   * A target reported with its goal but not enforced yet: when it is not met the run prints `below` and
   * still passes. Set it for a goal the code is being brought to, and drop it once the goal holds.
   * @default false
   */
  informational?: boolean
}

export interface Bench {
  name: string
  /** Runs the measurement; prints its own detail lines through `log`, returns the goals. */
  run(log: (line: string) => void): Promise<BenchGoal[]>
}

/** Median of a list of numbers. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** Times `fn` `runs` times after `warmup` runs; returns each run's milliseconds. */
export async function timeRuns(fn: () => unknown, runs: number, warmup = 1): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn()
  const times: number[] = []
  for (let i = 0; i < runs; i++) {
    const start = performance.now()
    await fn()
    times.push(performance.now() - start)
  }
  return times
}

/** A seeded generator of uniforms in [0, 1) (the race kind's), so every run of a bench sees the same inputs. */
export { seededRandom } from '../../engine/api/random.js'
