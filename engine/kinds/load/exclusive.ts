/**
 * Load checks of one process run one at a time: two loads at once would each measure the other's
 * CPU use (on a 2-core CI runner, badly), and the A/B comparison would compare noise.
 */
let tail: Promise<void> = Promise.resolve()

/** Runs `fn` after every load started before it has finished. */
export function exclusive<T>(fn: () => Promise<T>): Promise<T> {
  const run = tail.then(fn, fn)
  tail = run.then(
    () => undefined,
    () => undefined,
  )
  return run
}
