/**
 * Resource samples of a process group from /proc (Linux): resident memory, CPU time, open file
 * descriptors and threads, summed over the group's processes (a service started through a wrapper
 * counts its real server too). Elsewhere nothing is sampled and `sampleGroup` returns undefined.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { groupsMembers } from './process-tree.js'

/** One sample of a process group. */
export interface ResourceSample {
  /** Milliseconds since the sampler started. */
  atMs: number
  /** Resident set size, bytes. */
  rss: number
  /** User and system CPU time since the processes started, milliseconds. */
  cpuMs: number
  /** Open file descriptors (sockets included). */
  fds: number
  threads: number
}

// The kernel's clock ticks per second and page size: 100 and 4096 on every Linux vigil runs on; /proc
// gives no way to read them without a child process.
const TICKS_PER_SECOND = 100
const PAGE_SIZE = 4096

function readProcess(pid: number): Omit<ResourceSample, 'atMs'> | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const utime = Number(fields[11])
    const stime = Number(fields[12])
    const threads = Number(fields[17])
    const rssPages = Number(fields[21])
    let fds = 0
    try {
      fds = readdirSync(`/proc/${pid}/fd`).length
    } catch {
      // Not ours to read (another user's process in the group): its descriptors are not counted.
    }
    return { rss: rssPages * PAGE_SIZE, cpuMs: ((utime + stime) * 1000) / TICKS_PER_SECOND, fds, threads }
  } catch {
    return undefined
  }
}

/** Samples a process group now; undefined when it is gone or /proc is not there. */
export function sampleGroup(pids: readonly number[], atMs: number): ResourceSample | undefined {
  const out: ResourceSample = { atMs, rss: 0, cpuMs: 0, fds: 0, threads: 0 }
  let found = false
  for (const pid of pids) {
    const one = readProcess(pid)
    if (!one) continue
    found = true
    out.rss += one.rss
    out.cpuMs += one.cpuMs
    out.fds += one.fds
    out.threads += one.threads
  }
  return found ? out : undefined
}

/**
 * Samples several process groups on one timer every `intervalMs` until stopped. The groups' members are
 * looked up again every second, all in one pass over /proc, so a tick costs a few small reads per process.
 */
export class GroupsSampler<K extends string = string> {
  /** Every group's series, those ended with `end` included. */
  readonly series = new Map<K, ResourceSample[]>()
  /** The groups sampled now. */
  private readonly groups: Map<K, number>
  private members = new Map<number, number[]>()
  private membersAt = -Infinity
  private readonly timer: NodeJS.Timeout
  private readonly begin = performance.now()
  private stopped = false

  constructor(groups: ReadonlyMap<K, number>, intervalMs: number) {
    this.groups = new Map(groups)
    for (const key of groups.keys()) this.series.set(key, [])
    this.take()
    this.timer = setInterval(() => this.take(), intervalMs)
    this.timer.unref()
  }

  /**
   * Samples one more group from now on, its first sample at once, on the same clock as the others (a
   * process started after the sampler). Its members are looked up again at the next tick. Ignored once stopped.
   */
  add(key: K, pgid: number): void {
    if (this.stopped || this.series.has(key)) return
    this.groups.set(key, pgid)
    this.series.set(key, [])
    this.membersAt = -Infinity
    this.sample(key, pgid, this.now())
  }

  /** Ends one group's series after one last sample (call it before the group is stopped); returns the series. */
  end(key: K): ResourceSample[] | undefined {
    const pgid = this.groups.get(key)
    if (pgid !== undefined && !this.stopped) {
      this.sample(key, pgid, this.now())
      this.groups.delete(key)
    }
    return this.series.get(key)
  }

  /** Takes one sample of every group now (also at each interval); returns them by key. */
  take(): Map<K, ResourceSample> {
    const taken = new Map<K, ResourceSample>()
    if (this.groups.size === 0) return taken
    const now = this.now()
    if (now - this.membersAt > 1_000) {
      this.members = groupsMembers([...this.groups.values()])
      this.membersAt = now
    }
    for (const [key, pgid] of this.groups) {
      const sample = this.sample(key, pgid, now)
      if (sample) taken.set(key, sample)
    }
    return taken
  }

  /** Stops sampling after one last sample; returns the series by key. */
  stop(): Map<K, ResourceSample[]> {
    if (this.stopped) return this.series
    clearInterval(this.timer)
    this.take()
    this.stopped = true
    this.groups.clear()
    return this.series
  }

  private now(): number {
    return performance.now() - this.begin
  }

  private sample(key: K, pgid: number, now: number): ResourceSample | undefined {
    const members = this.members.get(pgid)
    const sample = sampleGroup(members?.length ? members : [pgid], Math.round(now))
    if (sample) this.series.get(key)!.push(sample)
    return sample
  }
}

/** Samples one process group every `intervalMs` until stopped. */
export class GroupSampler {
  private readonly sampler: GroupsSampler<'group'>

  constructor(pgid: number, intervalMs: number) {
    this.sampler = new GroupsSampler(new Map([['group', pgid]]), intervalMs)
  }

  get samples(): ResourceSample[] {
    return this.sampler.series.get('group')!
  }

  /** Takes one sample now (also at each interval); returns it. */
  take(): ResourceSample | undefined {
    return this.sampler.take().get('group')
  }

  /** Stops sampling after one last sample; returns the series. */
  stop(): ResourceSample[] {
    return this.sampler.stop().get('group')!
  }
}
