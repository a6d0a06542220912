/**
 * A change to validate, and how its sandboxes are built so that they match the diff the plans were
 * selected for: a patch (baseline = the folder as it is, candidate = a patched copy) or a base ref
 * (baseline = a worktree of the merge base, candidate = the working tree). Shared by `vigil ci` and the
 * MCP server.
 */
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { diffAgainstBase, gitLocation, pathMapper, parseDiff } from '../../selectors/index.js'
import type { DiffSource, ParsedDiff, SelectionRecord } from '../../selectors/index.js'
import { UsageError } from '../errors.js'

/** Where a change comes from: exactly one of these. */
export type ChangeSpec =
  | { kind: 'patch'; file: string }
  | { kind: 'base'; ref: string }
  /** Diff text given inline (an MCP argument); the candidate applies it from `file`. */
  | { kind: 'text'; text: string; file: string }

export interface ResolvedChange {
  diff: ParsedDiff
  /** For the selection record. */
  source: { kind: DiffSource; file?: string; base?: string; mergeBase?: string }
  /** `--base` of the run: the merge base commit, so the baseline is exactly what the diff starts from. */
  runBase?: string
  /** `--patch` of the run (relative to `cwd` or absolute). */
  runPatch?: string
  /** One line for people: what is compared with what. */
  describe: string
}

/** Where a change is read. */
export interface ChangeContext {
  /** The config's folder. */
  configDir: string
  /** Relative patch paths resolve against it. */
  cwd: string
  /** The config folder's prefix in its repository (`''` or ending with `/`). */
  prefix: string
  /**
   * Absolute files and folders left out of a `--base` diff: the command's own artefacts, which would
   * otherwise show up as untracked files of the next run. @default []
   */
  exclude?: readonly string[]
}

async function readPatch(file: string, cwd: string): Promise<string> {
  try {
    return await readFile(path.resolve(cwd, file), 'utf8')
  } catch (error) {
    throw new UsageError(`--patch ${file}: cannot read it: ${(error as Error).message}`, { cause: error })
  }
}

/**
 * Reads the diff of a change. A diff that has text but no file section is a usage error: selecting
 * nothing for a diff nobody can read would pass a change that was never looked at.
 */
export async function resolveChange(spec: ChangeSpec, ctx: ChangeContext): Promise<ResolvedChange> {
  if (spec.kind === 'base') {
    const base = await diffAgainstBase(spec.ref, ctx.configDir)
    const root = (await gitLocation(ctx.configDir))?.root
    const text = root && ctx.exclude?.length ? withoutPaths(base.text, root, ctx.exclude) : base.text
    return {
      diff: parseDiff(text, { mapPath: pathMapper(base.prefix, 'repo') }),
      source: { kind: 'base', base: spec.ref, mergeBase: base.mergeBase },
      runBase: base.mergeBase,
      describe: `working tree against ${spec.ref} (merge base ${base.mergeBase.slice(0, 12)})`,
    }
  }
  const text = spec.kind === 'patch' ? await readPatch(spec.file, ctx.cwd) : spec.text
  const diff = parseDiff(text, { mapPath: pathMapper(ctx.prefix, 'auto') })
  const where = spec.kind === 'patch' ? `--patch ${spec.file}` : 'diff'
  if (diff.files.length === 0 && text.trim()) {
    throw new UsageError(
      `${where}: not a unified diff (no "diff --git" or "---/+++" file sections found)` +
        (diff.warnings.length ? `: ${diff.warnings.slice(0, 3).join('; ')}` : ''),
    )
  }
  return {
    diff,
    source: spec.kind === 'patch' ? { kind: 'patch', file: spec.file } : { kind: 'inline' },
    runPatch: spec.file,
    describe:
      spec.kind === 'patch'
        ? `the config folder with ${spec.file} applied, against the folder as it is`
        : 'the config folder with the given diff applied, against the folder as it is',
  }
}

/**
 * The sandboxes' sources for a selection record read from a file, when the command line names no
 * change: a record of a `--base` diff runs against its merge base, one of a patch file with that patch.
 */
export function changeOfRecord(record: SelectionRecord): { runBase?: string; runPatch?: string } {
  const d = record.diff
  if (d.source === 'base' && d.mergeBase) return { runBase: d.mergeBase }
  if ((d.source === 'patch' || d.source === 'file') && d.file) return { runPatch: d.file }
  return {}
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
