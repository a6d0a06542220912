/**
 * Where a sandbox's services run from: the working tree, a git worktree of `--base REF`, or a copy of
 * the config's folder with `--patch FILE` applied. Temporary trees live under os.tmpdir() as `vigil-*`
 * and are removed by `cleanup()`, or synchronously at exit if the process dies first.
 */
import { createHash } from 'node:crypto'
import { existsSync, rmSync } from 'node:fs'
import { cp, mkdtemp, readFile, realpath, rm, stat, symlink } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { git, gitLocation, gitMessage, gitSync, type GitOptions } from '../../plans/git.js'
import { InfrastructureError } from '../errors.js'
import { onExit } from '../lifecycle.js'
import type { RunTracker } from '../api/sandbox.js'

export interface SourceTree {
  /** The directory that plays the config's folder (services' `cwd`s resolve against it). */
  root: string
  /** The temporary directory to remove; everything of this tree is inside it. */
  tempDir: string
  /** Removes the tree (and its git worktree registration). Idempotent; never throws. */
  cleanup(): Promise<void>
  /** What the run should know about the tree, e.g. dependencies that differ from the installed ones. */
  notes?: string[]
  /** The commit a worktree was made of (the one it holds now, after `checkout`). */
  commit?: string
  /**
   * A worktree only: moves it to another commit in place, and returns the files that differ between the
   * two, relative to `root` (within it only). Untracked files (a linked node_modules, build output) stay.
   */
  checkout?(commit: string): Promise<string[]>
  /** sha256 of the patch a patched copy was made with. */
  patchSha256?: string
}

/** The repository's top-level directory containing `dir` (its real path), or undefined when `dir` is not in one. */
export async function gitTopLevel(dir: string): Promise<string | undefined> {
  const where = await gitLocation(dir)
  return where ? realpath(where.root) : undefined
}

/**
 * A temporary `git worktree` of `ref`; `root` is the config's folder inside it. With `tracker`, the tree
 * and its registration are recorded in the run's state from before `git worktree add` until removed.
 */
export async function worktreeSource(
  configDir: string,
  ref: string,
  tracker?: RunTracker,
): Promise<SourceTree> {
  const top = await gitTopLevel(configDir)
  if (!top) {
    throw new InfrastructureError(`--base ${ref}: ${configDir} is not inside a git repository`, [], {
      code: 'VIGIL_GIT',
    })
  }
  const verified = await git(['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`], {
    cwd: top,
  })
  if (verified.code !== 0) {
    throw new InfrastructureError(
      `--base ${ref}: not a commit in ${top} (git rev-parse: ${gitMessage(verified) || 'unknown revision'})`,
      [],
      {
        code: 'VIGIL_GIT',
      },
    )
  }
  const commit = verified.stdout.trim()
  const tempDir = await mkdtemp(path.join(os.tmpdir(), 'vigil-base-'))
  const tree = path.join(tempDir, 'tree')
  const forget = tracker?.tree({ tempDir, worktree: { repo: top, path: tree } }) ?? (() => {})
  const removeSync = (): void => {
    gitSync(['worktree', 'remove', '--force', tree], { cwd: top })
    rmSync(tempDir, { recursive: true, force: true })
    gitSync(['worktree', 'prune'], { cwd: top })
    forget()
  }
  const unregister = onExit(removeSync)
  let cleaning: Promise<void> | undefined
  const cleanup = (): Promise<void> =>
    (cleaning ??= (async () => {
      await git(['worktree', 'remove', '--force', tree], { cwd: top })
      await rm(tempDir, { recursive: true, force: true })
      await git(['worktree', 'prune'], { cwd: top })
      unregister()
      forget()
    })())
  const added = await git(['worktree', 'add', '--detach', tree, commit], { cwd: top })
  if (added.code !== 0) {
    await cleanup()
    throw new InfrastructureError(`--base ${ref}: git worktree add failed: ${gitMessage(added)}`, [], {
      code: 'VIGIL_GIT',
    })
  }
  const relative = path.relative(top, await realpath(configDir))
  const root = path.join(tree, relative)
  if (!existsSync(root)) {
    await cleanup()
    throw new InfrastructureError(`--base ${ref}: folder ${relative || '.'} does not exist at ${ref}`, [], {
      code: 'VIGIL_GIT',
    })
  }
  // Dependencies are not in git: let the base's services use the working tree's installed ones, and say
  // so where the base's lockfile differs from the working tree's (a dependency change is not in the baseline).
  const notes: string[] = []
  const folders = relative ? [top, await realpath(configDir)] : [top]
  for (const folder of folders) {
    const base = path.join(tree, path.relative(top, folder))
    if (!(await linkIfMissing(path.join(folder, 'node_modules'), path.join(base, 'node_modules')))) continue
    for (const name of await differingLockfiles(folder, base)) {
      const shown = path.relative(top, path.join(folder, name)) || name
      notes.push(
        `--base ${ref}: ${shown} differs from the working tree's; the baseline runs with the working tree's node_modules, so a dependency change is not in the baseline`,
      )
    }
  }
  const source: SourceTree = { root, tempDir, cleanup, notes, commit }
  source.checkout = async (next) => {
    const from = source.commit!
    const diff = await git(['diff', '-z', '--name-only', '--no-renames', '--relative', from, next], {
      cwd: root,
    })
    const moved =
      diff.code === 0 && (await git(['checkout', '--quiet', '--force', '--detach', next], { cwd: tree }))
    if (!moved || moved.code !== 0) {
      throw new InfrastructureError(
        `--base ${ref}: could not move the baseline's worktree from ${from.slice(0, 12)} to ${next.slice(0, 12)}: ${gitMessage(moved || diff)}`,
        [],
        { code: 'VIGIL_GIT' },
      )
    }
    source.commit = next
    return diff.stdout.split('\0').filter(Boolean).sort()
  }
  return source
}

