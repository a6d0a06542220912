/**
 * Resource thresholds, one set of words for the `resources` kind and for `resources:` on load checks:
 * absolute limits on the candidate's peaks and CPU time, limits relative to the baseline under the same
 * traffic, and the leak slope (leak.ts). A kind measures each side's process group; this module judges.
 */
import { parseDuration } from '../../plans/duration.js'
import { formatSize, parseSize, sizeSchema } from '../../plans/size.js'
import type { Evidence } from '../verdict.js'
import type { ResourceSample } from '../processes/resource-sample.js'
import { evidence, formatElapsed } from './evidence.js'
import type { ReportDescriptor } from './kind.js'
import { leakSlope, type LeakEstimate, type LeakPoint } from './leak.js'

export interface ResourceLimits {
  /** Peak resident memory, e.g. `300MB`. */
  rss?: string | number
  /** Peak open file descriptors. */
  fds?: number
  /** Peak threads. */
  threads?: number
  /** CPU time the traffic cost, e.g. `5s`. */
  cpu?: string | number
}

/** Candidate over baseline under the same traffic. */
export interface RelativeResourceLimits {
  rss?: number
  cpu?: number
  fds?: number
  threads?: number
}

export interface ResourceThresholds {
  /** Absolute limits on the candidate. */
  limits?: ResourceLimits
  /** Candidate over baseline under the same traffic: peak RSS, CPU time, peak descriptors and threads. */
  relative?: RelativeResourceLimits
  /**
   * Largest RSS growth per 1000 requests (the leak slope), e.g. `2MB`: beyond the baseline's slope under the
   * same traffic when the run has a baseline, absolute without one.
   */
  leak?: string | number
}

const duration = { type: ['string', 'number'], description: 'A duration like 500ms, 2s, or milliseconds' }
const ratio = { type: 'number', exclusiveMinimum: 0 }

/** The JSON Schema properties of {@link ResourceThresholds}. */
export const resourceThresholdProperties = {
  limits: {
    type: 'object',
    additionalProperties: false,
    minProperties: 1,
    properties: {
      rss: sizeSchema,
      fds: { type: 'integer', minimum: 1 },
      threads: { type: 'integer', minimum: 1 },
      cpu: duration,
    },
  },
  relative: {
    type: 'object',
    additionalProperties: false,
    minProperties: 1,
    properties: { rss: ratio, cpu: ratio, fds: ratio, threads: ratio },
  },
  leak: sizeSchema,
}

/** The messages a kind judging resources declares (`meta.messages`). */
export const resourceMessages = {
  limit: '{{side}} {{service}}: peak {{metric}} {{actual}}, above the limit {{limit}}.',
  relative:
    '{{service}}: {{metric}} {{candidate}} on the candidate is {{ratio}}× the baseline’s {{baseline}} under the same {{traffic}}; at most {{allowed}}× allowed.',
  leak: '{{side}} {{service}}: RSS grows {{slope}} per 1000 requests after warm-up (floor of each window, Theil–Sen){{beyond}}, more than {{allowed}} beyond it: a leak.',
}

/** One side's measurement: its samples, RSS by requests served, the leak slope, peaks and CPU time. */
export interface MeasuredResources {
  side: string
  series: ResourceSample[]
  points: LeakPoint[]
  slope: LeakEstimate | undefined
  peak: { rss: number; fds: number; threads: number }
  cpuMs: number
}

/** Peaks, CPU time and slope of a side's series (at least one sample). */
export function measuredResources(
  side: string,
  series: ResourceSample[],
  points: LeakPoint[],
): MeasuredResources {
  return {
    side,
    series,
    points,
    slope: leakSlope(points),
    peak: {
      rss: Math.max(...series.map((s) => s.rss)),
      fds: Math.max(...series.map((s) => s.fds)),
      threads: Math.max(...series.map((s) => s.threads)),
    },
    cpuMs: series[series.length - 1]!.cpuMs - series[0]!.cpuMs,
  }
}

