/**
 * Which builds a run compares: for each side, where its services ran from (the working tree at a commit,
 * a worktree of a ref, a copy with a patch), which keys of the config's `baseline:` section changed it,
 * and what each service ran as. Recorded in the verdict's identity, and what `vigil reproduce` starts again.
 */
import path from 'node:path'
import type { Sandbox } from '../api/sandbox.js'
import type { SideIdentity, SideSource } from '../verdict.js'
import { git } from '../../plans/git.js'
import type { SourceTree } from './source.js'
import { isPlainObject } from './config.js'

/** HEAD of the repository holding `dir`, and whether `dir` has uncommitted changes; {} outside git. */
export async function workingTreeState(dir: string): Promise<{ commit?: string; dirty?: boolean }> {
  // Outside a repository both fail, and nothing is known.
  const [head, status] = await Promise.all([
    git(['rev-parse', 'HEAD'], { cwd: dir }),
    git(['status', '--porcelain', '--untracked-files=normal', '--', '.'], { cwd: dir }),
  ])
  const out: { commit?: string; dirty?: boolean } = {}
  if (head.code === 0 && head.stdout.trim()) out.commit = head.stdout.trim()
  if (status.code === 0 && status.stdout.trim()) out.dirty = true
  return out
}

/** The leaf key paths of the `baseline:` section, `services.orders.command`; an object replaced whole counts once. */
export function overrideKeys(section: unknown, prefix: string[] = []): string[] {
  if (!isPlainObject(section) || Object.keys(section).length === 0)
    return prefix.length ? [prefix.join('.')] : []
  return Object.keys(section)
    .sort()
    .flatMap((key) => overrideKeys(section[key], [...prefix, key]))
}

export interface SidesInput {
  configDir: string
  /** The folder a relative patch path is shown against. */
  cwd: string
  base?: string
  patch?: string
  candidateTree?: SourceTree
  baselineTree?: SourceTree
  /** The config's `baseline:` section. */
  baselineSection?: unknown
  providers: { candidate: string; baseline?: string }
  candidate: Sandbox
  baseline?: Sandbox
}

/** The identity of each side of a started session. */
export async function describeSides(
  input: SidesInput,
): Promise<{ candidate: SideIdentity; baseline?: SideIdentity }> {
  const tree = await workingTreeState(input.configDir)
  const candidateSource: SideSource = input.patch
    ? {
        kind: 'patch',
        patch: path.relative(input.cwd, path.resolve(input.cwd, input.patch)) || input.patch,
        ...(input.candidateTree?.patchSha256 ? { patchSha256: input.candidateTree.patchSha256 } : {}),
        ...tree,
      }
    : { kind: 'working-tree', ...tree }
  const side = (source: SideSource, provider: string | undefined, sandbox: Sandbox): SideIdentity => ({
    source,
    ...(provider ? { provider } : {}),
    services: { ...(sandbox.build ?? {}) },
  })
  const out: { candidate: SideIdentity; baseline?: SideIdentity } = {
    candidate: side(candidateSource, input.providers.candidate, input.candidate),
  }
  if (input.baseline) {
    const source: SideSource = input.base
      ? {
          kind: 'ref',
          ref: input.base,
          ...(input.baselineTree?.commit ? { commit: input.baselineTree.commit } : {}),
        }
      : { kind: 'working-tree', ...tree }
    const overrides = overrideKeys(input.baselineSection)
    if (overrides.length) source.overrides = overrides
    out.baseline = side(source, input.providers.baseline, input.baseline)
  }
  return out
}

/** The commit `ref` names in the repository holding `dir`, or undefined when it names none. */
export async function resolveCommit(dir: string, ref: string): Promise<string | undefined> {
  const result = await git(['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`], {
    cwd: dir,
  })
  return result.code === 0 ? result.stdout.trim() || undefined : undefined
}
