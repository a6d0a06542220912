/**
 * The load check's run: resolve the spec, pick the engine (k6 or the built-in autocannon one), measure the
 * candidate (and the baseline, in A/B rounds) alone, then report the measurements, failed thresholds and
 * regressions against the baseline. `engine: k6-operator` hands the run to the cluster instead.
 */
import { CheckSkipped } from '../../errors.js'
import { renderCurl } from '../../http/curl.js'
import { runLoadOnOperator } from './kubernetes/k6-load.js'
import type { LoadTarget } from './builtin.js'
import { selectEngine } from './engines.js'
import { exclusive } from './exclusive.js'
import { LoadSafetyError } from './errors.js'
import { failedEngineThresholds } from './k6/summary.js'
import type { LoadMetrics } from './metrics.js'
import { measureLoad } from './measure.js'
import { compareErrorRate, compareLatency, perRequestTable } from './regression.js'
import { MAX_TOTAL_LOAD_MS, plannedLoadMs, resolveLoadSpec, type LoadParams, type LoadSpec } from './spec.js'
import { evaluateThresholds } from './thresholds.js'
import type { Sandbox } from '../../api/sandbox.js'
import { httpEvidence } from '../../api/evidence.js'
import type { CheckContext } from '../../api/kind.js'

/** Baseline and candidate p95 side by side, whichever statistic regressed. */
function p95Pair(baseline: LoadMetrics, candidate: LoadMetrics): Record<string, number> {
  const p95 = (m: LoadMetrics) => {
    const d = m.metrics.http_req_duration
    return d?.type === 'trend' ? (d.values['p(95)'] ?? 0) : 0
  }
  const b = p95(baseline)
  const c = p95(candidate)
  return { baselineMs: b, candidateMs: c, ratio: b > 0 ? Math.round((c / b) * 1000) / 1000 : 0 }
}

const fmt = (ms: number) => (Math.round(ms * 100) / 100).toString()

function target(sandbox: Sandbox, service: string): LoadTarget {
  return { side: sandbox.name, baseUrl: sandbox.url(service), headers: { ...sandbox.headers } }
}

/** Refuses plans whose load would outlast the check's time or vigil's cap. */
function checkBounds(spec: LoadSpec, sides: number, timeoutMs: number): void {
  const planned = plannedLoadMs(spec, sides)
  const what = `${sides} × (${spec.warmupMs}ms warm-up + ${spec.durationMs}ms)`
  if (planned > MAX_TOTAL_LOAD_MS) {
    throw new LoadSafetyError(
      `load plans ${what} = ${planned}ms, more than the ${MAX_TOTAL_LOAD_MS / 60_000} min cap`,
    )
  }
  // Leave room for start-up and reporting: at most 80% of the check's remaining time.
  if (planned > timeoutMs * 0.8) {
    throw new LoadSafetyError(
      `load plans ${what} = ${planned}ms, too close to the check's ${timeoutMs}ms timeout; raise the plan's \`timeout\` or shorten \`duration\``,
    )
  }
}

/** A redacted curl of the first request, to poke at the service by hand. */
function reproduce(
  ctx: CheckContext<LoadParams, 'http'>,
  spec: LoadSpec,
  baseUrl: string,
): string | undefined {
  const r = spec.requests[0]
  if (!r) return undefined
  return renderCurl(ctx.clients.http.recordRequest(r.method, baseUrl + r.path, r.headers, r.body))
}