/** One line per side for evidence: RSS from start to peak, slope, CPU, descriptors, threads. */
function resourcesLine(m: MeasuredResources): { label: string; value: string } {
  return {
    label: m.side,
    value: `RSS ${formatSize(m.series[0]!.rss)} → peak ${formatSize(m.peak.rss)}, slope ${m.slope ? formatSize(m.slope.bytesPer1000) : '?'}/1000 requests, CPU ${formatElapsed(m.cpuMs)}, fds ${m.peak.fds}, threads ${m.peak.threads}`,
  }
}

/** The evidence of a measurement: a line per side, and the series for a reader to plot. */
export function resourcesEvidence(
  service: string,
  traffic: string,
  m: MeasuredResources,
  base?: MeasuredResources,
): Evidence {
  const series = (x: MeasuredResources) => ({
    samples: x.series,
    rssByRequests: x.points,
    floors: x.slope?.floors ?? [],
  })
  return evidence({
    transport: 'resources',
    sandbox: m.side,
    summary: [
      { label: 'service', value: `${service}, ${traffic}` },
      resourcesLine(m),
      ...(base ? [resourcesLine(base)] : []),
    ],
    details: { [m.side]: series(m), ...(base ? { [base.side]: series(base) } : {}) },
  })
}

/** The figures a relative limit compares: candidate, baseline and how to show them, per metric. */
function relativeValues(
  cand: MeasuredResources,
  base: MeasuredResources,
): Record<string, [number, number, (n: number) => string]> {
  return {
    rss: [cand.peak.rss, base.peak.rss, formatSize],
    cpu: [cand.cpuMs, base.cpuMs, formatElapsed],
    fds: [cand.peak.fds, base.peak.fds, String],
    threads: [cand.peak.threads, base.peak.threads, String],
  }
}

/** A finding that compares the sides (a relative limit, a leak beyond the baseline's slope): `metric` or `leak`. */
export function comparedFigure(d: ReportDescriptor): string | undefined {
  if (d.messageId === 'relative') return String(d.data?.['metric'])
  if (d.messageId === 'leak') return 'leak'
  return undefined
}

/** How a comparison came out on a pair of measurements, for a line of evidence: `1.02×`, `3.1 MB per 1000 requests`. */
function comparedOutcome(figure: string, cand: MeasuredResources, base: MeasuredResources): string {
  if (figure === 'leak')
    return cand.slope
      ? `${formatSize(cand.slope.bytesPer1000)} per 1000 requests (the baseline’s ${base.slope ? formatSize(base.slope.bytesPer1000) : 'not measured'})`
      : 'slope not measured'
  const [c, b] = relativeValues(cand, base)[figure]!
  return b > 0 ? `${(c / b).toFixed(2)}×` : 'not measured on the baseline'
}

/**
 * Two fresh processes measured one after the other are at the mercy of what the machine did in between (a
 * runtime grows its heap sooner or later with the load around it), so a comparison that failed on the first
 * pair counts only when it fails again on a second pair measured in the opposite order. `first` are the
 * findings of `input` (the first pair); `again` is the second pair, judged here against the same thresholds.
 * A comparison that holds keeps its first finding with both outcomes in its evidence; one that does not
 * becomes an `unconfirmed` note (info).
 */
