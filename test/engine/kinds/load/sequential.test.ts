/**
 * The sequential regression decision on simulated rounds: thousands of seeded sequences, each decided as
 * a run decides it (after every round, stopping at the first clear answer). Fast and deterministic.
 */
import { describe, expect, it } from 'vitest'
import { decideLoad, shouldStop, stopReason } from '../../../../engine/kinds/load/decision.js'
import { candidateFirst } from '../../../../engine/kinds/load/measure.js'
import type { LoadMetrics } from '../../../../engine/kinds/load/metrics.js'
import { decideSequential, type RoundPair } from '../../../../engine/kinds/load/sequential.js'
import { confirmRounds, type RegressionRule } from '../../../../engine/kinds/load/spec.js'

/** xorshift32: a seeded source of uniforms in (0, 1). */
function random(seed: number): () => number {
  let s = seed >>> 0 || 1
  return () => {
    s ^= s << 13
    s >>>= 0
    s ^= s >>> 17
    s ^= s << 5
    s >>>= 0
    return (s + 0.5) / 4294967296
  }
}
const gauss = (r: () => number) => Math.sqrt(-2 * Math.log(r())) * Math.cos(2 * Math.PI * r())
/** Heavy-tailed latency: lognormal body, and one round in eight a stall of Pareto(1.1) size. */
const latency = (r: () => number) =>
  20 * Math.exp(0.3 * gauss(r)) * (r() < 0.125 ? Math.pow(r(), -1 / 1.1) : 1)
/** Cauchy: no mean, no variance. */
const cauchy = (r: () => number, scale: number) => scale * Math.tan(Math.PI * (r() - 0.5))

type Sequence = (r: () => number) => RoundPair
const SEQUENCES = 4000
const MAX_ROUNDS = 16
const ALPHA = 0.05
const BETA = 0.2

function simulate(round: Sequence, allowed = 1.5, seed0 = 1) {
  let regressed = 0
  let within = 0
  let rounds = 0
  const results = []
  for (let s = 0; s < SEQUENCES; s++) {
    const r = random(seed0 + s * 7919)
    const pairs = Array.from({ length: MAX_ROUNDS }, () => round(r))
    const result = decideSequential(pairs, { allowed, alpha: ALPHA, beta: BETA })
    if (result.decision === 'regressed') regressed++
    if (result.decision === 'within') within++
    rounds += result.rounds
    results.push(result)
  }
  return { regressed: regressed / SEQUENCES, within: within / SEQUENCES, rounds: rounds / SEQUENCES, results }
}

/** Both sides drawn alike; the candidate `ratio`× slower, its per-round noise `noise` in log units. */
const shifted =
  (ratio: number, noise: (r: () => number) => number): Sequence =>
  (r) => {
    const base = latency(r)
    return { baselineMs: base, candidateMs: base * ratio * Math.exp(noise(r)) }
  }

