/**
 * The ref a pull request is compared against when `--base` is not given: the target branch of a GitHub
 * pull request (`GITHUB_BASE_REF`), else the branch `origin/HEAD` points at, else `main` or `master`
 * (local, then on origin). The caller takes the merge base of that ref and HEAD.
 */
import { gitOutput } from '../../plans/git.js'
import { UsageError } from '../errors.js'

export interface DefaultBase {
  /** The ref to diff against, e.g. `origin/main`. */
  ref: string
  /** Why this ref: `GITHUB_BASE_REF`, `origin/HEAD`, `fallback`. Printed so CI logs say which was used. */
  reason: string
}

function git(args: string[], cwd: string): Promise<string | undefined> {
  return gitOutput(args, { cwd, timeoutMs: 10_000 })
}

/** True when `ref` names a commit in the repository holding `cwd`. */
async function isCommit(ref: string, cwd: string): Promise<boolean> {
  const out = await git(['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`], cwd)
  return out !== undefined && out !== ''
}

/**
 * Finds the default base of the repository holding `cwd`. Throws a UsageError naming every candidate
 * tried when none exists (a shallow clone without the target branch, a repository without main).
 */
export async function defaultBase(
  cwd: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<DefaultBase> {
  const tried: string[] = []
  const first = async (refs: string[], reason: string): Promise<DefaultBase | undefined> => {
    for (const ref of refs) {
      tried.push(ref)
      if (await isCommit(ref, cwd)) return { ref, reason }
    }
    return undefined
  }
  const target = env.GITHUB_BASE_REF?.trim()
  if (target) {
    const found = await first([`origin/${target}`, target], `GITHUB_BASE_REF=${target}`)
    if (found) return found
  }
  const head = await git(['symbolic-ref', '--quiet', 'refs/remotes/origin/HEAD'], cwd)
  if (head?.startsWith('refs/remotes/')) {
    const found = await first([head.slice('refs/remotes/'.length)], 'origin/HEAD')
    if (found) return found
  }
  const found = await first(['main', 'master', 'origin/main', 'origin/master'], 'fallback: no origin/HEAD')
  if (found) return found
  throw new UsageError(
    `--base: not given, and no default branch was found (tried ${tried.join(', ')}); ` +
      'pass --base REF (in a shallow CI checkout, fetch the base branch first)',
  )
}

/** `git merge-base REF HEAD` in the repository holding `cwd`. */
export async function mergeBase(ref: string, cwd: string): Promise<string> {
  const out = await git(['merge-base', '--end-of-options', ref, 'HEAD'], cwd)
  if (!out) throw new UsageError(`--base ${ref}: no merge base with HEAD (is ${ref} fetched?)`)
  return out
}
