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
import { LoadSafetyError } from './errors.js'
import { failedEngineThresholds } from './k6/summary.js'
import type { LoadMetrics } from './metrics.js'
import { measureLoad, warmUpLoad } from './measure.js'
import { decideLoad, formatInterval, shouldStop, stopReason, type LoadDecision } from './decision.js'
import { compareErrorRate, perRequestTable } from './regression.js'
import {
  MAX_TOTAL_LOAD_MS,
  confirmRounds,
  onlyReads,
  plannedLoadMs,
  resolveLoadSpec,
  type LoadParams,
  type LoadSpec,
} from './spec.js'
import { evaluateThresholds } from './thresholds.js'
import { watchLoadResources } from './resources.js'
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
function checkBounds(spec: LoadSpec, sides: number, timeoutMs: number, minRoundMs: number): void {
  const planned = plannedLoadMs(spec, sides, minRoundMs)
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
  const engine = await selectEngine(spec)
  checkBounds(spec, compare ? 2 : 1, ctx.timeoutMs, engine.minRoundMs)
  if (engine.note) ctx.report({ messageId: 'engine-note', data: { note: engine.note }, severity: 'info' })
  if (spec.regression && !baselineBox) ctx.report({ messageId: 'no-baseline', severity: 'info' })

  const candidate = target(candidateBox, service)
  const baseline = compare && baselineBox ? target(baselineBox, service) : undefined
  // The measurement needs its service (the executor adds what it calls) and its load generator to
  // itself: the built-in engine generates in vigil's own thread, so two of them never run at once.
  const claim = {
    resources: [`service:${service}`, engine.name === 'builtin' ? 'load-generator:main-thread' : ''].filter(
      Boolean,
    ),
    cores: 2 + (candidateBox.dependencies?.[service]?.length ?? 0),
  }
  // `resources:`: the loaded service sampled on each side while the load runs.
  const { watch, notes } = params.resources
    ? watchLoadResources(params.resources, service, {
        candidate: candidateBox,
        baseline: baseline ? baselineBox : undefined,
      })
    : { watch: undefined, notes: [] }
  for (const note of notes) ctx.report(note)
  const sides = { candidate, ...(baseline ? { baseline } : {}), signal: ctx.signal }
  // A warm-up that only reads measures nothing and changes nothing another check sees: it runs beside the
  // other checks while they last, when the machine has a core to spare for them, and the measurement then
  // starts with its rounds. One that writes, or a k6 script of the plan's own (what it sends is not known),
  // warms up inside the measurement, right before its rounds.
  const warmedBeside =
    spec.warmupMs > 0 && ctx.warmUp !== undefined && onlyReads(spec)
      ? await ctx.warmUp(claim, () =>
          warmUpLoad(spec, engine.run, {
            ...sides,
            progress: (note) => ctx.progress(`${note} beside the other checks`),
          }),
        )
      : false
  ctx.progress('waiting for a quiet machine to measure on')
  const result = await ctx.measure(claim, async () => {
    watch?.start()
    try {
      return await measureLoadSides()
    } finally {
      watch?.end()
    }
  })
  function measureLoadSides() {
    return measureLoad(spec, engine.run, {
      ...sides,
      warmedUp: warmedBeside,
      minRoundMs: engine.minRoundMs,
      progress: (note) => ctx.progress(note),
      seed: ctx.seed,
      // Sequential: stop once the decision is clear (sequential.ts keeps its error rates at any round).
      ...(compare?.sequential
        ? {
            confirmRounds: confirmRounds(compare.rounds),
            afterRound: (pairs, merged) =>
              shouldStop(
                decideLoad(
                  compare,
                  pairs.map((p) => ({
                    baseline: p.baseline.toMetrics(engine.name, spec.trendStats),
                    candidate: p.candidate.toMetrics(engine.name, spec.trendStats),
                  })),
                  {
                    baseline: merged.baseline.toMetrics(engine.name, spec.trendStats),
                    candidate: merged.candidate.toMetrics(engine.name, spec.trendStats),
                  },
                ),
                pairs.length,
                compare.rounds,
              ),
          }
        : {}),
    })
  }
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
        details: {
          metrics: m,
          rounds: result.rounds,
          roundMs: result.roundMs,
          warmUp: spec.warmupMs > 0 ? { ms: spec.warmupMs, besideOtherChecks: warmedBeside } : null,
        },
      }),
    })
  }
  if (baselineMetrics) summaryLine('baseline', baselineMetrics)
  summaryLine('candidate', candidateMetrics)
  if (watch) {
    const served = (m: LoadMetrics | undefined) => {
      const reqs = m?.metrics.http_reqs
      return reqs?.type === 'counter' ? reqs.values.count : 0
    }
    const requests = { candidate: served(candidateMetrics), baseline: served(baselineMetrics) }
    for (const d of watch.judge(requests)) ctx.report(d)
  }
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
    const decision = decideLoad(compare, pairs, { baseline: baselineMetrics, candidate: candidateMetrics })
    reportDecision(ctx, compare, decision, result, curl)
    for (const c of decision.stats) {
      if (c.decision !== 'regressed') continue
      ctx.report({
        messageId: 'regression',
        data: {
          stat: c.stat,
          candidate: fmt(c.candidateMs),
          baseline: fmt(c.baselineMs),
          ratio: fmt(c.ratio),
          perRound: fmt(c.perRoundRatio),
          allowed: c.allowed,
          interval: formatInterval(c.interval),
          rounds: result.rounds,
        },
        pointer: `http_req_duration.${c.stat}`,
        expected: `<= ${c.allowed}× baseline (${fmt(c.baselineMs * c.allowed)} ms)`,
        actual: c.candidateMs,
        evidence: httpEvidence({
          sandbox: 'candidate',
          ...(curl ? { reproduce: curl } : {}),
          details: {
            ...c,
            allowedRatio: c.allowed,
            minDeltaMs: compare.minDeltaMs,
            rounds: result.rounds,
            plannedRounds: result.plannedRounds,
            roundMs: result.roundMs,
            alpha: decision.alpha,
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

/**
 * The decision's record, whatever it was: the rounds run of those planned, why they stopped, and each
 * statistic's ratio and interval. An undecided statistic is a warning: not a failure (that needs the
 * interval wholly above the allowed ratio), but worth a look.
 */
function reportDecision(
  ctx: CheckContext<LoadParams, 'http'>,
  rule: NonNullable<LoadSpec['regression']>,
  decision: LoadDecision,
  result: { rounds: number; plannedRounds: number; roundMs: number },
  curl: string | undefined,
): void {
  const reason = stopReason(rule, decision)
  const summary = decision.stats
    .map(
      (s) =>
        `${s.stat} ${fmt(s.perRoundRatio)}× per round in ${formatInterval(s.interval)}${s.threshold > s.allowed ? ` (tested at ${fmt(s.threshold)}×: ${fmt(rule.minDeltaMs)} ms over the baseline's ${fmt(s.baselineMs)} ms)` : ''}`,
    )
    .join(', ')
  ctx.report({
    messageId: 'decision',
    severity: 'info',
    data: {
      rounds: result.rounds,
      planned: result.plannedRounds,
      reason: REASONS[reason],
      summary,
    },
    evidence: httpEvidence({
      sandbox: 'candidate',
      details: {
        outcome: decision.outcome,
        stoppedBecause: reason,
        sequential: rule.sequential,
        rounds: result.rounds,
        plannedRounds: result.plannedRounds,
        roundMs: result.roundMs,
        alpha: decision.alpha,
        beta: decision.beta,
        stats: decision.stats,
      },
    }),
  })
  // A check that failed on one statistic does not also warn that another was still open.
  for (const s of decision.outcome === 'regressed' ? [] : decision.stats) {
    if (s.decision !== 'undecided') continue
    ctx.report({
      messageId: 'regression-undecided',
      severity: 'warning',
      data: {
        stat: s.stat,
        ratio: fmt(s.ratio),
        perRound: fmt(s.perRoundRatio),
        interval: formatInterval(s.interval),
        // The ratio it was tested at: the floor's when larger.
        allowed: fmt(s.threshold),
        rounds: result.rounds,
      },
      pointer: `http_req_duration.${s.stat}`,
      evidence: httpEvidence({
        sandbox: 'candidate',
        ...(curl ? { reproduce: curl } : {}),
        details: { ...s },
      }),
    })
  }
}

const REASONS: Record<ReturnType<typeof stopReason>, string> = {
  'clear-pass': 'the ratio is clearly within the allowed one',
  'clear-regression': 'the ratio is clearly above the allowed one',
  'under-gap-floor': 'the difference from the baseline is under minDeltaMs',
  'rounds-exhausted': 'every round ran without a clear answer',
  'fixed-rounds': 'sequential: false runs every round',
}