describe('sequential regression decision (simulated rounds)', () => {
  it('keeps false failures under α for identical heavy-tailed distributions', () => {
    const sim = simulate((r) => ({ baselineMs: latency(r), candidateMs: latency(r) }))
    expect(sim.regressed).toBeLessThanOrEqual(ALPHA)
    // Identical services are far from 1.5×: they never fail, and most pass before the last round.
    expect(sim.regressed).toBe(0)
    expect(sim.within).toBeGreaterThan(0.75)
  })

  it('keeps false failures under α at the threshold itself, with Cauchy noise (the worst case)', () => {
    const sim = simulate(shifted(1.5, (r) => cauchy(r, 0.2)))
    expect(sim.regressed).toBeLessThanOrEqual(ALPHA)
    // …and passes a candidate exactly at the threshold at most β of the time.
    expect(sim.within).toBeLessThanOrEqual(BETA)
  })

  it('catches a 2× slowdown against 1.5× allowed, through heavy-tailed rounds', () => {
    const sim = simulate((r) => {
      // Each side's round statistic has its own stalls: the noise is the heavy-tailed ratio of two.
      const noise = latency(r) / latency(r)
      const base = latency(r)
      return { baselineMs: base, candidateMs: base * 2 * Math.pow(noise, 0.25) }
    })
    expect(sim.regressed).toBeGreaterThanOrEqual(0.99)
    expect(sim.within).toBeLessThan(0.001)
  })

  it('decides a clean comparison in three rounds and a clear regression in five', () => {
    const quiet = (ratio: number) => shifted(ratio, (r) => 0.03 * gauss(r))
    const pass = simulate(quiet(1))
    expect(pass.within).toBe(1)
    expect(pass.rounds).toBe(3)
    const fail = simulate(quiet(3))
    expect(fail.regressed).toBe(1)
    expect(fail.rounds).toBe(5)
  })

  it('reports an interval that holds the true ratio (1 − α − β of the time at least) and agrees with the decision', () => {
    for (const ratio of [1, 1.4, 2]) {
      const sim = simulate(
        shifted(ratio, (r) => cauchy(r, 0.1)),
        1.5,
        99,
      )
      const covered = sim.results.filter(
        (x) => x.interval.low <= ratio && (x.interval.high === null || ratio <= x.interval.high),
      ).length
      expect(covered / SEQUENCES).toBeGreaterThanOrEqual(1 - ALPHA - BETA)
      for (const x of sim.results) {
        if (x.decision === 'regressed') expect(x.interval.low).toBeGreaterThanOrEqual(1.5 - 1e-9)
        if (x.decision === 'within') expect(x.interval.high).toBeLessThanOrEqual(1.5 + 1e-9)
      }
    }
  })

  it('does not fail on one stalled round among clean ones, and cannot fail before five rounds', () => {
    const pairs: RoundPair[] = [10, 1, 1, 1, 1].map((k) => ({ baselineMs: 20, candidateMs: 20 * k }))
    expect(decideSequential(pairs, { allowed: 1.5 }).decision).not.toBe('regressed')
    const early = Array.from({ length: 4 }, () => ({ baselineMs: 20, candidateMs: 200 }))
    expect(decideSequential(early, { allowed: 1.5 })).toMatchObject({ decision: 'undecided', rounds: 4 })
    expect(decideSequential([...early, early[0]!], { allowed: 1.5 })).toMatchObject({
      decision: 'regressed',
      rounds: 5,
    })
  })

  it('starts undecided with an unbounded interval, and gives the same answer for the same rounds', () => {
    expect(decideSequential([], { allowed: 1.5 })).toEqual({
      decision: 'undecided',
      rounds: 0,
      failEvidence: 1,
      passEvidence: 1,
      interval: { low: 0, high: null },
    })
    const r = random(5)
    const pairs = Array.from({ length: 10 }, () => ({ baselineMs: latency(r), candidateMs: latency(r) }))
    expect(decideSequential(pairs, { allowed: 1.5 })).toEqual(decideSequential(pairs, { allowed: 1.5 }))
  })

  it('orders each round by a fair coin fixed by the seed', () => {
    const flips = Array.from({ length: 2000 }, (_, i) => candidateFirst(7, i))
    expect(flips).toEqual(Array.from({ length: 2000 }, (_, i) => candidateFirst(7, i)))
    const heads = flips.filter(Boolean).length
    expect(heads).toBeGreaterThan(900)
    expect(heads).toBeLessThan(1100)
    expect(flips.slice(0, 64)).not.toEqual(Array.from({ length: 64 }, (_, i) => candidateFirst(8, i)))
  })
})

const metrics = (values: Record<string, number>): LoadMetrics => ({
  engine: 'builtin',
  durationMs: 250,
  metrics: { http_req_duration: { type: 'trend', values } },
})
const rule = (over: Partial<RegressionRule> = {}): RegressionRule => ({
  ratios: { 'p(95)': 1.5 },
  rounds: 8,
  minDeltaMs: 1,
  sequential: true,
  explicit: true,
  ...over,
})
const rounds = (n: number, b: number, c: number) =>
  Array.from({ length: n }, () => ({ baseline: metrics({ 'p(95)': b }), candidate: metrics({ 'p(95)': c }) }))

