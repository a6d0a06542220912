/**
 * The resources check's run: on each side in turn (a measurement wants a quiet machine), a fresh copy of
 * the service takes the same requests while its process group is sampled; then the limits, the ratios
 * to the baseline and the leak slope are judged. A failed comparison with the baseline is measured again,
 * the baseline first, and counts only when it fails again (confirmResources).
 */
import { formatSize } from '../../../plans/size.js'
import { formatElapsed } from '../../api/evidence.js'
import type { CheckContext, ReportDescriptor } from '../../api/kind.js'
import { serviceUrl, type Sandbox } from '../../api/sandbox.js'
import { parseRequestLine } from '../../api/vocabulary.js'
import { CheckSkipped } from '../../errors.js'
import { HttpNetworkError } from '../../http/client.js'
import { GroupSampler, type ResourceSample } from '../../processes/resource-sample.js'
import type { LeakPoint } from '../../api/leak.js'
import {
  comparedFigure,
  confirmResources,
  judgeResources,
  measuredResources,
  resourcesEvidence,
  type MeasuredResources,
} from '../../api/resource-limits.js'
import type { ResourcesParams } from './schema.js'

type Ctx = CheckContext<ResourcesParams, 'http'>

interface Measured extends MeasuredResources {
  failed: number
  example: string
}

const SAMPLE_INTERVAL_MS = 100
/** Samples taken between requests over the run, for the leak slope. */
const POINTS = 200

export async function runResources(ctx: Ctx): Promise<void> {
  const { candidate, baseline } = ctx.sandboxes
  const service = ctx.params.service ?? candidate.defaultService
  const requests = ctx.params.requests ?? 2000
  const cand = await measureSide(ctx, candidate)
  const base = baseline ? await measureSide(ctx, baseline) : undefined
  for (const m of [cand, base]) if (m) ctx.report(measuredReport(m, service, requests, ''))
  const input = { thresholds: ctx.params, candidate: cand, service, traffic: `${requests} requests` }
  let judged = judgeResources(base ? { ...input, baseline: base } : input)
  const measured = [cand, base]
  if (baseline && base && judged.some((d) => comparedFigure(d) !== undefined)) {
    // Confirmed in the opposite order, so what the machine did during one pair does not decide alone.
    ctx.progress('a comparison with the baseline failed: measuring both sides again, the baseline first')
    const base2 = await measureSide(ctx, baseline)
    const cand2 = await measureSide(ctx, candidate)
    for (const m of [base2, cand2])
      ctx.report(measuredReport(m, service, requests, ' (again, baseline first)'))
    judged = confirmResources(judged, { ...input, baseline: base }, { candidate: cand2, baseline: base2 })
    measured.push(cand2, base2)
  }
  for (const d of judged) ctx.report(d)
  for (const m of measured) {
    if (!m || m.failed === 0) continue
    ctx.report({
      messageId: 'failed',
      severity: m.failed / requests > 0.01 ? 'error' : 'warning',
      data: { side: m.side, service, failed: m.failed, requests, example: m.example },
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
  return { ...measuredResources(side.name, series, points), failed, example }
}

function measuredReport(m: Measured, service: string, requests: number, again: string): ReportDescriptor {
  return {
    severity: 'info',
    messageId: 'measured',
    data: {
      side: m.side,
      service,
      again,
      requests,
      rssStart: formatSize(m.series[0]!.rss),
      rssPeak: formatSize(m.peak.rss),
      slope: m.slope ? formatSize(m.slope.bytesPer1000) : 'not measured',
      cpu: formatElapsed(m.cpuMs),
      fds: m.peak.fds,
      threads: m.peak.threads,
    },
    evidence: resourcesEvidence(service, `${requests} requests`, m),
  }
}
