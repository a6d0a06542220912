/**
 * The one way vigil runs git: the selectors' `--base` diff, the baseline's worktree, the default base of
 * `vigil ci`, a run's commit and the clean-up of leftover worktrees all go through here. git is run
 * without a shell, and its failure is a result, not an exception: each caller decides
 * whether a failure is an error (and which), a fallback, or nothing.
 */
import { execFile, spawnSync } from 'node:child_process'

export interface GitOptions {
  /** The folder git runs in. */
  cwd: string
  /** The environment. @default process.env */
  env?: NodeJS.ProcessEnv
  /** Kills git after this long (the result then has `code` 124). @default no limit */
  timeoutMs?: number
}

export interface GitResult {
  /** git's exit code; 127 when git could not be started, 124 when it ran out of time. */
  code: number
  stdout: string
  stderr: string
}

/** Output a `git diff` of a large change may print. */
const MAX_BUFFER = 512 << 20

/** Runs git; never throws. */
export function git(args: readonly string[], options: GitOptions): Promise<GitResult> {
  return new Promise((resolve) => {
    execFile(
      'git',
      args,
      {
        cwd: options.cwd,
        env: options.env ?? process.env,
        maxBuffer: MAX_BUFFER,
        encoding: 'utf8',
        ...(options.timeoutMs !== undefined ? { timeout: options.timeoutMs } : {}),
      },
      (error, stdout, stderr) => {
        if (!error) return resolve({ code: 0, stdout, stderr })
        const { code: exit, killed } = error as { code?: unknown; killed?: boolean }
        const ran = typeof exit === 'number'
        const code = ran ? exit : killed ? 124 : 127
        // When git ran, its stderr is its own account (maybe empty); otherwise Node's says why it did not run.
        resolve({ code, stdout: String(stdout ?? ''), stderr: ran ? String(stderr) : error.message })
      },
    )
  })
}

/** Runs git synchronously, for exit hooks, where nothing asynchronous runs any more; never throws. */
export function gitSync(args: readonly string[], options: GitOptions): GitResult {
  const result = spawnSync('git', args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    maxBuffer: MAX_BUFFER,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.timeoutMs !== undefined ? { timeout: options.timeoutMs } : {}),
  })
  const timedOut = (result.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT'
  const code = result.status ?? (timedOut ? 124 : 127)
  return { code, stdout: result.stdout ?? '', stderr: result.stderr || (result.error?.message ?? '') }
}

/** git's own words for a failure (its first lines of stderr), or its exit code when it said nothing. */
export function gitMessage(result: GitResult): string {
  return result.stderr.trim().split('\n').slice(0, 10).join('\n') || `git exited with code ${result.code}`
}

/** git's trimmed output when it succeeds, undefined when it fails or prints nothing. */
export async function gitOutput(args: readonly string[], options: GitOptions): Promise<string | undefined> {
  const result = await git(args, options)
  return result.code === 0 ? result.stdout.trim() || undefined : undefined
}

/** Where `dir` sits in its git repository, or undefined outside one. `prefix` is `''` at the root, else ends with `/`. */
export async function gitLocation(dir: string): Promise<{ root: string; prefix: string } | undefined> {
  const result = await git(['rev-parse', '--show-toplevel', '--show-prefix'], { cwd: dir })
  if (result.code !== 0) return undefined
  const [root = '', prefix = ''] = result.stdout.split('\n')
  return { root, prefix }
}