describe('load decision (statistics of the rule, gap floor)', () => {
  it('regresses when the interval lies above the allowed ratio and the gap is over the floor', () => {
    const d = decideLoad(rule(), rounds(5, 10, 30), {
      baseline: metrics({ 'p(95)': 10 }),
      candidate: metrics({ 'p(95)': 30 }),
    })
    expect(d.outcome).toBe('regressed')
    expect(d.stats[0]).toMatchObject({ stat: 'p(95)', decision: 'regressed', ratio: 3, rounds: 5 })
    expect(d.stats[0]!.interval.low).toBeGreaterThan(1.5)
    expect(stopReason(rule(), d)).toBe('clear-regression')
    expect(stopReason(rule({ sequential: false }), d)).toBe('fixed-rounds')
  })

  it("gives the rounds' geometric-mean ratio beside the merged one", () => {
    // Rounds of 4× and 16× (geometric mean 8×); merged over every round, the p95s compare as 20×.
    const pairs = [...rounds(3, 1, 4), ...rounds(3, 1, 16)]
    const merged = { baseline: metrics({ 'p(95)': 1 }), candidate: metrics({ 'p(95)': 20 }) }
    expect(decideLoad(rule(), pairs, merged).stats[0]).toMatchObject({ ratio: 20, perRoundRatio: 8 })
    const none = { baseline: metrics({ 'p(95)': 1 }), candidate: metrics({ 'p(95)': 1 }) }
    expect(decideLoad(rule(), [], none).stats[0]).toMatchObject({ perRoundRatio: 1 })
  })

  it('passes a clear ratio above the allowed one when the difference is under minDeltaMs', () => {
    const d = decideLoad(rule({ minDeltaMs: 5 }), rounds(5, 0.2, 0.9), {
      baseline: metrics({ 'p(95)': 0.2 }),
      candidate: metrics({ 'p(95)': 0.9 }),
    })
    expect(d.outcome).toBe('within')
    expect(d.stats[0]).toMatchObject({ decision: 'within', underGapFloor: true })
    expect(stopReason(rule(), d)).toBe('under-gap-floor')
  })

  it('decides by the floor as soon as the difference is clearly under it, and still catches a slowdown over it', () => {
    // A 0.3 ms lookup whose rounds wander around 1.5× (loopback jitter): under a 5 ms floor it may be
    // 17.7× slower before it counts, so three rounds decide what eight could not at 1.5×.
    const wander = [1.56, 1.86, 1.5].map((r) => ({
      baseline: metrics({ 'p(95)': 0.3 }),
      candidate: metrics({ 'p(95)': 0.3 * r }),
    }))
    const merged = { baseline: metrics({ 'p(95)': 0.3 }), candidate: metrics({ 'p(95)': 0.49 }) }
    const floor = decideLoad(rule({ minDeltaMs: 5 }), wander, merged)
    expect(floor.outcome).toBe('within')
    expect(floor.stats[0]).toMatchObject({ decision: 'within', underGapFloor: true, rounds: 3 })
    expect(floor.stats[0]!.threshold).toBeCloseTo(1 + 5 / 0.3, 2)
    expect(stopReason(rule({ minDeltaMs: 5 }), floor)).toBe('under-gap-floor')
    // Without a floor that matters (1 ms on 0.3 ms: 4.3×), the same rounds are not decided.
    expect(decideLoad(rule({ minDeltaMs: 0.01 }), wander, merged).outcome).toBe('undecided')
    // 20 ms more on the same lookup is over the floor: caught.
    const slow = rounds(6, 0.3, 20.3)
    const caught = decideLoad(rule({ minDeltaMs: 5 }), slow, {
      baseline: metrics({ 'p(95)': 0.3 }),
      candidate: metrics({ 'p(95)': 20.3 }),
    })
    expect(caught.outcome).toBe('regressed')
    expect(caught.stats[0]!.underGapFloor).toBe(false)
    // A floor under the allowed ratio's difference changes nothing: the test runs at the allowed ratio.
    const big = decideLoad(rule({ minDeltaMs: 5 }), rounds(5, 40, 41), {
      baseline: metrics({ 'p(95)': 40 }),
      candidate: metrics({ 'p(95)': 41 }),
    })
    expect(big.stats[0]).toMatchObject({ threshold: 1.5, decision: 'within', underGapFloor: false })
  })

  it('splits α between statistics, and passes only when every statistic is clearly within', () => {
    const two = rule({ ratios: { 'p(95)': 1.5, med: 1.5 } })
    const pairs = Array.from({ length: 3 }, () => ({
      baseline: metrics({ 'p(95)': 10, med: 5 }),
      candidate: metrics({ 'p(95)': 10, med: 7 }),
    }))
    const d = decideLoad(two, pairs, { baseline: pairs[0]!.baseline, candidate: pairs[0]!.candidate })
    expect(d.alpha).toBeCloseTo(0.025)
    expect(d.stats.map((s) => [s.stat, s.decision])).toEqual([
      ['med', 'undecided'],
      ['p(95)', 'within'],
    ])
    expect(d.outcome).toBe('undecided')
    expect(stopReason(two, d)).toBe('rounds-exhausted')
  })
})

