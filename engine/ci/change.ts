/**
 * A change to validate, and how its sandboxes are built so that they match the diff the plans were
 * selected for: a patch (baseline = the folder as it is, candidate = a patched copy) or a base ref
 * (baseline = a worktree of the merge base, candidate = the working tree). Shared by `vigil ci` and the
 * MCP server.
 */
import { readChange, readDiffFile } from '../../selectors/index.js'
import type { DiffSource, ParsedDiff, SelectionRecord } from '../../selectors/index.js'

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
  /**
   * Where the config folder sits in its repository (its top level, and its prefix `''` or ending with `/`),
   * as the caller found it with gitLocation: git is not asked again. Undefined when it found none: a patch's
   * paths are then read relative to the folder, and a `--base` diff asks git itself (and fails outside one).
   */
  location: { root: string; prefix: string } | undefined
  /**
   * Absolute files and folders left out of a `--base` diff: the command's own artefacts, which would
   * otherwise show up as untracked files of the next run. @default []
   */
  exclude?: readonly string[]
  /** A `--base` change's merge base, when the caller has just read it (mergeBaseOf). @default read with git */
  mergeBase?: string
}

/**
 * Reads the diff of a change (with selectors' `readChange`, the one reader every command uses: text that
 * is not a unified diff is a DiffError, exit 2) and says how the sandboxes are built for it.
 */
export async function resolveChange(spec: ChangeSpec, ctx: ChangeContext): Promise<ResolvedChange> {
  if (spec.kind === 'base') {
    const { diff, source } = await readChange(
      { kind: 'base', ref: spec.ref, ...(ctx.exclude ? { exclude: ctx.exclude } : {}) },
      ctx.configDir,
      { location: ctx.location ?? null, ...(ctx.mergeBase ? { mergeBase: ctx.mergeBase } : {}) },
    )
    const mergeBase = source.mergeBase!
    return {
      diff,
      source,
      runBase: mergeBase,
      describe: `working tree against ${spec.ref} (merge base ${mergeBase.slice(0, 12)})`,
    }
  }
  const text =
    spec.kind === 'patch' ? await readDiffFile(spec.file, ctx.cwd, `--patch ${spec.file}`) : spec.text
  const { diff } = await readChange(
    spec.kind === 'patch' ? { kind: 'patch', text, file: spec.file } : { kind: 'inline', text },
    ctx.configDir,
    { location: ctx.location ?? null },
  )
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
