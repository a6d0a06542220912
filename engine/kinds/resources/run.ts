/**
 * The resources check's run: on each side in turn (a measurement wants a quiet machine), a fresh copy of
 * the service takes the same requests while its process group is sampled; then the limits, the ratios
 * to the baseline and the leak slope are judged.
 */
import { parseDuration } from '../../../plans/duration.js'
import { evidence, formatElapsed } from '../../api/evidence.js'
import type { CheckContext, ReportDescriptor } from '../../api/kind.js'
import { serviceUrl, type Sandbox } from '../../api/sandbox.js'
import { parseRequestLine } from '../../api/vocabulary.js'
import { CheckSkipped } from '../../errors.js'
import { HttpNetworkError } from '../../http/client.js'
import { GroupSampler, type ResourceSample } from '../../processes/resource-sample.js'
import { leakSlope, type LeakEstimate, type LeakPoint } from './leak.js'
import { formatSize, parseSize, type ResourcesParams } from './schema.js'

type Ctx = CheckContext<ResourcesParams, 'http'>

interface Measured {
  side: string
  series: ResourceSample[]
  points: LeakPoint[]
  slope: LeakEstimate | undefined
  peak: { rss: number; fds: number; threads: number }
  cpuMs: number
  failed: number
  example: string
}

const SAMPLE_INTERVAL_MS = 100
/** Samples taken between requests over the run, for the leak slope. */
const POINTS = 200

export async function runResources(ctx: Ctx): Promise<void> {
  const { candidate, baseline } = ctx.sandboxes
  const cand = await measureSide(ctx, candidate)
  const base = baseline ? await measureSide(ctx, baseline) : undefined
  const service = ctx.params.service ?? candidate.defaultService
  const requests = ctx.params.requests ?? 2000
  for (const m of [cand, base]) if (m) ctx.report(measuredReport(m, service, requests))
  const limits = ctx.params.limits ?? {}
  const checks: Array<[string, number | undefined, number, (n: number) => string]> = [
    ['rss', limits.rss !== undefined ? parseSize(limits.rss) : undefined, cand.peak.rss, formatSize],
    ['fds', limits.fds, cand.peak.fds, String],
    ['threads', limits.threads, cand.peak.threads, String],
    ['cpu', limits.cpu !== undefined ? parseDuration(limits.cpu) : undefined, cand.cpuMs, formatElapsed],
  ]
  for (const [metric, limit, actual, show] of checks) {
    if (limit === undefined || actual <= limit) continue
    ctx.report({
      messageId: 'limit',
      data: { side: cand.side, service, metric, actual: show(actual), limit: show(limit) },
      expected: `≤ ${show(limit)}`,
      actual: show(actual),
      evidence: seriesEvidence(cand, service, requests),
    })
  }
  if (ctx.params.leak !== undefined && cand.slope) {
    // With a baseline, the growth beyond the baseline's under the same traffic: a runtime that grows its
    // heap lazily (V8 does, for minutes) grows on both sides alike, and only the difference is the change's.
    const allowed = parseSize(ctx.params.leak)
    const excess = cand.slope.bytesPer1000 - Math.max(0, base?.slope?.bytesPer1000 ?? 0)
    if (excess > allowed) {
      ctx.report({
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
        evidence: seriesEvidence(cand, service, requests, base),
      })
    }
  }
  if (base && ctx.params.relative) relativeReports(ctx, cand, base, service, requests)
  for (const m of [cand, base]) {
    if (!m || m.failed === 0) continue
    ctx.report({
      messageId: 'failed',
      severity: m.failed / requests > 0.01 ? 'error' : 'warning',
      data: { side: m.side, service, failed: m.failed, requests, example: m.example },
    })
  }
}

function relativeReports(ctx: Ctx, cand: Measured, base: Measured, service: string, requests: number): void {
  const values: Record<string, [number, number, (n: number) => string]> = {
    rss: [cand.peak.rss, base.peak.rss, formatSize],
    cpu: [cand.cpuMs, base.cpuMs, formatElapsed],
    fds: [cand.peak.fds, base.peak.fds, String],
    threads: [cand.peak.threads, base.peak.threads, String],
  }
  for (const [metric, allowed] of Object.entries(ctx.params.relative ?? {})) {
    const [c, b, show] = values[metric]!
    if (b <= 0) continue
    const ratio = c / b
    if (ratio <= allowed) continue
    ctx.report({
      messageId: 'relative',
      data: {
        service,
        metric,
        candidate: show(c),
        baseline: show(b),
        ratio: ratio.toFixed(2),
        allowed,
        requests,
      },
      expected: `≤ ${allowed}× the baseline`,
      actual: `${ratio.toFixed(2)}×`,
      evidence: seriesEvidence(cand, service, requests, base),
    })
  }
}

