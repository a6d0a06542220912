/**
 * Resources of every sandbox service while a run's checks run: each service's process group sampled from
 * /proc a few times a second (RSS, CPU time, descriptors, threads), all on one timer with one pass over /proc
 * per second to find the groups' members — cheap beside the checks. The verdict keeps each series, thinned to
 * a few hundred points that keep each stretch's peaks, with its peaks and the CPU time used.
 */
import type { Sandbox } from '../api/sandbox.js'
import { GroupsSampler, type ResourceSample } from '../processes/resource-sample.js'
import type { ResourcePoint, ServiceResources, VerdictResources } from '../verdict.js'

export const SAMPLE_INTERVAL_MS = 250
/** Points kept per series: a ten-minute run at four samples a second is thinned to this. */
const MAX_POINTS = 400

export interface ServiceWatch {
  /** Stops sampling; the series, or undefined when no service could be sampled. */
  stop(): VerdictResources | undefined
}

/** Starts sampling every local process of the sides' services (a `url` or `kubernetes` side has none). */
export function watchServices(
  sides: ReadonlyArray<Sandbox | undefined>,
  intervalMs = SAMPLE_INTERVAL_MS,
): ServiceWatch {
  const groups = new Map<string, number>()
  const names = new Map<string, { side: string; service: string }>()
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
  if (groups.size === 0) return { stop: () => undefined }
  const sampler = new GroupsSampler(groups, intervalMs)
  return {
    stop() {
      const services: ServiceResources[] = []
      for (const [key, series] of sampler.stop()) {
        if (series.length === 0) continue
        services.push({ ...names.get(key)!, ...summarize(series) })
      }
      return services.length ? { intervalMs, services } : undefined
    },
  }
}

function summarize(series: readonly ResourceSample[]): Omit<ServiceResources, 'side' | 'service'> {
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
