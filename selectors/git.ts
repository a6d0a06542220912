/**
 * Diffs from git (`--base REF`) and the mapping of diff paths to the config's folder.
 *
 * `--base REF`: `git merge-base REF HEAD`, then `git diff <merge-base>` of the working tree (staged and
 * unstaged changes, renames detected), plus every untracked file that is not ignored, as a new file.
 * Git prints paths relative to the repository root; plans match paths relative to the config's folder,
 * so the folder's prefix is stripped, and files outside it keep a `../` path that never matches.
 */
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { git as runGit, gitLocation, gitMessage } from '../plans/git.js'
import { DiffError } from './errors.js'

export { gitLocation }

/** Untracked files larger than this are listed as added without content. @default 1 MiB */
const UNTRACKED_CONTENT_LIMIT = 1 << 20

/** git's output; a failure is a DiffError in git's own words. */
async function git(cwd: string, args: string[]): Promise<string> {
  const result = await runGit(args, { cwd })
  if (result.code !== 0) throw new DiffError(`git ${args.join(' ')}: ${gitMessage(result)}`)
  return result.stdout
}

export interface BaseDiff {
  /** The diff text, paths relative to the repository root. */
  text: string
  mergeBase: string
  /** The config folder's path inside the repository (`''` or ending with `/`). */
  prefix: string
  /** Untracked files included as new files. */
  untracked: string[]
  /** The repository's top level. */
  root: string
}

/** The merge base of `ref` and HEAD in the repository at `root`. @throws DiffError in git's words */
export async function mergeBaseOf(ref: string, root: string): Promise<string> {
  return (await git(root, ['merge-base', ref, 'HEAD'])).trim()
}

/**
 * The working tree's diff against the merge base of `ref` and HEAD, untracked files included. `location` is
 * where `dir` sits in its repository when the caller knows it already (git is not asked again), `known` the
 * merge base when it was just read (mergeBaseOf).
 */
export async function diffAgainstBase(
  ref: string,
  dir: string,
  location?: { root: string; prefix: string },
  known?: string,
): Promise<BaseDiff> {
  const where = location ?? (await gitLocation(dir))
  if (!where) throw new DiffError(`--base ${ref}: ${dir} is not inside a git repository`)
  const mergeBase = known ?? (await mergeBaseOf(ref, where.root))
  const [tracked, listed] = await Promise.all([
    git(where.root, [
      'diff',
      '--no-color',
      '--no-ext-diff',
      '--no-textconv',
      '--src-prefix=a/',
      '--dst-prefix=b/',
      '-M',
      mergeBase,
      '--',
    ]),
    git(where.root, ['ls-files', '--others', '--exclude-standard', '-z']),
  ])
  const untracked = listed.split('\0').filter(Boolean).sort()
  const parts = [tracked]
  for (const file of untracked) parts.push(await untrackedDiff(where.root, file))
  return { text: parts.join(''), mergeBase, prefix: where.prefix, untracked, root: where.root }
}

/** A `new file` section for an untracked file, as `git diff --no-index /dev/null FILE` would print it. */
async function untrackedDiff(root: string, file: string): Promise<string> {
  const name = /[\s"\\]/.test(file) ? JSON.stringify(file) : file
  const header = `diff --git a/${name} b/${name}\nnew file mode 100644\n`
  let content: Buffer
  try {
    content = await readFile(path.join(root, file))
  } catch {
    return header // vanished or unreadable: still listed as a change
  }
  if (content.includes(0) || content.length > UNTRACKED_CONTENT_LIMIT) {
    return `${header}Binary files /dev/null and b/${name} differ\n`
  }
  const text = content.toString('utf8')
  if (!text) return header
  const lines = text.endsWith('\n') ? text.slice(0, -1).split('\n') : text.split('\n')
  const noEol = text.endsWith('\n') ? '' : '\\ No newline at end of file\n'
  const body = lines.map((line) => `+${line}\n`).join('')
  return `${header}--- /dev/null\n+++ b/${name}\n@@ -0,0 +1,${lines.length} @@\n${body}${noEol}`
}

export type PathMapper = (file: string) => { path: string; outside: boolean }

/**
 * Maps diff paths to config-relative ones.
 * - `repo` (a `--base` diff): paths are repository-relative; the prefix is stripped, other files become `../…`.
 * - `auto` (a diff file, stdin, `--patch`): paths that start with the prefix lose it, others are taken as
 *   already relative to the config's folder (the shop's patches are written that way).
 */
export function pathMapper(prefix: string, mode: 'repo' | 'auto'): PathMapper {
  return (file) => {
    if (prefix && file.startsWith(prefix)) return { path: file.slice(prefix.length), outside: false }
    if (mode === 'auto' || !prefix) return { path: file, outside: false }
    return { path: path.posix.relative(prefix.slice(0, -1), file), outside: true }
  }
}
