/**
 * Process groups: every service is spawned detached, as the leader of its own group, so that the
 * whole tree it starts (a shell wrapper, `npm run`, workers) can be signalled at once.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'

/** PIDs of the live (non-zombie) processes of a group. On systems without /proc, `[pgid]` while the group exists. */
export function groupMembers(pgid: number): number[] {
  return groupsMembers([pgid]).get(pgid)!
}

/** The members of several groups in one pass over /proc (one pass however many groups: a sampler's tick stays cheap). */
export function groupsMembers(pgids: readonly number[]): Map<number, number[]> {
  const out = new Map(pgids.map((pgid) => [pgid, [] as number[]]))
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue
      const stat = readStat(Number(entry))
      if (stat && stat.state !== 'Z') out.get(stat.pgrp)?.push(Number(entry))
    }
  } catch {
    for (const pgid of pgids) {
      try {
        process.kill(-pgid, 0)
        out.set(pgid, [pgid])
      } catch {
        out.set(pgid, [])
      }
    }
  }
  return out
}

/** True while `pid` runs; a zombie (exited, not yet reaped) counts as gone. */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
  const stat = readStat(pid)
  return stat ? stat.state !== 'Z' : true
}

/**
 * When `pid` started, in clock ticks since boot (field 22 of /proc/<pid>/stat), or undefined when it
 * does not run or the system has no /proc. With the pid, it names one process: a pid reused by another
 * process has another start time.
 */
export function processStartTime(pid: number): number | undefined {
  const stat = readStat(pid)
  return stat && stat.state !== 'Z' ? stat.startTime : undefined
}

/**
 * True when `pid` runs and is the process that had `startTime` (not another one that got its pid since).
 * Without a recorded start time, or without /proc, only whether the pid runs.
 */
export function isSameProcess(pid: number, startTime: number | undefined): boolean {
  if (!isProcessAlive(pid)) return false
  if (startTime === undefined) return true
  const now = processStartTime(pid)
  return now === undefined ? !existsSync('/proc/self/stat') : now === startTime
}

/** Sends a signal to a whole group; false when the group no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal)
    return true
  } catch {
    return false
  }
}

/**
 * Stops a group: SIGTERM, then SIGKILL for whatever is left after `graceMs`. Resolves once no live
 * member is left (or shortly after SIGKILL, which cannot be refused).
 */
export async function terminateGroup(pgid: number, graceMs: number): Promise<void> {
  if (!signalGroup(pgid, 'SIGTERM')) return
  if (await waitGone(pgid, graceMs)) return
  signalGroup(pgid, 'SIGKILL')
  await waitGone(pgid, 2_000)
}

/** How long a stopping group's existing is taken to mean a running member, before its members are read. */
const ZOMBIE_AFTER_MS = 200

async function waitGone(pgid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  const begun = Date.now()
  for (let delay = 10; ; delay = Math.min(delay * 2, 100)) {
    // A group no process (not even a zombie) is in any more is gone: one signal 0, where reading every
    // process's stat costs the main thread milliseconds on a busy machine. While the group still exists, its
    // members are read only after a while: a member that exited is reaped within moments, so before that the
    // group's existing means a member still runs, and later it may be a zombie no one reaps.
    if (!groupExists(pgid)) return true
    if (Date.now() - begun >= ZOMBIE_AFTER_MS && groupMembers(pgid).length === 0) return true
    if (Date.now() >= deadline) return false
    await new Promise((resolve) => setTimeout(resolve, Math.min(delay, Math.max(1, deadline - Date.now()))))
  }
}

/** True while any process, a zombie too, is in the group (another user's counts). */
function groupExists(pgid: number): boolean {
  try {
    process.kill(-pgid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function readStat(pid: number): { state: string; pgrp: number; startTime: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name is in parentheses and may itself contain spaces or parentheses; the fields
    // after it start at field 3 (state), so field N is at index N - 3.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
    return { state: fields[0]!, pgrp: Number(fields[2]), startTime: Number(fields[19]) }
  } catch {
    return undefined
  }
}