export function confirmResources(
  first: ReportDescriptor[],
  input: JudgeInput & { baseline: MeasuredResources },
  again: { candidate: MeasuredResources; baseline: MeasuredResources },
): ReportDescriptor[] {
  const second = judgeResources({ ...input, ...again })
  const outcome = (figure: string) =>
    `${comparedOutcome(figure, input.candidate, input.baseline)} measured first, candidate first; ${comparedOutcome(figure, again.candidate, again.baseline)} measured again, baseline first`
  return first.map((d) => {
    const figure = comparedFigure(d)
    if (figure === undefined) return d
    const outcomes = outcome(figure)
    if (second.some((e) => comparedFigure(e) === figure)) {
      const summary = [...(d.evidence?.summary ?? []), { label: 'confirmed', value: outcomes }]
      return { ...d, ...(d.evidence ? { evidence: { ...d.evidence, summary } } : {}) }
    }
    return {
      messageId: 'unconfirmed',
      severity: 'info',
      data: {
        service: input.service,
        figure: figure === 'leak' ? 'leak slope' : `relative ${figure}`,
        outcomes,
      },
      evidence: resourcesEvidence(input.service, input.traffic, again.candidate, again.baseline),
    }
  })
}

export interface JudgeInput {
  thresholds: ResourceThresholds
  candidate: MeasuredResources
  baseline?: MeasuredResources
  service: string
  /** What both sides took, for the messages: `2000 requests`, `load`. */
  traffic: string
}

/** The findings of a measurement against its thresholds: absolute limits, the leak slope, then ratios. */
export function judgeResources(input: JudgeInput): ReportDescriptor[] {
  const { thresholds, candidate: cand, baseline: base, service } = input
  const out: ReportDescriptor[] = []
  const limits = thresholds.limits ?? {}
  const absolute: Array<[string, number | undefined, number, (n: number) => string]> = [
    ['rss', limits.rss !== undefined ? parseSize(limits.rss) : undefined, cand.peak.rss, formatSize],
    ['fds', limits.fds, cand.peak.fds, String],
    ['threads', limits.threads, cand.peak.threads, String],
    ['cpu', limits.cpu !== undefined ? parseDuration(limits.cpu) : undefined, cand.cpuMs, formatElapsed],
  ]
  for (const [metric, limit, actual, show] of absolute) {
    if (limit === undefined || actual <= limit) continue
    out.push({
      messageId: 'limit',
      data: { side: cand.side, service, metric, actual: show(actual), limit: show(limit) },
      expected: `≤ ${show(limit)}`,
      actual: show(actual),
      evidence: resourcesEvidence(service, input.traffic, cand),
    })
  }
  if (thresholds.leak !== undefined && cand.slope) {
    // With a baseline, the growth beyond the baseline's under the same traffic: a runtime that grows its
    // heap lazily (V8 does, for minutes) grows on both sides alike, and only the difference is the change's.
    const allowed = parseSize(thresholds.leak)
    const excess = cand.slope.bytesPer1000 - Math.max(0, base?.slope?.bytesPer1000 ?? 0)
    if (excess > allowed) {
      out.push({
        messageId: 'leak',
        data: {
          side: cand.side,
          service,
          slope: formatSize(cand.slope.bytesPer1000),
          allowed: formatSize(allowed),
          beyond: base?.slope
            ? ` (the baseline’s ${formatSize(base.slope.bytesPer1000)} under the same traffic)`
            : '',
        },
        expected: `≤ ${formatSize(allowed)} per 1000 requests${base ? ' beyond the baseline' : ''}`,
        actual: `${formatSize(cand.slope.bytesPer1000)} per 1000 requests`,
        evidence: resourcesEvidence(service, input.traffic, cand, base),
      })
    }
  }
  if (!base) return out
  const values = relativeValues(cand, base)
  for (const [metric, allowed] of Object.entries(thresholds.relative ?? {})) {
    const [c, b, show] = values[metric]!
    if (b <= 0) continue
    const ratio = c / b
    if (ratio <= allowed) continue
    out.push({
      messageId: 'relative',
      data: {
        service,
        metric,
        candidate: show(c),
        baseline: show(b),
        ratio: ratio.toFixed(2),
        allowed,
        traffic: input.traffic,
      },
      expected: `≤ ${allowed}× the baseline`,
      actual: `${ratio.toFixed(2)}×`,
      evidence: resourcesEvidence(service, input.traffic, cand, base),
    })
  }
  return out
}
