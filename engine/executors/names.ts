/**
 * The names of the executor registry (engine/executors/index.ts), in a module that loads no executor:
 * `vigil run --help` offers them as the choices of `--executor`. The registry is typed by this list, so
 * the two cannot differ.
 */
export const EXECUTOR_NAMES = ['local', 'kubernetes'] as const
