/**
 * `resources:` on a load check: the loaded service's process group on each side sampled from /proc while the
 * load runs, then judged with the thresholds of the `resources` kind (engine/api/resource-limits.ts) —
 * absolute limits, limits relative to the baseline under the same load, and the leak slope.
 */
import type { ReportDescriptor } from '../../api/kind.js'
import {
  judgeResources,
  measuredResources,
  resourcesEvidence,
  type MeasuredResources,
  type ResourceThresholds,
} from '../../api/resource-limits.js'
import type { Sandbox } from '../../api/sandbox.js'
import { GroupsSampler, type ResourceSample } from '../../processes/resource-sample.js'
import { formatSize } from '../../../plans/size.js'
import { formatElapsed } from '../../api/evidence.js'

const SAMPLE_INTERVAL_MS = 100

export interface LoadResourceWatch {
  /** Starts sampling (when the load starts). */
  start(): void
  /** Stops sampling (when the load ends). Idempotent. */
  end(): void
  /** Judges what was sampled: `requests` is how many each side served, for the slope per 1000 requests. */
  judge(requests: Readonly<Record<string, number>>): ReportDescriptor[]
}

/**
 * Starts sampling `service` on each side (by role: `candidate`, `baseline`); the reasons a side cannot be
 * sampled come back as info reports.
 */
export function watchLoadResources(
  thresholds: ResourceThresholds,
  service: string,
  sides: { candidate: Sandbox; baseline?: Sandbox | undefined },
): { watch: LoadResourceWatch | undefined; notes: ReportDescriptor[] } {
  const groups = new Map<string, number>()
  const notes: ReportDescriptor[] = []
  for (const [role, side] of Object.entries(sides)) {
    if (!side) continue
    const pid = side.pid?.(service)
    if (pid !== undefined) groups.set(role, pid)
    else
      notes.push({
        messageId: 'resources-unsupported',
        severity: 'info',
        data: { side: role, service },
      })
  }
  if (!groups.has('candidate')) return { watch: undefined, notes }
  let sampler: GroupsSampler | undefined
  let sampled = new Map<string, ResourceSample[]>()
  return {
    notes,
    watch: {
      start() {
        sampler = new GroupsSampler(groups, SAMPLE_INTERVAL_MS)
      },
      end() {
        if (sampler) sampled = sampler.stop()
        sampler = undefined
      },
      judge(requests) {
        const measured: Record<string, MeasuredResources> = {}
        for (const [side, series] of sampled) {
          if (series.length === 0) continue
          // The load runs at a steady rate (or on steady connections) while it is sampled: requests served grow
          // with time, so each sample's share of the time is its share of the side's requests.
          const span = Math.max(1, series[series.length - 1]!.atMs - series[0]!.atMs)
          const served = requests[side] ?? 0
          const points = series.map((s) => ({
            requests: ((s.atMs - series[0]!.atMs) / span) * served,
            rss: s.rss,
          }))
          measured[side] = measuredResources(side, series, points)
        }
        const cand = measured.candidate
        if (!cand)
          return [
            { messageId: 'resources-unsupported', severity: 'info', data: { side: 'candidate', service } },
          ]
        const base = measured.baseline
        const out: ReportDescriptor[] = [cand, base].flatMap((m) =>
          m
            ? [
                {
                  messageId: 'resources-measured',
                  severity: 'info' as const,
                  data: {
                    side: m.side,
                    service,
                    rssPeak: formatSize(m.peak.rss),
                    slope: m.slope ? formatSize(m.slope.bytesPer1000) : 'not measured',
                    cpu: formatElapsed(m.cpuMs),
                    fds: m.peak.fds,
                    threads: m.peak.threads,
                  },
                  evidence: resourcesEvidence(service, 'load', m),
                },
              ]
            : [],
        )
        out.push(
          ...judgeResources({
            thresholds,
            candidate: cand,
            ...(base ? { baseline: base } : {}),
            service,
            traffic: 'load',
          }),
        )
        return out
      },
    },
  }
}
