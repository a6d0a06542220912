/**
 * Side-by-side statistics of the candidate's `http_req_duration` against the baseline's, as ratios, for
 * the per-request table of a finding; and the error-rate comparison. The latency decision itself is
 * decision.ts (sequential over the A/B rounds). A difference smaller than `minDeltaMs` is never flagged.
 */
import type { LoadMetrics } from './metrics.js'
import type { RegressionRule } from './spec.js'

export interface RegressionComparison {
  /** Metric key, e.g. `http_req_duration` or `http_req_duration{name:checkout}`. */
  metric: string
  /** k6 statistic name: `p(95)`, `med`, `avg`. */
  stat: string
  baselineMs: number
  candidateMs: number
  /** candidate / baseline (Infinity when the baseline is 0 and the candidate is not). */
  ratio: number
  /** The largest allowed ratio. */
  allowed: number
  /** Over the allowed ratio and `minDeltaMs` (all rounds together; no statistics over rounds). */
  regressed: boolean
}

export interface ErrorRateComparison {
  baselineRate: number
  candidateRate: number
  regressed: boolean
}

/** Failure rates may differ by this much (absolute) before the candidate counts as failing more. */
export const ERROR_RATE_TOLERANCE = 0.01

const round3 = (n: number) => (Number.isFinite(n) ? Math.round(n * 1000) / 1000 : n)

function ratioOf(candidate: number, baseline: number): number {
  if (baseline > 0) return candidate / baseline
  return candidate > 0 ? Infinity : 1
}

/** Compares every statistic of the rule on one metric key (the whole mix by default). */
export function compareLatency(
  rule: RegressionRule,
  baseline: LoadMetrics,
  candidate: LoadMetrics,
  metric = 'http_req_duration',
): RegressionComparison[] {
  const b = baseline.metrics[metric]
  const c = candidate.metrics[metric]
  if (b?.type !== 'trend' || c?.type !== 'trend') return []
  return Object.entries(rule.ratios)
    .sort(([a], [z]) => a.localeCompare(z))
    .flatMap(([stat, allowed]) => {
      const baselineMs = b.values[stat]
      const candidateMs = c.values[stat]
      if (baselineMs === undefined || candidateMs === undefined) return []
      const ratio = ratioOf(candidateMs, baselineMs)
      const regressed = ratio > allowed && candidateMs - baselineMs >= rule.minDeltaMs
      const out: RegressionComparison = {
        metric,
        stat,
        baselineMs,
        candidateMs,
        ratio: round3(ratio),
        allowed,
        regressed,
      }
      return [out]
    })
}

/** The candidate fails noticeably more requests than the baseline did under the same load. */
export function compareErrorRate(baseline: LoadMetrics, candidate: LoadMetrics): ErrorRateComparison {
  const rate = (m: LoadMetrics) => {
    const metric = m.metrics.http_req_failed
    return metric?.type === 'rate' ? metric.values.rate : 0
  }
  const baselineRate = rate(baseline)
  const candidateRate = rate(candidate)
  return { baselineRate, candidateRate, regressed: candidateRate > baselineRate + ERROR_RATE_TOLERANCE }
}

/** Per-request statistics side by side, for the finding's details (names sorted). */
export function perRequestTable(
  rule: RegressionRule,
  baseline: LoadMetrics,
  candidate: LoadMetrics,
): RegressionComparison[] {
  const keys = Object.keys(candidate.metrics).filter((k) => k.startsWith('http_req_duration{'))
  return keys.sort().flatMap((key) => compareLatency(rule, baseline, candidate, key))
}