async function measureSide(ctx: Ctx, side: Sandbox): Promise<Measured> {
  if (!ctx.isolate)
    throw new CheckSkipped('resources are measured on a fresh copy of the service; this run starts none')
  const service = ctx.params.service ?? side.defaultService
  ctx.progress(`${side.name}: starting a fresh copy of ${service} to measure`)
  const copy = await ctx.isolate(side, [service])
  const pid = copy.pid?.(service)
  if (pid === undefined)
    throw new CheckSkipped(
      `the ${side.name} sandbox runs ${service} as no local process whose resources vigil can read`,
    )
  const total = ctx.params.requests ?? 2000
  const every = Math.max(1, Math.floor(total / POINTS))
  const sampler = new GroupSampler(pid, SAMPLE_INTERVAL_MS)
  const points: LeakPoint[] = []
  let next = 0
  let done = 0
  let failed = 0
  let example = ''
  const worker = async (): Promise<void> => {
    while (next < total) {
      const index = next++
      if (ctx.signal.aborted) throw ctx.signal.reason
      ctx.vars.set('index', index)
      const request = ctx.vars.render(parseRequestLine(ctx.params.request))
      try {
        const exchange = await ctx.clients.http.request({
          method: request.method,
          url: serviceUrl(copy, service, request.path),
          query: request.query,
          headers: { ...copy.headers, ...request.headers, ...ctx.vars.render(ctx.params.headers ?? {}) },
          json: request.json,
          body: request.body,
          timeoutMs: 10_000,
          signal: ctx.signal,
        })
        if (exchange.response.status >= 500) {
          failed++
          example ||= `${request.method} ${request.path} answered ${exchange.response.status}`
        }
      } catch (error) {
        if (ctx.signal.aborted || !(error instanceof HttpNetworkError)) throw error
        failed++
        example ||= `${request.method} ${request.path}: ${error.message}`
      }
      done++
      if (done % every === 0) {
        const sample = sampler.take()
        if (sample) points.push({ requests: done, rss: sample.rss })
      }
      if (done % 500 === 0) ctx.progress(`${side.name}: ${done} of ${total} requests`)
    }
  }
  let series: ResourceSample[]
  try {
    await Promise.all(Array.from({ length: ctx.params.concurrency ?? 4 }, worker))
  } finally {
    series = sampler.stop()
  }
  if (series.length === 0)
    throw new CheckSkipped(`no resource samples of ${service} (no /proc on this system)`)
  return {
    side: side.name,
    series,
    points,
    slope: leakSlope(points),
    peak: {
      rss: Math.max(...series.map((s) => s.rss)),
      fds: Math.max(...series.map((s) => s.fds)),
      threads: Math.max(...series.map((s) => s.threads)),
    },
    cpuMs: series[series.length - 1]!.cpuMs - series[0]!.cpuMs,
    failed,
    example,
  }
}

function measuredReport(m: Measured, service: string, requests: number): ReportDescriptor {
  return {
    severity: 'info',
    messageId: 'measured',
    data: {
      side: m.side,
      service,
      requests,
      rssStart: formatSize(m.series[0]!.rss),
      rssPeak: formatSize(m.peak.rss),
      slope: m.slope ? formatSize(m.slope.bytesPer1000) : 'not measured',
      cpu: formatElapsed(m.cpuMs),
      fds: m.peak.fds,
      threads: m.peak.threads,
    },
    evidence: seriesEvidence(m, service, requests),
  }
}

/** The evidence of a measurement: a summary per side, and the series for a reader to plot. */
function seriesEvidence(m: Measured, service: string, requests: number, base?: Measured) {
  const line = (x: Measured) => ({
    label: x.side,
    value: `RSS ${formatSize(x.series[0]!.rss)} → peak ${formatSize(x.peak.rss)}, slope ${x.slope ? formatSize(x.slope.bytesPer1000) : '?'}/1000 requests, CPU ${formatElapsed(x.cpuMs)}, fds ${x.peak.fds}, threads ${x.peak.threads}`,
  })
  const series = (x: Measured) => ({
    samples: x.series,
    rssByRequests: x.points,
    floors: x.slope?.floors ?? [],
  })
  return evidence({
    transport: 'resources',
    sandbox: m.side,
    summary: [
      { label: 'service', value: `${service}, ${requests} requests` },
      line(m),
      ...(base ? [line(base)] : []),
    ],
    details: { [m.side]: series(m), ...(base ? { [base.side]: series(base) } : {}) },
  })
}
