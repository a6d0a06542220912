/**
 * The one reader of a change, for every command that takes one — `vigil select`, `vigil ci`, `vigil run
 * --patch`, the MCP server's tools: diff text (a file, stdin, an argument) or `--base REF`. Paths are
 * mapped to the config's folder (see git.ts). Text that is not a unified diff is refused: selecting
 * nothing for a diff nobody can read would pass a change that was never looked at. An empty diff (no
 * changes) is a diff.
 */
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { diffAgainstBase, gitLocation, pathMapper } from './git.js'
import { parseDiff } from './diff.js'
import { DiffError } from './errors.js'
import type { DiffSource } from './record.js'
import type { ParsedDiff } from './types.js'

export interface ChangeSource {
  kind: DiffSource
  /** The diff or patch file as the user gave it. */
  file?: string
  base?: string
  mergeBase?: string
}

/** Where a change comes from. `file` is a diff argument, `patch` a `--patch` file, `inline` an MCP argument. */
export type ChangeInput =
  | { kind: 'file' | 'patch' | 'stdin' | 'inline'; text: string; file?: string }
  | {
      kind: 'base'
      ref: string
      /**
       * Absolute files and folders left out of the diff: a command's own artefacts, which would otherwise
       * show up as untracked files of the next run. @default []
       */
      exclude?: readonly string[]
    }

export interface ReadChangeOptions {
  /**
   * Where the config folder sits in its repository (its top level, and its prefix `''` or ending with `/`)
   * when the caller knows it, null when it knows the folder is in none: git is not asked again.
   * @default found with git
   */
  location?: { root: string; prefix: string } | null
  /** A `--base` diff's merge base, when the caller has just read it (mergeBaseOf). @default read with git */
  mergeBase?: string
}

/**
 * Reads and parses a change for the config in `configDir`.
 * @throws DiffError (exit 2) when the text is not a unified diff or git cannot produce the diff.
 */
export async function readChange(
  input: ChangeInput,
  configDir: string,
  options: ReadChangeOptions = {},
): Promise<{ diff: ParsedDiff; source: ChangeSource }> {
  if (input.kind === 'base') {
    const base = await diffAgainstBase(input.ref, configDir, options.location ?? undefined, options.mergeBase)
    const root = input.exclude?.length ? base.root : undefined
    const text = root ? withoutPaths(base.text, root, input.exclude!) : base.text
    const diff = parseDiff(text, { mapPath: pathMapper(base.prefix, 'repo') })
    return { diff, source: { kind: 'base', base: input.ref, mergeBase: base.mergeBase } }
  }
  // Diff files may be relative to the config's folder (the shop's patches) or to the repository root.
  const location = options.location === undefined ? await gitLocation(configDir) : options.location
  const prefix = location?.prefix ?? ''
  const text = input.text.charCodeAt(0) === 0xfeff ? input.text.slice(1) : input.text
  const diff = parseDiff(text, { mapPath: pathMapper(prefix, 'auto') })
  const problem = notADiff(text, diff)
  if (problem) throw new DiffError(`${labelOf(input)}: not a unified diff (${problem})`)
  return {
    diff,
    source: input.file === undefined ? { kind: input.kind } : { kind: input.kind, file: input.file },
  }
}

/** Reads a diff file named on the command line (`--patch FILE`, a DIFF argument), relative to `cwd`. */
export async function readDiffFile(file: string, cwd: string, label = file): Promise<string> {
  try {
    return await readFile(path.resolve(cwd, file), 'utf8')
  } catch (error) {
    throw new DiffError(`${label}: cannot read it: ${(error as Error).message}`, { cause: error })
  }
}

function labelOf(input: { kind: 'file' | 'patch' | 'stdin' | 'inline'; file?: string }): string {
  if (input.kind === 'patch') return `--patch ${input.file ?? ''}`.trim()
  if (input.kind === 'file') return input.file ?? 'diff'
  return input.kind === 'stdin' ? 'stdin' : 'diff'
}

/** Why non-empty text is not a unified diff; undefined when it is one, or has no changes at all. */
export function notADiff(text: string, diff: ParsedDiff): string | undefined {
  if (!text.trim()) return undefined
  if (text.includes('\0')) return 'binary data (NUL bytes)'
  if (diff.files.length === 0) return 'no "diff --git" or "---/+++" file sections found'
  if (diff.files.some((f) => f.path === '(unknown)'))
    return 'a hunk with no "diff --git" or "---/+++" header naming its file'
  // A section with no hunks is a change only when its headers say what changed (a new or deleted empty
  // file, a rename or copy, a mode, a binary file); otherwise the diff was cut short.
  const truncated = diff.files.find(
    (f) => f.hunks.length === 0 && !f.binary && f.mode === undefined && f.status === 'modified',
  )
  if (truncated) return `${truncated.path} has a header but no hunks (a truncated diff?)`
  return undefined
}

/**
 * The diff without the `diff --git` sections of files at or under `exclude` (absolute paths).
 * Paths with quotes or spaces in their header are kept: they are never the command's own artefacts.
 */
export function withoutPaths(text: string, root: string, exclude: readonly string[]): string {
  const prefixes = exclude
    .map((file) => path.relative(root, file).split(path.sep).join('/'))
    .filter((rel) => rel && !rel.startsWith('..') && !path.isAbsolute(rel))
  if (prefixes.length === 0) return text
  const excluded = (file: string) => prefixes.some((p) => file === p || file.startsWith(`${p}/`))
  const sections = text.split(/^(?=diff --git )/m)
  return sections
    .filter((section) => {
      const header = /^diff --git a\/(\S+) b\/(\S+)\n/.exec(section)
      return !header || !(excluded(header[1]!) && excluded(header[2]!))
    })
    .join('')
}
