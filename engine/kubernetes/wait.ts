/** Polling with a deadline and a cancel signal: how vigil waits for the cluster (no watch to keep alive). */

export interface PollOptions {
  /** Give up after this long. */
  timeoutMs: number
  /** Time between two looks. @default 500 */
  intervalMs?: number
  signal?: AbortSignal
}

export type PollOutcome<T> = { state: 'done'; value: T } | { state: 'timeout' } | { state: 'cancelled' }

/** Calls `look` until it returns something other than undefined, the deadline passes, or the signal aborts. */
export async function poll<T>(
  look: () => Promise<T | undefined>,
  options: PollOptions,
): Promise<PollOutcome<T>> {
  const deadline = performance.now() + options.timeoutMs
  const interval = options.intervalMs ?? 500
  while (true) {
    if (options.signal?.aborted) return { state: 'cancelled' }
    const value = await look()
    if (value !== undefined) return { state: 'done', value }
    const left = deadline - performance.now()
    if (left <= 0) return { state: 'timeout' }
    if (!(await sleep(Math.min(interval, left), options.signal))) return { state: 'cancelled' }
  }
}

/** Resolves true after `ms`, or false as soon as the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false)
    const onAbort = (): void => {
      clearTimeout(timer)
      resolve(false)
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve(true)
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
