/** Small pieces of a warm session's account of an iteration: timed steps and file lists for its reasons. */
import type { TimingEntry, VerdictSession } from '../verdict.js'

/** A piece started again, and why (the verdict's `session.rebuilt`). */
export interface Rebuild {
  part: string
  reason: string
}

/** Runs `work`, recording its wall time under `phase`. */
export async function timedInto<T>(
  timings: TimingEntry[],
  phase: string,
  work: () => Promise<T>,
): Promise<T> {
  const begin = performance.now()
  try {
    return await work()
  } finally {
    timings.push({ phase, durationMs: performance.now() - begin })
  }
}

/** A few file names for a message: `a.js, b.js, c.js and 2 more`. */
export function listed(files: readonly string[]): string {
  return `${files.slice(0, 3).join(', ')}${files.length > 3 ? ` and ${files.length - 3} more` : ''}`
}

/** An iteration's account before anything was reused, rebuilt, restarted or reset. */
export function emptyAccount(iteration: number): VerdictSession {
  return { iteration, complete: true, deferred: [], reused: [], rebuilt: [], restarted: [], reset: [] }
}
