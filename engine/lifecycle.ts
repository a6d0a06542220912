/**
 * Process lifecycle: cleanups that must run however the process ends — a normal exit, an error,
 * an uncaught exception, SIGINT, SIGTERM, SIGHUP (a closed terminal), SIGQUIT, or the death of the
 * process that started vigil — so that no child process or temporary tree survives.
 *
 * Two kinds of hooks:
 * - `onShutdown(fn)`: an async cleanup (stop services gracefully, remove a worktree). Run by `shutdown()`
 *   and by the signal handlers.
 * - `onExit(fn)`: a synchronous last resort run from the process `exit` event (SIGKILL a process group,
 *   `rmSync` a temporary directory). Only synchronous work can happen there.
 * Owners unregister their hooks once they cleaned up themselves, so a tidy run leaves nothing to do at exit.
 */

type Cleanup = () => Promise<void> | void

const cleanups = new Set<Cleanup>()
const exitHooks = new Set<() => void>()
let exitInstalled = false
let signalsInstalled = false
let interruptedBy: NodeJS.Signals | undefined
let shuttingDown: Promise<void> | undefined

/** Exit codes by signal, as shells report them (128 + signal number). */
export const SIGNAL_EXIT_CODES = { SIGHUP: 129, SIGINT: 130, SIGQUIT: 131, SIGTERM: 143 } as const

/** The signals that interrupt a run. */
export type InterruptSignal = keyof typeof SIGNAL_EXIT_CODES

/** Registers an async cleanup; returns a function that unregisters it. Each cleanup runs at most once. */
export function onShutdown(fn: Cleanup): () => void {
  installExitHandler()
  let done = false
  const once: Cleanup = async () => {
    if (done) return
    done = true
    cleanups.delete(once)
    await fn()
  }
  cleanups.add(once)
  return () => {
    cleanups.delete(once)
  }
}

/**
 * Registers a synchronous hook run when the process exits (any way but SIGKILL); returns its unregister
 * function. Hooks run last-registered first, like `atexit`: what was started later (a service inside a
 * worktree) is torn down before what it depends on (the worktree, the run's state file).
 */
export function onExit(fn: () => void): () => void {
  installExitHandler()
  exitHooks.add(fn)
  return () => {
    exitHooks.delete(fn)
  }
}

/**
 * Runs every registered cleanup (in parallel; errors are swallowed since a cleanup must never hide the
 * run's result). Idempotent: concurrent calls share one pass; cleanups registered later run on the next call.
 */
export function shutdown(): Promise<void> {
  if (shuttingDown) return shuttingDown
  const pass = Promise.allSettled([...cleanups].map(async (fn) => fn())).then(() => {
    shuttingDown = undefined
  })
  shuttingDown = pass
  return pass
}

/** The signal that interrupted this process, once one did. */
export function interruptedSignal(): NodeJS.Signals | undefined {
  return interruptedBy
}

export interface SignalHandlerOptions {
  /**
   * How long the interrupted run may take to report and stop before cleanups are forced.
   * @default 10000
   */
  graceMs?: number
  /**
   * Treat the death of the process that started vigil (an `npx` wrapper, a CI step's shell) like
   * SIGTERM: the parent pid is checked every `PARENT_POLL_MS`, and a change (vigil was re-parented)
   * interrupts the run. Off with `VIGIL_KEEP_ORPHAN=1` in the environment, for runs meant to outlive
   * their shell (`nohup vigil sandbox &`).
   * @default true
   */
  watchParent?: boolean
}

/** How often the parent pid is checked; a dead parent is noticed within this time. */
export const PARENT_POLL_MS = 250

/**
 * Installs SIGINT, SIGTERM, SIGHUP and SIGQUIT handlers and the parent watch, once per process (later
 * calls only replace `onInterrupt`).
 *
 * First signal: `onInterrupt` is called (the run aborts in-flight checks and still reports). When it
 * returns a promise, the cleanups run once it settles and the process exits with 128 + the signal's
 * number (130 SIGINT, 143 SIGTERM, 129 SIGHUP, 131 SIGQUIT). When it returns nothing, the process ends
 * on its own with that exit code; after `graceMs` the cleanups are forced anyway. A second signal runs
 * the exit hooks and exits at once. A dead parent counts as SIGTERM.
 */
export function installSignalHandlers(
  onInterrupt: () => Promise<void> | void,
  options: SignalHandlerOptions = {},
): void {
  currentInterrupt = onInterrupt
  currentGraceMs = options.graceMs ?? 10_000
  if (signalsInstalled) return
  signalsInstalled = true
  installExitHandler()
  for (const signal of Object.keys(SIGNAL_EXIT_CODES) as InterruptSignal[])
    process.on(signal, () => handleSignal(signal))
  if ((options.watchParent ?? true) && process.env.VIGIL_KEEP_ORPHAN !== '1') watchParent()
}

let currentInterrupt: () => Promise<void> | void = () => {}
let currentGraceMs = 10_000

/**
 * Polls `process.ppid`: when the parent dies, the kernel re-parents vigil (to init or a subreaper), so
 * the pid changes. Polling is the portable way (Linux's PR_SET_PDEATHSIG is not reachable from Node);
 * the timer is unref'd so it never keeps a finished run alive.
 */
function watchParent(): void {
  const parent = process.ppid
  // Started by init (a container's entry point, a daemon): there is no parent to lose.
  if (parent <= 1) return
  const timer = setInterval(() => {
    if (process.ppid === parent) return
    clearInterval(timer)
    process.stderr.write(
      `vigil: the process that started vigil (pid ${parent}) is gone; stopping as on SIGTERM\n`,
      () => {},
    )
    handleSignal('SIGTERM')
  }, PARENT_POLL_MS)
  timer.unref()
}

function handleSignal(signal: InterruptSignal): void {
  const code = SIGNAL_EXIT_CODES[signal]
  if (interruptedBy) {
    // Second signal: the user wants out now. Exit hooks still kill process groups and remove trees.
    process.exit(code)
  }
  interruptedBy = signal
  process.exitCode = code
  const finish = (): void => {
    void shutdown().finally(() => process.exit(code))
  }
  // Unref'd: a run that ends by itself exits without waiting for the grace period.
  setTimeout(finish, currentGraceMs).unref()
  let result: Promise<void> | void
  try {
    result = currentInterrupt()
  } catch {
    result = undefined
  }
  if (result && typeof result.then === 'function') result.then(finish, finish)
}

function installExitHandler(): void {
  if (exitInstalled) return
  exitInstalled = true
  process.on('exit', () => {
    // An interrupted run keeps its signal's exit code even if the program set another one since.
    if (interruptedBy) process.exitCode = SIGNAL_EXIT_CODES[interruptedBy as InterruptSignal]
    runExitHooks()
  })
  // Node does not emit `exit` when an uncaught exception (or unhandled rejection) kills the process;
  // the monitor runs just before. When someone else handles the exception, the process lives on.
  process.on('uncaughtExceptionMonitor', () => {
    if (process.listenerCount('uncaughtException') === 0) runExitHooks()
  })
}

function runExitHooks(): void {
  for (const hook of [...exitHooks].reverse()) {
    try {
      hook()
    } catch {
      // A failing hook must not stop the others.
    }
  }
  exitHooks.clear()
}
