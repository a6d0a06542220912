/**
 * Regression against the baseline measured in the same run: each chosen statistic of the candidate's
 * `http_req_duration` against the baseline's, as a ratio. A difference smaller than `minDeltaMs` never
 * counts, so sub-millisecond loopback jitter cannot fail a clean change.
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
  /** Median of the per-pair ratios of A/B rounds, when rounds were run. */
  medianPairRatio?: number
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

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/**
 * Compares every statistic of the rule on one metric key (the whole mix by default). With A/B pairs,
 * the median of the per-pair ratios must exceed the allowed ratio too: one round disturbed by
 * something else on the machine cannot fail a clean change, while a real regression shows in every pair.
 */
export function compareLatency(
  rule: RegressionRule,
  baseline: LoadMetrics,
  candidate: LoadMetrics,
  metric = 'http_req_duration',
  pairs: ReadonlyArray<{ baseline: LoadMetrics; candidate: LoadMetrics }> = [],
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
      const pairRatios = pairs.flatMap((p) => {
        const pb = p.baseline.metrics[metric]
        const pc = p.candidate.metrics[metric]
        const vb = pb?.type === 'trend' ? pb.values[stat] : undefined
        const vc = pc?.type === 'trend' ? pc.values[stat] : undefined
        return vb === undefined || vc === undefined ? [] : [ratioOf(vc, vb)]
      })
      const medianPairRatio = pairRatios.length ? median(pairRatios) : undefined
      const regressed =
        ratio > allowed &&
        candidateMs - baselineMs >= rule.minDeltaMs &&
        (medianPairRatio === undefined || medianPairRatio > allowed)
      const out: RegressionComparison = {
        metric,
        stat,
        baselineMs,
        candidateMs,
        ratio: round3(ratio),
        allowed,
        regressed,
      }
      if (medianPairRatio !== undefined) out.medianPairRatio = round3(medianPairRatio)
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
