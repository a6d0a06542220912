/**
 * The regression decision over A/B rounds, valid when it is looked at after every round.
 *
 * Data. Round i measures the baseline and the candidate one after the other, in an order drawn by a
 * seeded fair coin, and gives one pair of values of the rule's statistic (e.g. each side's p95 in that
 * round): d_i = ln(candidate_i / baseline_i).
 *
 * Model. The candidate is the baseline slowed by an unknown factor ρ: d_i = ln ρ + e_i, where e_i is what
 * the same comparison of two identical services would give. Because the coin picks which of the two
 * segments is the candidate's, e_i is symmetric about 0 given everything before round i — whatever the
 * machine does (drift, another process stealing a core, a heavy-tailed stall). Nothing else is assumed:
 * no variance, no distribution, no independence between rounds.
 *
 * Tests. Two one-sided tests at the plan's threshold θ, each a betting e-process (Waudby-Smith & Ramdas,
 * "Estimating means of bounded random variables by betting", 2023), on bounded increments
 * g_i = clip(±(d_i − ln θ)/s, −1, 1): clip is odd and non-decreasing, so E[g_i | past] ≤ 0 whenever the
 * tested hypothesis holds, and W_n = Σ_k w_k Π_i (1 + λ_k g_i) (a fixed mixture of bets λ_k ∈ [0, 1)) is a
 * non-negative supermartingale with W_0 = 1. By Ville's inequality P(sup_n W_n ≥ 1/α) ≤ α, so:
 * - regressed: the e-process against "ρ ≤ θ" reaches 1/α. The false-failure rate is at most α at any
 *   stopping time — stopping early, continuing, or reading after every round changes nothing.
 * - within: the e-process against "ρ ≥ θ" reaches 1/β. A candidate truly slower than θ passes with
 *   probability at most β.
 * - undecided: neither, after the plan's rounds. It fails nothing (a failure needs evidence) and says so.
 * With several statistics each gets α / (their number) (Bonferroni); the check regresses when any does,
 * and is within when all are.
 *
 * Interval. Inverting the same tests over every candidate value of ρ gives a confidence sequence: the
 * lower end is the largest ρ whose "ratio ≤ ρ" test has reached 1/α, the upper end the smallest ρ whose
 * "ratio ≥ ρ" test has reached 1/β (0 and unbounded until they do). It holds at every round at once, with
 * the same error rates, and decides as the tests do: regressed ⇔ the interval lies wholly above θ,
 * within ⇔ wholly below.
 *
 * Cost. Each round can at most double the evidence (under the symmetric null, (W(x) + W(−x))/2 ≤ 1), so
 * with α = 0.05 a failure needs at least 5 rounds that all point the same way — these are the
 * confirmation rounds — and a clear pass with β = 0.2 at least 3.
 */

/** One A/B round: the same statistic of each side, in milliseconds. */
export interface RoundPair {
  baselineMs: number
  candidateMs: number
}

export interface SequentialOptions {
  /** The largest allowed candidate / baseline ratio θ (> 1). */
  allowed: number
  /** Bound on the false-failure rate, at any stopping time. @default 0.05 */
  alpha?: number
  /** Bound on passing a candidate truly slower than `allowed`. @default 0.2 */
  beta?: number
}

export type Decision = 'regressed' | 'within' | 'undecided'

export interface SequentialResult {
  decision: Decision
  /** Rounds used: where the decision was reached, else all of them. */
  rounds: number
  /** Evidence (an e-value) against "ratio ≤ allowed" at that round; regressed at 1/alpha. */
  failEvidence: number
  /** Evidence against "ratio ≥ allowed"; within at 1/beta. */
  passEvidence: number
  /** Confidence sequence for the ratio at that round: `high` is null while unbounded. */
  interval: { low: number; high: number | null }
}

export const DEFAULT_ALPHA = 0.05
export const DEFAULT_BETA = 0.2

/** Bets (λ) and their weights: large bets decide clean data in few rounds, small ones survive a bad round. */
const BETS: ReadonlyArray<readonly [number, number]> = [
  [0.95, 0.5],
  [0.8, 0.3],
  [0.5, 0.2],
]
/**
 * Log-ratios this far past the threshold (a factor e^0.3 ≈ 1.35 either way) count as a whole round of
 * evidence; nearer ones count in proportion. A round on a busy machine moves a p95 by 20–30% on its own,
 * so a smaller scale would make every noisy round a full vote, and a true 1.85× against 1.5× would lose
 * to the noise a third of the time within 16 rounds (simulated: 0.64 caught at a per-round noise of 0.25
 * in log units, against 0.97 with this scale and the confirmation rounds of shouldStop).
 */
