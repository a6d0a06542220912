/**
 * The load check's regression decision: every statistic of the rule decided over the A/B rounds by the
 * sequential test of sequential.ts (or, with `sequential: false`, read once after every round by the
 * fixed-sample test of fixed.ts), then the gap floor.
 *
 * The gap floor (`minDeltaMs`): a ratio says nothing about size. On loopback a service answering in
 * 0.2 ms instead of 0.1 ms is "2× slower" and no user will ever see it, while a busy machine's scheduler
 * moves single requests by a millisecond or more (a time slice). So a statistic regresses only when its
 * ratio is above the allowed one *and* the candidate's value exceeds the baseline's by at least
 * `minDeltaMs`: for a baseline value b, above θ = max(allowed, 1 + minDeltaMs / b). The test runs at that θ
 * (b over every round so far), so a statistic whose ratio is clearly under the floor's — a 0.3 ms lookup
 * with a 5 ms floor may be 17× slower before it counts — is decided as soon as that is clear, instead of
 * running every round to an undecided 1.5×. A larger θ only makes failing harder, so the false-failure
 * bound still holds; a failure also needs the merged values' difference to reach `minDeltaMs`.
 */
import { decideFixed } from './fixed.js'
import type { LoadMetrics } from './metrics.js'
import { decideSequential, DEFAULT_ALPHA, DEFAULT_BETA, type Decision, type RoundPair } from './sequential.js'
import type { RegressionRule } from './spec.js'

/** Why the rounds ended. */
export type StopReason =
  /** The ratio interval of every statistic lies wholly below the allowed ratio. */
  | 'clear-pass'
  /** The ratio interval of a statistic lies wholly above the allowed ratio. */
  | 'clear-regression'
  /** The ratio is above the allowed one but the difference is under `minDeltaMs`. */
  | 'under-gap-floor'
  /** Every planned round ran without a clear answer. */
  | 'rounds-exhausted'
  /** `sequential: false`: every planned round ran by design. */
  | 'fixed-rounds'

export interface StatDecision {
  /** k6 statistic name: `p(95)`, `med`, `avg`. */
  stat: string
  allowed: number
  /** The ratio the test ran at: `allowed`, or the one `minDeltaMs` implies on this baseline when larger. */
  threshold: number
  decision: Decision
  /** Over every round's samples together. */
  baselineMs: number
  candidateMs: number
  ratio: number
  /** Confidence sequence for the ratio (with `sequential: false`, a confidence interval); `high` null while unbounded. */
  interval: { low: number; high: number | null }
  /** The round this statistic's test decided at, else every round. */
  rounds: number
  /** Each round's ratio, in round order. */
  roundRatios: number[]
  /**
   * The rounds' geometric-mean ratio: an estimate from the per-round ratios the test and its interval are made
   * of, where the merged `ratio` compares every round's samples pooled (a few slow rounds weigh more there).
   * 1 without rounds.
   */
  perRoundRatio: number
  /**
   * True when the gap floor decided: the ratio was not clearly within the allowed one, but the difference
   * was clearly (or, over every round together, actually) under `minDeltaMs`.
   */
  underGapFloor: boolean
  /**
   * The e-values at that round: against "within" (regressed at 1/alpha) and against "regressed". With
   * `sequential: false`, 1/p of the fixed-sample test, read the same way.
   */
  evidence: { regression: number; within: number }
}

export interface LoadDecision {
  outcome: 'regressed' | 'within' | 'undecided'
  stats: StatDecision[]
  /** The false-failure bound of the whole check (split between its statistics). */
  alpha: number
  beta: number
}

const round3 = (n: number) => (Number.isFinite(n) ? Math.round(n * 1000) / 1000 : n)

function statOf(m: LoadMetrics, stat: string): number | undefined {
  const d = m.metrics.http_req_duration
  return d?.type === 'trend' ? d.values[stat] : undefined
}