const LOCKFILES = ['package-lock.json', 'npm-shrinkwrap.json', 'yarn.lock', 'pnpm-lock.yaml', 'bun.lock']

/** The lockfiles of `a` and `b` (folders) whose contents differ, or that only one of them has. */
async function differingLockfiles(a: string, b: string): Promise<string[]> {
  const read = (file: string): Promise<string | undefined> => readFile(file, 'utf8').catch(() => undefined)
  const out: string[] = []
  for (const name of LOCKFILES) {
    const [left, right] = await Promise.all([read(path.join(a, name)), read(path.join(b, name))])
    if (left !== right) out.push(name)
  }
  return out
}

/** The nearest `node_modules` folder in `dir` or above it, or undefined. */
function nearestNodeModules(dir: string): string | undefined {
  for (let at = path.resolve(dir); ; at = path.dirname(at)) {
    const candidate = path.join(at, 'node_modules')
    if (existsSync(candidate)) return candidate
    if (path.dirname(at) === at) return undefined
  }
}

/**
 * A copy of the config's folder (without `.git` and vigil's own `.vigil`; `node_modules` folders become
 * links to the originals) with the patch applied by `git apply`. Paths in the patch are relative to the
 * config's folder; a patch made at the repository root (`git diff` there) is accepted too when all its
 * paths lie inside the folder. With `tracker`, the copy is recorded in the run's state until removed.
 */
