/**
 * What dead runs left behind, from their state files (see run-state.ts), and removing it: the local half
 * of `vigil sandboxes gc`. Safe at any time: a run whose owner still runs — the same process, checked by
 * pid and start time — is never touched, and a recorded process group is only stopped when it is still
 * the one the run started. Databases a dead run made on a `url:` server are dropped there by their prefix.
 */
import { existsSync, realpathSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {
  groupMembers,
  isProcessAlive,
  isSameProcess,
  processStartTime,
  terminateGroup,
} from '../processes/process-tree.js'
import { gitSync } from '../../plans/git.js'
import { memoryFolders } from '../memory-folder.js'
import { readStateFiles, type RunStateDocument } from '../processes/run-state.js'
import type { TrackedDatabases, TrackedProcess, TrackedTree } from '../api/sandbox.js'

export type LeftoverAction =
  /** Present, and left alone: its run is alive. */
  | 'live'
  /** Removed (a process group stopped, a tree and its worktree registration removed). */
  | 'removed'
  /** Present; a dry run would remove it. */
  | 'would-remove'
  /** Already gone. */
  | 'gone'
  /** The recorded pid now belongs to another process: not ours, left alone. */
  | 'not-ours'
  /** Cannot be verified here (no /proc, or a path outside vigil's temporary trees): left alone. */
  | 'unverified'
  /** Still there after the attempt. */
  | 'failed'

export interface LeftoverItem {
  kind: 'process' | 'tree' | 'worktree' | 'database'
  /** `candidate/orders (pgid 1234)`, the tree's path, or `vigil_1a2b_db* on 127.0.0.1:5432`. */
  what: string
  action: LeftoverAction
}

export interface RunLeftovers {
  id: string
  owner: { pid: number; alive: boolean }
  startedAt: string
  items: LeftoverItem[]
}

type ProcessStatus = 'running' | 'gone' | 'not-ours' | 'unverified'

/** Whether a recorded service group still runs, and is still the one the run started. */
function processStatus(p: TrackedProcess): ProcessStatus {
  if (!existsSync('/proc/self/stat') || p.startTime === undefined) {
    return isProcessAlive(p.pid) || groupMembers(p.pgid).length > 0 ? 'unverified' : 'gone'
  }
  if (isProcessAlive(p.pid)) return processStartTime(p.pid) === p.startTime ? 'running' : 'not-ours'
  // The leader is gone but members of its group remain. Linux does not hand out a number that is still
  // some group's id, so while members remain it is the group the run started.
  return groupMembers(p.pgid).length > 0 ? 'running' : 'gone'
}

/** A tree vigil made: directly in the temp folder (or `/tmp`, or a RAM folder: memory-folder.ts), named `vigil-base-*`, `vigil-patch-*` or `vigil-dep-*` (a broker's or database's data). */
function isVigilTree(t: TrackedTree): boolean {
  const parent = (dir: string): string => {
    try {
      return realpathSync(dir)
    } catch {
      return path.resolve(dir)
    }
  }
  const dir = path.resolve(t.tempDir)
  // `/tmp` too: a server run as another user gets its folder there when the temp folder is private to vigil;
  // and the RAM folders PostgreSQL's branches may go in.
  const roots = new Set([os.tmpdir(), '/tmp', ...memoryFolders()].map(parent))
  return (
    roots.has(parent(path.dirname(dir))) &&
    /^vigil-(base|patch|dep)-[\w-]+$/.test(path.basename(dir)) &&
    (t.worktree === undefined || path.resolve(t.worktree.path) === path.join(dir, 'tree'))
  )
}

function isOwnerAlive(state: RunStateDocument): boolean {
  return isSameProcess(state.owner.pid, state.owner.startTime)
}

function describeProcess(p: TrackedProcess): string {
  return `${p.sandbox}/${p.service} (pgid ${p.pgid})`
}

function describeDatabases(d: TrackedDatabases): string {
  let where: string
  try {
    where = new URL(d.url).host
  } catch {
    where = 'a server'
  }
  return `${d.prefix}* on ${where}`
}

/** Runs whose owner is dead and that left something that still exists; read-only and cheap (no git). */
export function findLeftovers(): RunLeftovers[] {
  const out: RunLeftovers[] = []
  for (const { state } of readStateFiles()) {
    if (isOwnerAlive(state)) continue
    const items: LeftoverItem[] = [
      ...state.processes
        .filter((p) => processStatus(p) === 'running')
        .map((p) => ({
          kind: 'process' as const,
          what: describeProcess(p),
          action: 'would-remove' as const,
        })),
      ...state.trees
        .filter((t) => existsSync(t.tempDir))
        .map((t) => ({
          kind: t.worktree ? ('worktree' as const) : ('tree' as const),
          what: t.tempDir,
          action: 'would-remove' as const,
        })),
      // Not looked up here (that needs the server): a dead run that still records them did not drop them.
      ...(state.databases ?? []).map((d) => ({
        kind: 'database' as const,
        what: describeDatabases(d),
        action: 'would-remove' as const,
      })),
    ]
    if (items.length > 0) out.push(runOf(state, false, items))
  }
  return out
}

/**
 * One line for a run's start when earlier runs left things behind, naming the command that removes them.
 * Counted by vigil process: one process may have had several state files (sessions, check commands).
 */
export function leftoverNotice(runs: readonly RunLeftovers[] = findLeftovers()): string | undefined {
  if (runs.length === 0) return undefined
  const items = runs.flatMap((r) => r.items)
  const count = (kind: LeftoverItem['kind'], word: string, words = `${word}s`) => {
    const n = items.filter((i) => i.kind === kind).length
    return n === 0 ? [] : [`${n} ${n === 1 ? word : words}`]
  }
  const what = [
    ...count('process', 'process group'),
    ...count('worktree', 'git worktree'),
    ...count('tree', 'temporary tree'),
    ...count('database', 'set of databases', 'sets of databases'),
  ].join(', ')
  const pids = [...new Set(runs.map((r) => r.owner.pid))]
  const who =
    pids.length === 1
      ? `an earlier vigil (pid ${pids[0]})`
      : `${pids.length} earlier vigils (pids ${pids.join(', ')})`
  return `${who} ended without cleaning up and left ${what} behind; \`vigil sandboxes gc\` removes them`
}

export interface LocalGcOptions {
  /** Only report. @default false */
  dryRun?: boolean
  /** SIGTERM → SIGKILL grace for a leftover process group. @default 2000 */
  graceMs?: number
}

/**
 * Every run with a state file: live ones listed and left alone; dead ones' process groups stopped, their
 * worktrees removed (`git worktree remove --force`, then `git worktree prune`), their temporary trees
 * deleted, and their state file deleted once nothing is left.
 */
export async function collectLocalGarbage(options: LocalGcOptions = {}): Promise<RunLeftovers[]> {
  const out: RunLeftovers[] = []
  for (const { file, state } of readStateFiles()) {
    if (isOwnerAlive(state)) {
      const items: LeftoverItem[] = [
        ...state.processes.map((p) => ({
          kind: 'process' as const,
          what: describeProcess(p),
          action: 'live' as const,
        })),
        ...state.trees.map((t) => ({
          kind: t.worktree ? ('worktree' as const) : ('tree' as const),
          what: t.tempDir,
          action: 'live' as const,
        })),
        ...(state.databases ?? []).map((d) => ({
          kind: 'database' as const,
          what: describeDatabases(d),
          action: 'live' as const,
        })),
      ]
      out.push(runOf(state, true, items))
      continue
    }
    const items: LeftoverItem[] = []
    for (const p of state.processes) items.push(await collectProcess(p, options))
    for (const t of state.trees) items.push(collectTree(t, options))
    for (const d of state.databases ?? []) items.push(await collectDatabases(d, options))
    const clean = items.every((i) => i.action === 'removed' || i.action === 'gone' || i.action === 'not-ours')
    if (clean && !options.dryRun) rmSync(file, { force: true })
    out.push(runOf(state, false, items))
  }
  return out
}

async function collectProcess(p: TrackedProcess, options: LocalGcOptions): Promise<LeftoverItem> {
  const item = (action: LeftoverAction): LeftoverItem => ({
    kind: 'process',
    what: describeProcess(p),
    action,
  })
  const status = processStatus(p)
  if (status !== 'running') return item(status)
  if (options.dryRun) return item('would-remove')
  await terminateGroup(p.pgid, options.graceMs ?? 2_000)
  return item(groupMembers(p.pgid).length === 0 ? 'removed' : 'failed')
}

function collectTree(t: TrackedTree, options: LocalGcOptions): LeftoverItem {
  const kind = t.worktree ? 'worktree' : 'tree'
  const item = (action: LeftoverAction): LeftoverItem => ({ kind, what: t.tempDir, action })
  // A state file is ours, but a path in it is still checked before anything is deleted.
  if (!isVigilTree(t)) return item('unverified')
  const repo = t.worktree && existsSync(t.worktree.repo) ? t.worktree.repo : undefined
  const present = existsSync(t.tempDir)
  if (options.dryRun) return item(present ? 'would-remove' : 'gone')
  if (repo && present) git(['worktree', 'remove', '--force', t.worktree!.path], repo)
  if (present) rmSync(t.tempDir, { recursive: true, force: true })
  // Also when the tree was already gone: its registration may remain (a crash between the two).
  if (repo) git(['worktree', 'prune'], repo)
  if (existsSync(t.tempDir)) return item('failed')
  return item(present ? 'removed' : 'gone')
}

/** Drops a dead run's databases on a server it did not start; a server that cannot be reached keeps them. */
async function collectDatabases(d: TrackedDatabases, options: LocalGcOptions): Promise<LeftoverItem> {
  const item = (action: LeftoverAction): LeftoverItem => ({
    kind: 'database',
    what: describeDatabases(d),
    action,
  })
  if (d.kind !== 'postgres' || !/^vigil_\w+$/.test(d.prefix)) return item('unverified')
  try {
    // Loaded here: the PostgreSQL driver is not worth loading for the other leftovers.
    const { dropPrefixed } = await import('../clients/database/admin.js')
    const found = await dropPrefixed(d.url, d.prefix, { dryRun: options.dryRun ?? false })
    if (found.length === 0) return item('gone')
    if (options.dryRun) return item('would-remove')
    const left = await dropPrefixed(d.url, d.prefix, { dryRun: true })
    return item(left.length === 0 ? 'removed' : 'failed')
  } catch {
    return item('failed')
  }
}

function git(args: string[], cwd: string): void {
  gitSync(args, { cwd, timeoutMs: 30_000 })
}

function runOf(state: RunStateDocument, alive: boolean, items: LeftoverItem[]): RunLeftovers {
  return { id: state.id, owner: { pid: state.owner.pid, alive }, startedAt: state.startedAt, items }
}