describe('the rounds as a run takes them (decision after each, confirmation rounds while leaning)', () => {
  /** Rounds until shouldStop says so, at most planned + confirmRounds(planned); the outcome then. */
  function runRounds(next: () => RoundPair, planned = 16) {
    const r = rule({ rounds: planned })
    const pairs: Array<{ baseline: LoadMetrics; candidate: LoadMetrics }> = []
    let decision = decideLoad(r, [], { baseline: metrics({}), candidate: metrics({}) })
    while (pairs.length < planned + confirmRounds(planned)) {
      const p = next()
      pairs.push({
        baseline: metrics({ 'p(95)': p.baselineMs }),
        candidate: metrics({ 'p(95)': p.candidateMs }),
      })
      const mean = (side: 'baseline' | 'candidate') =>
        pairs.reduce(
          (sum, x) => sum + (x[side].metrics.http_req_duration!.values as Record<string, number>)['p(95)']!,
          0,
        ) / pairs.length
      decision = decideLoad(r, pairs, {
        baseline: metrics({ 'p(95)': mean('baseline') }),
        candidate: metrics({ 'p(95)': mean('candidate') }),
      })
      if (shouldStop(decision, pairs.length, planned)) break
    }
    return { outcome: decision.outcome, rounds: pairs.length }
  }
  /** Rounds whose ratio is `ratio` times a lognormal noise of `sd` in log units: a busy machine's p95s. */
  const noisy = (r: () => number, ratio: number, sd: number) => () => {
    const base = 40 * Math.exp(0.2 * gauss(r))
    return { baselineMs: base, candidateMs: base * ratio * Math.exp(sd * gauss(r)) }
  }
  const RUNS = 1000

  it('catches a true 1.85× against 1.5× allowed through noisy rounds, and fails identical services never', () => {
    let caught = 0
    let falseFailures = 0
    let cleanRounds = 0
    for (let s = 0; s < RUNS; s++) {
      if (runRounds(noisy(random(11 + s * 7919), 1.85, 0.25)).outcome === 'regressed') caught++
      const same = runRounds(noisy(random(13 + s * 7919), 1, 0.25))
      if (same.outcome === 'regressed') falseFailures++
      cleanRounds += same.rounds
    }
    // With a ±10% scale and at most half the planned rounds to confirm, these rounds were caught 82% of the time.
    expect(caught / RUNS).toBeGreaterThanOrEqual(0.95)
    expect(falseFailures).toBe(0)
    // A clean comparison still ends in a handful of rounds, not the planned 16.
    expect(cleanRounds / RUNS).toBeLessThan(5)
  })

  it('keeps false failures under α at the threshold itself, confirmation rounds included', () => {
    let failed = 0
    for (let s = 0; s < RUNS; s++)
      if (runRounds(noisy(random(17 + s * 7919), 1.5, 0.25)).outcome === 'regressed') failed++
    expect(failed / RUNS).toBeLessThanOrEqual(0.05)
  })
})