export async function patchedSource(
  configDir: string,
  patchFile: string,
  tracker?: RunTracker,
): Promise<SourceTree> {
  const display = path.relative(process.cwd(), patchFile) || patchFile
  let patch: string
  try {
    patch = await readFile(patchFile, 'utf8')
  } catch (error) {
    throw new InfrastructureError(`--patch ${display}: cannot read it (${(error as Error).message})`, [], {
      code: 'VIGIL_PATCH',
      cause: error,
    })
  }
  const tempDir = await mkdtemp(path.join(os.tmpdir(), 'vigil-patch-'))
  const forget = tracker?.tree({ tempDir }) ?? (() => {})
  const unregister = onExit(() => {
    rmSync(tempDir, { recursive: true, force: true })
    forget()
  })
  const done = (): void => {
    unregister()
    forget()
  }
  let cleaning: Promise<void> | undefined
  const cleanup = (): Promise<void> =>
    (cleaning ??= rm(tempDir, { recursive: true, force: true }).then(done, done))
  try {
    const root = path.join(tempDir, 'tree')
    const links: Array<[string, string]> = []
    await cp(configDir, root, {
      recursive: true,
      verbatimSymlinks: true,
      filter: (src) => {
        const name = path.basename(src)
        // `.vigil` holds vigil's own runs, state and caches, which other runs write to while we copy.
        if (name === '.git' || name === '.vigil') return false
        if (name === 'node_modules') {
          links.push([src, path.join(root, path.relative(configDir, src))])
          return false
        }
        return true
      },
    })
    for (const [from, to] of links) await linkIfMissing(from, to)
    // A service in the config's folder may resolve packages from a node_modules above it (a sample inside
    // a repository): the copy's parent gets a link to the nearest one, so resolution finds the same packages.
    const above = nearestNodeModules(path.dirname(configDir))
    if (above) await linkIfMissing(above, path.join(tempDir, 'node_modules'))
    const patchSha256 = createHash('sha256')
      .update(await readFile(patchFile))
      .digest('hex')
    // An empty diff (no changes) is a legal change: git apply refuses it, and there is nothing to apply.
    if (!patch.trim()) return { root, tempDir, cleanup, patchSha256 }
    // Outside any repository (the copy has no .git and the ceiling stops the search), git apply
    // works on plain files relative to the copy.
    const env = { ...process.env, GIT_CEILING_DIRECTORIES: tempDir }
    const strip = await stripLevel(configDir, patchFile, { cwd: root, env })
    const args = ['apply', `-p${strip}`, '--whitespace=nowarn', patchFile]
    const check = await git(['apply', '--check', ...args.slice(1)], { cwd: root, env })
    if (check.code !== 0) {
      throw new InfrastructureError(
        `--patch ${display}: does not apply to ${path.relative(process.cwd(), configDir) || '.'}: ${gitMessage(check)}`,
        [],
        { code: 'VIGIL_PATCH' },
      )
    }
    const applied = await git(args, { cwd: root, env })
    if (applied.code !== 0) {
      throw new InfrastructureError(`--patch ${display}: git apply failed: ${gitMessage(applied)}`, [], {
        code: 'VIGIL_PATCH',
      })
    }
    return { root, tempDir, cleanup, patchSha256 }
  } catch (error) {
    await cleanup()
    throw error
  }
}

/** 1 for paths relative to the folder; more when every path starts with the folder's path in its repository. */
async function stripLevel(configDir: string, patchFile: string, where: GitOptions): Promise<number> {
  const top = await gitTopLevel(configDir)
  if (!top) return 1
  const prefix = path
    .relative(top, await realpath(configDir))
    .split(path.sep)
    .join('/')
  if (!prefix) return 1
  // The patch's paths as git apply reads them (quoted names, renames), one leading component stripped: the
  // change itself is read by the selectors (selectors/input.ts); here only where it applies is decided.
  const listed = await git(['apply', '--numstat', '-z', '-p1', patchFile], where)
  const paths =
    listed.code === 0
      ? listed.stdout
          .split('\0')
          .map((entry) => entry.slice(entry.lastIndexOf('\t') + 1))
          .filter(Boolean)
      : []
  const inside = paths.length > 0 && paths.every((p) => p.startsWith(`${prefix}/`))
  return inside ? 1 + prefix.split('/').length : 1
}

/** Links `link` to `target` when the target exists and the link does not; true when it linked. */
async function linkIfMissing(target: string, link: string): Promise<boolean> {
  const exists = async (p: string): Promise<boolean> =>
    stat(p).then(
      () => true,
      () => false,
    )
  if (!(await exists(target)) || (await exists(link))) return false
  return symlink(target, link, 'dir').then(
    () => true,
    () => false,
  )
}