/** Decides the rule on the rounds so far; `merged` is every round's samples of each side together. */
export function decideLoad(
  rule: RegressionRule,
  pairs: ReadonlyArray<{ baseline: LoadMetrics; candidate: LoadMetrics }>,
  merged: { baseline: LoadMetrics; candidate: LoadMetrics },
): LoadDecision {
  const entries = Object.entries(rule.ratios).sort(([a], [z]) => a.localeCompare(z))
  const alpha = DEFAULT_ALPHA / Math.max(1, entries.length)
  const stats = entries.flatMap(([stat, allowed]): StatDecision[] => {
    const baselineMs = statOf(merged.baseline, stat)
    const candidateMs = statOf(merged.candidate, stat)
    if (baselineMs === undefined || candidateMs === undefined) return []
    const rounds: RoundPair[] = pairs.flatMap((p) => {
      const b = statOf(p.baseline, stat)
      const c = statOf(p.candidate, stat)
      return b === undefined || c === undefined ? [] : [{ baselineMs: b, candidateMs: c }]
    })
    const threshold = baselineMs > 0 ? Math.max(allowed, 1 + rule.minDeltaMs / baselineMs) : allowed
    const seq = (rule.sequential ? decideSequential : decideFixed)(rounds, {
      allowed: threshold,
      alpha,
      beta: DEFAULT_BETA,
    })
    const clearlyWithin = seq.interval.high !== null && seq.interval.high < allowed
    const underGapFloor =
      (seq.decision === 'regressed' && candidateMs - baselineMs < rule.minDeltaMs) ||
      (seq.decision === 'within' && !clearlyWithin)
    const roundRatios = rounds.map((r) => (r.baselineMs > 0 ? r.candidateMs / r.baselineMs : 1))
    return [
      {
        stat,
        allowed,
        threshold: round3(threshold),
        decision: underGapFloor ? 'within' : seq.decision,
        baselineMs: round3(baselineMs),
        candidateMs: round3(candidateMs),
        ratio: round3(baselineMs > 0 ? candidateMs / baselineMs : candidateMs > 0 ? Infinity : 1),
        interval: {
          low: round3(seq.interval.low),
          high: seq.interval.high === null ? null : round3(seq.interval.high),
        },
        rounds: seq.rounds,
        roundRatios: roundRatios.map(round3),
        perRoundRatio: round3(geometricMean(roundRatios)),
        underGapFloor,
        evidence: { regression: round3(seq.failEvidence), within: round3(seq.passEvidence) },
      },
    ]
  })
  const outcome = stats.some((s) => s.decision === 'regressed')
    ? 'regressed'
    : stats.length > 0 && stats.every((s) => s.decision === 'within')
      ? 'within'
      : 'undecided'
  return { outcome, stats, alpha, beta: DEFAULT_BETA }
}

/**
 * After a sequential round: true to stop. Stops on a clear answer; past the planned rounds, keeps going
 * (confirmation rounds, up to `confirmRounds` more) only while some undecided statistic leans towards a
 * regression: the geometric mean of its round ratios is above the allowed ratio. The test is valid at any
 * stopping time, so going on cannot raise the false-failure rate; it only lets a true regression that is
 * noisy round by round be shown instead of passed as undecided.
 */
export function shouldStop(decision: LoadDecision, roundsRun: number, planned: number): boolean {
  if (decision.outcome !== 'undecided') return true
  if (roundsRun < planned) return false
  return !decision.stats.some((s) => s.decision === 'undecided' && !s.underGapFloor && leansOver(s))
}

/** True when the rounds' geometric-mean ratio is above the one tested (the allowed one, or the floor's). */
function leansOver(s: StatDecision): boolean {
  return s.roundRatios.some((r) => r > 0) && geometricMean(s.roundRatios) > s.threshold
}

/** The geometric mean of the positive ratios; 1 when there is none. */
function geometricMean(ratios: readonly number[]): number {
  const logs = ratios.filter((r) => r > 0).map((r) => Math.log(r))
  return logs.length ? Math.exp(logs.reduce((a, b) => a + b, 0) / logs.length) : 1
}

/** Why the rounds ended, given the decision and whether they stopped early. */
export function stopReason(rule: RegressionRule, decision: LoadDecision): StopReason {
  if (!rule.sequential) return 'fixed-rounds'
  if (decision.outcome === 'regressed') return 'clear-regression'
  if (decision.outcome === 'undecided') return 'rounds-exhausted'
  return decision.stats.some((s) => s.underGapFloor) ? 'under-gap-floor' : 'clear-pass'
}

/** `[0.91×, 1.12×]`, `[1.6×, unbounded)`. */
export function formatInterval(interval: { low: number; high: number | null }): string {
  const f = (n: number) => `${Math.round(n * 100) / 100}×`
  return interval.high === null
    ? `[${f(interval.low)}, unbounded)`
    : `[${f(interval.low)}, ${f(interval.high)}]`
}
