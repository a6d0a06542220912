/**
 * Resources of every sandbox service while a run's checks run: each service's process group sampled from
 * /proc a few times a second (RSS, CPU time, descriptors, threads), all on one timer with one pass over /proc
 * per second to find the groups' members — cheap beside the checks. The copies of services a check starts
 * for itself (a fault check's caller, a resources check's fresh copy) join the same timer while they live.
 * The verdict keeps each series, thinned to a few hundred points that keep each stretch's peaks, with its
 * peaks and the CPU time used.
 */
import type { CopyWatch, WatchedCopy } from '../api/executor.js'
import type { Sandbox } from '../api/sandbox.js'
import { GroupsSampler, type ResourceSample } from '../processes/resource-sample.js'
import type { ResourcePoint, ServiceCopy, ServiceResources, VerdictResources } from '../verdict.js'

export const SAMPLE_INTERVAL_MS = 250
/** Points kept per series: a ten-minute run at four samples a second is thinned to this. */
const MAX_POINTS = 400

export interface ServiceWatch extends CopyWatch {
  /** Stops sampling (the copies still alive too); the series, or undefined when nothing could be sampled. */
  stop(): VerdictResources | undefined
}

type Named = Pick<ServiceResources, 'side' | 'service' | 'copy'>

/**
 * Starts sampling every local process of the sides' services (a `url` or `kubernetes` side has none), and
 * each copy handed to `watchCopy` until it ends.
 */
export function watchServices(
  sides: ReadonlyArray<Sandbox | undefined>,
  intervalMs = SAMPLE_INTERVAL_MS,
): ServiceWatch {
  const groups = new Map<string, number>()
  const names = new Map<string, Named>()
  for (const side of sides) {
    if (!side?.pid) continue
    for (const service of Object.keys(side.services)) {
      const pid = side.pid(service)
      if (pid === undefined) continue
      const key = `${side.name}/${service}`
      groups.set(key, pid)
      names.set(key, { side: side.name, service })
    }
  }
  const sampler = new GroupsSampler(groups, intervalMs)
  /** Copies started so far by side, service and check: the next one's `nth`. */
  const started = new Map<string, number>()
  let stopped = false
  return {
    watchCopy({ side, service, plan, check, pid }: WatchedCopy) {
      if (stopped) return () => undefined
      const which = JSON.stringify([side, service, plan, check])
      const nth = (started.get(which) ?? 0) + 1
      started.set(which, nth)
      const copy: ServiceCopy = { plan, check, ...(nth > 1 ? { nth } : {}) }
      const key = `copy ${names.size}`
      names.set(key, { side, service, copy })
      sampler.add(key, pid)
      return () => void sampler.end(key)
    },
    stop() {
      stopped = true
      const series = sampler.stop()
      const services: ServiceResources[] = []
      for (const [key, named] of names) {
        const samples = series.get(key)
        if (!samples?.length) continue
        services.push({ ...named, ...summarize(samples) })
      }
      return services.length ? { intervalMs, services } : undefined
    },
  }
}

function summarize(series: readonly ResourceSample[]): Omit<ServiceResources, keyof Named> {
  return {
    peak: {
      rss: Math.max(...series.map((s) => s.rss)),
      fds: Math.max(...series.map((s) => s.fds)),
      threads: Math.max(...series.map((s) => s.threads)),
    },
    cpuMs: Math.round(series[series.length - 1]!.cpuMs - series[0]!.cpuMs),
    samples: thin(series, MAX_POINTS),
  }
}

/** At most `max` points: consecutive samples merged, each merged point the stretch's last time and CPU and its peaks. */
export function thin(series: readonly ResourceSample[], max: number): ResourcePoint[] {
  const points = series.map(({ atMs, rss, cpuMs, fds, threads }) => ({ atMs, rss, cpuMs, fds, threads }))
  if (points.length <= max) return points
  const out: ResourcePoint[] = []
  for (let b = 0; b < max; b++) {
    const stretch = points.slice(
      Math.floor((b * points.length) / max),
      Math.floor(((b + 1) * points.length) / max),
    )
    const last = stretch[stretch.length - 1]!
    out.push({
      atMs: last.atMs,
      rss: Math.max(...stretch.map((p) => p.rss)),
      cpuMs: last.cpuMs,
      fds: Math.max(...stretch.map((p) => p.fds)),
      threads: Math.max(...stretch.map((p) => p.threads)),
    })
  }
  return out
}