/** Runs one load check. */
export async function runLoad(ctx: CheckContext<LoadParams, 'http'>): Promise<void> {
  const params = ctx.vars.render(ctx.params)
  const candidateBox = ctx.sandboxes.candidate
  const service = params.service ?? candidateBox.defaultService
  const spec = resolveLoadSpec(params, {
    serviceUrl: candidateBox.url(service),
    service,
    planDir: ctx.plan.dir,
  })
  // Distributed: the k6-operator runs the same generated script inside the cluster.
  if (spec.engine === 'k6-operator') return runLoadOnOperator(ctx, spec)
  const baselineBox = ctx.sandboxes.baseline
  if (spec.regression && !baselineBox && spec.thresholds.length === 0) {
    throw new CheckSkipped(
      'load: no baseline in this run and no thresholds: nothing to compare against (add `thresholds:` or run with a baseline)',
    )
  }
  const compare = spec.regression && baselineBox ? spec.regression : undefined
  checkBounds(spec, compare ? 2 : 1, ctx.timeoutMs)
  const engine = await selectEngine(spec)
  if (engine.note) ctx.report({ messageId: 'engine-note', data: { note: engine.note }, severity: 'info' })
  if (spec.regression && !baselineBox) ctx.report({ messageId: 'no-baseline', severity: 'info' })

  const candidate = target(candidateBox, service)
  const baseline = compare && baselineBox ? target(baselineBox, service) : undefined
  ctx.progress('waiting for other load checks to finish')
  const result = await exclusive(() =>
    measureLoad(spec, engine.run, {
      candidate,
      ...(baseline ? { baseline } : {}),
      signal: ctx.signal,
      minRoundMs: engine.minRoundMs,
      progress: (note) => ctx.progress(note),
    }),
  )
  if (result.stoppedBy === 'cancelled') throw new Error('load: cancelled before the measurement finished')

  const candidateMetrics = result.candidate.toMetrics(engine.name, spec.trendStats)
  const baselineMetrics = result.baseline?.toMetrics(engine.name, spec.trendStats)
  const summaryLine = (side: string, m: typeof candidateMetrics) => {
    const d = m.metrics.http_req_duration
    const reqs = m.metrics.http_reqs
    const failed = m.metrics.http_req_failed
    const v = d?.type === 'trend' ? d.values : {}
    ctx.report({
      messageId: 'measured',
      severity: 'info',
      data: {
        side,
        requests: reqs?.type === 'counter' ? reqs.values.count : 0,
        rps: reqs?.type === 'counter' ? Math.round(reqs.values.rate) : 0,
        p50: fmt(v.med ?? 0),
        p95: fmt(v['p(95)'] ?? 0),
        p99: fmt(v['p(99)'] ?? 0),
        failed: failed?.type === 'rate' ? `${fmt(failed.values.rate * 100)}%` : 'n/a',
        engine: engine.name,
      },
      evidence: httpEvidence({
        sandbox: side,
        details: { metrics: m, rounds: result.rounds, roundMs: result.roundMs },
      }),
    })
  }
  if (baselineMetrics) summaryLine('baseline', baselineMetrics)
  summaryLine('candidate', candidateMetrics)
  if (result.stoppedBy)
    ctx.report({ messageId: 'stopped', data: { reason: result.stoppedBy }, severity: 'info' })

  const curl = reproduce(ctx, spec, candidate.baseUrl)
  for (const r of evaluateThresholds(spec.thresholds, candidateMetrics)) {
    if (r.ok) continue
    ctx.report({
      messageId: r.actual === undefined ? 'threshold-unmeasured' : 'threshold',
      data: {
        metric: r.metric,
        threshold: r.threshold,
        actual: r.actual === undefined ? 'nothing' : fmt(r.actual),
        engine: engine.name,
      },
      expected: r.threshold,
      actual: r.actual,
      pointer: r.metric,
      evidence: httpEvidence({
        sandbox: 'candidate',
        details: { metric: candidateMetrics.metrics[r.metric] ?? null },
        ...(curl ? { reproduce: curl } : {}),
      }),
    })
  }
  const k6Failed = result.summaries.flatMap((s) => failedEngineThresholds(s))
  if (k6Failed.length)
    ctx.report({
      messageId: 'k6-thresholds',
      data: { list: [...new Set(k6Failed)].join('; ') },
      severity: 'info',
    })

  if (compare && baselineMetrics) {
    const perRequest = perRequestTable(compare, baselineMetrics, candidateMetrics)
    const pairs = result.pairs.map((p) => ({
      baseline: p.baseline.toMetrics(engine.name, spec.trendStats),
      candidate: p.candidate.toMetrics(engine.name, spec.trendStats),
    }))
    for (const c of compareLatency(compare, baselineMetrics, candidateMetrics, 'http_req_duration', pairs)) {
      if (!c.regressed) continue
      ctx.report({
        messageId: 'regression',
        data: {
          stat: c.stat,
          candidate: fmt(c.candidateMs),
          baseline: fmt(c.baselineMs),
          ratio: fmt(c.ratio),
          allowed: c.allowed,
          rounds: result.rounds,
        },
        pointer: `${c.metric}.${c.stat}`,
        expected: `<= ${c.allowed}× baseline (${fmt(c.baselineMs * c.allowed)} ms)`,
        actual: c.candidateMs,
        evidence: httpEvidence({
          sandbox: 'candidate',
          ...(curl ? { reproduce: curl } : {}),
          details: {
            stat: c.stat,
            baselineMs: c.baselineMs,
            candidateMs: c.candidateMs,
            ratio: c.ratio,
            medianPairRatio: c.medianPairRatio ?? null,
            allowedRatio: c.allowed,
            minDeltaMs: compare.minDeltaMs,
            rounds: result.rounds,
            roundMs: result.roundMs,
            defaultRule: !compare.explicit,
            p95: p95Pair(baselineMetrics, candidateMetrics),
            perRequest,
          },
        }),
      })
    }
    const errors = compareErrorRate(baselineMetrics, candidateMetrics)
    if (errors.regressed) {
      ctx.report({
        messageId: 'errors-increased',
        data: {
          candidate: `${fmt(errors.candidateRate * 100)}%`,
          baseline: `${fmt(errors.baselineRate * 100)}%`,
        },
        pointer: 'http_req_failed.rate',
        expected: errors.baselineRate,
        actual: errors.candidateRate,
        evidence: httpEvidence({
          sandbox: 'candidate',
          ...(curl ? { reproduce: curl } : {}),
          details: {
            statusCodes: candidateMetrics.statusCodes ?? {},
            errors: candidateMetrics.errors ?? {},
          },
        }),
      })
    }
  }
}
