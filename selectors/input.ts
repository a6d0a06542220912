/**
 * A change as the selectors see it, from any of the inputs the CLI and the MCP server accept: diff text
 * (a file, stdin) or `--base REF`. Paths are mapped to the config's folder (see git.ts).
 */
import { diffAgainstBase, gitLocation, pathMapper } from './git.js'
import { parseDiff } from './diff.js'
import type { DiffSource } from './record.js'
import type { ParsedDiff } from './types.js'

export interface ChangeSource {
  kind: DiffSource
  /** The diff or patch file as the user gave it. */
  file?: string
  base?: string
  mergeBase?: string
}

export type ChangeInput =
  { kind: 'file' | 'patch' | 'stdin'; text: string; file?: string } | { kind: 'base'; ref: string }

/** Reads and parses a change for the config in `configDir`. Throws DiffError when git fails. */
export async function readChange(
  input: ChangeInput,
  configDir: string,
): Promise<{ diff: ParsedDiff; source: ChangeSource }> {
  if (input.kind === 'base') {
    const base = await diffAgainstBase(input.ref, configDir)
    const diff = parseDiff(base.text, { mapPath: pathMapper(base.prefix, 'repo') })
    return { diff, source: { kind: 'base', base: input.ref, mergeBase: base.mergeBase } }
  }
  // Diff files may be relative to the config's folder (the shop's patches) or to the repository root.
  const prefix = (await gitLocation(configDir))?.prefix ?? ''
  const diff = parseDiff(input.text, { mapPath: pathMapper(prefix, 'auto') })
  return {
    diff,
    source: input.file === undefined ? { kind: input.kind } : { kind: input.kind, file: input.file },
  }
}