export const SCALE = 0.3
/** Values are floored at 1 µs, so a zero statistic has a finite logarithm. */
const FLOOR_MS = 0.001
/** Log-ratios are bounded (e^±20): past the scale they all weigh the same, and the interval stays finite. */
const MAX_LOG_RATIO = 20

/** The fewest rounds in which the test can reach 1/alpha: a failure needs at least this many. */
export function minRoundsToFail(alpha = DEFAULT_ALPHA): number {
  for (let n = 1; n < 100; n++) {
    if (BETS.reduce((sum, [lambda, weight]) => sum + weight * Math.pow(1 + lambda, n), 0) >= 1 / alpha)
      return n
  }
  return 100
}

/** Each round's ln(candidate / baseline); a round without a number on both sides counts as no change. */
export function logRatios(pairs: readonly RoundPair[]): number[] {
  return pairs.map((p) => {
    const d = Math.log(Math.max(p.candidateMs, FLOOR_MS) / Math.max(p.baselineMs, FLOOR_MS))
    return Number.isNaN(d) ? 0 : Math.max(-MAX_LOG_RATIO, Math.min(MAX_LOG_RATIO, d))
  })
}

/**
 * The e-process after each round, against "ln ratio ≤ at" (side +1) or "ln ratio ≥ at" (side −1).
 * Returns W_1..W_n.
 */
export function evidence(d: readonly number[], at: number, side: 1 | -1): number[] {
  const wealth = BETS.map(() => 1)
  return d.map((x) => {
    const g = Math.max(-1, Math.min(1, (side * (x - at)) / SCALE))
    let sum = 0
    for (let k = 0; k < BETS.length; k++) {
      wealth[k]! *= 1 + BETS[k]![0] * g
      sum += BETS[k]![1] * wealth[k]!
    }
    return sum
  })
}

/** True when the test at `at` reached `level` at some round up to n. */
function rejected(d: readonly number[], at: number, side: 1 | -1, level: number): boolean {
  return evidence(d, at, side).some((w) => w >= level)
}

/**
 * The end of the set of log-ratios a test rejects on one side: the largest (side +1) or smallest
 * (side −1). Each factor of the e-process is monotone in `at`, so the rejected set is a half-line and a
 * bisection finds its end. Undefined when nothing is rejected yet. fixed.ts bounds its interval the same way.
 */
export function rejectedEnd(
  d: readonly number[],
  side: 1 | -1,
  rejects: (at: number) => boolean,
  steps = 50,
): number | undefined {
  if (d.length === 0) return undefined
  const lo = Math.min(...d) - 1
  const hi = Math.max(...d) + 1
  // side +1 rejects small values of `at`, side −1 large ones.
  let inside = side === 1 ? lo : hi
  let outside = side === 1 ? hi : lo
  if (!rejects(inside)) return undefined
  for (let i = 0; i < steps; i++) {
    const mid = (inside + outside) / 2
    if (rejects(mid)) inside = mid
    else outside = mid
  }
  return inside
}

/** The interval for the ratio from the ends in log units (0 and unbounded where none was rejected). */
export function ratioInterval(
  low: number | undefined,
  high: number | undefined,
): SequentialResult['interval'] {
  return { low: low === undefined ? 0 : Math.exp(low), high: high === undefined ? null : Math.exp(high) }
}

/** What both decisions read: the error bounds, the threshold and the rounds' log-ratios. */
export function decisionInputs(
  pairs: readonly RoundPair[],
  options: SequentialOptions,
): { alpha: number; beta: number; at: number; d: number[] } {
  return {
    alpha: options.alpha ?? DEFAULT_ALPHA,
    beta: options.beta ?? DEFAULT_BETA,
    at: Math.log(options.allowed),
    d: logRatios(pairs),
  }
}

/** The decision after the rounds so far, stopping at the first round where a test crossed its level. */
export function decideSequential(pairs: readonly RoundPair[], options: SequentialOptions): SequentialResult {
  const { alpha, beta, at, d } = decisionInputs(pairs, options)
  const fail = evidence(d, at, 1)
  const pass = evidence(d, at, -1)
  let n = d.length
  let decision: Decision = 'undecided'
  for (let i = 0; i < d.length; i++) {
    if (fail[i]! >= 1 / alpha) decision = 'regressed'
    else if (pass[i]! >= 1 / beta) decision = 'within'
    else continue
    n = i + 1
    break
  }
  const seen = d.slice(0, n)
  return {
    decision,
    rounds: n,
    failEvidence: n ? fail[n - 1]! : 1,
    passEvidence: n ? pass[n - 1]! : 1,
    interval: ratioInterval(
      rejectedEnd(seen, 1, (x) => rejected(seen, x, 1, 1 / alpha)),
      rejectedEnd(seen, -1, (x) => rejected(seen, x, -1, 1 / beta)),
    ),
  }
}
