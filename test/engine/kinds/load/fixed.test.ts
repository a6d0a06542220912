/**
 * The fixed-round decision (`sequential: false`): a sign-flip test read once after every planned round.
 * Exact p-values on small cases, then thousands of seeded simulated checks: its false-failure rate at the
 * threshold stays within α, and it catches a true 2× against 1.5× more often than the anytime test read
 * once at the same rounds (the reason it exists).
 */
import { describe, expect, it } from 'vitest'
import { seededRandom } from '../../../../engine/api/random.js'
import { decideLoad } from '../../../../engine/kinds/load/decision.js'
import { decideFixed, signFlipP } from '../../../../engine/kinds/load/fixed.js'
import type { LoadMetrics } from '../../../../engine/kinds/load/metrics.js'
import { decideSequential, type RoundPair } from '../../../../engine/kinds/load/sequential.js'

const gauss = (r: () => number) => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r())
/** Sixteen rounds of a candidate `ratio`× the baseline, each round's log-ratio off by `noise`·N(0, 1). */
function rounds(seed: number, ratio: number, noise: number, n = 16): RoundPair[] {
  const r = seededRandom(seed)
  return Array.from({ length: n }, () => {
    const base = 30 * Math.exp(0.2 * gauss(r))
    return { baselineMs: base, candidateMs: base * ratio * Math.exp(noise * gauss(r)) }
  })
}
const CHECKS = 800

describe('fixed-round load decision', { timeout: 120_000 }, () => {
  it('gives exact sign-flip p-values', () => {
    expect(signFlipP([1, 1, 1, 1, 1])).toBeCloseTo(1 / 32)
    expect(signFlipP([-1, -1, -1])).toBe(1)
    // Two of four flips reach a sum ≥ 0 when the sizes are 1 and 1, plus the ties: {+,+}, {+,−}, {−,+}.
    expect(signFlipP([1, -1])).toBeCloseTo(3 / 4)
    expect(signFlipP([])).toBe(1)
  })

  it('draws past twenty-four rounds, the same way every time, and never answers 0', () => {
    const g = Array.from({ length: 30 }, () => 1)
    expect(signFlipP(g)).toBeGreaterThan(0)
    expect(signFlipP(g)).toBeLessThan(0.001)
    const mixed = Array.from({ length: 30 }, (_, i) => (i % 3 === 0 ? -0.5 : 0.4))
    expect(signFlipP(mixed)).toBe(signFlipP(mixed))
  })

  it('keeps its false-failure rate within α at the threshold itself, and never fails identical sides', () => {
    let atThreshold = 0
    let identical = 0
    for (let s = 0; s < CHECKS; s++) {
      if (decideFixed(rounds(s + 1, 1.5, 0.25), { allowed: 1.5 }).decision === 'regressed') atThreshold++
      if (decideFixed(rounds(s + 1, 1, 0.25), { allowed: 1.5 }).decision === 'regressed') identical++
    }
    expect(atThreshold / CHECKS).toBeLessThanOrEqual(0.05 + 0.02)
    expect(identical).toBe(0)
  })

  it('catches a true 2× against 1.5× more often than the anytime test read once, with an interval above 1.5×', () => {
    let fixed = 0
    let anytime = 0
    for (let s = 0; s < CHECKS; s++) {
      const pairs = rounds(s + 1, 2, 0.25)
      const f = decideFixed(pairs, { allowed: 1.5 })
      if (f.decision === 'regressed') {
        fixed++
        expect(f.interval.low).toBeGreaterThan(1.5)
      }
      if (decideSequential(pairs, { allowed: 1.5 }).decision === 'regressed') anytime++
    }
    expect(fixed / CHECKS).toBeGreaterThanOrEqual(0.95)
    expect(fixed).toBeGreaterThan(anytime)
  })

  it('is what a check with sequential: false decides with, and it passes a clear pass', () => {
    const metrics = (p95: number): LoadMetrics => ({
      engine: 'builtin',
      durationMs: 250,
      metrics: { http_req_duration: { type: 'trend', values: { 'p(95)': p95 } } },
    })
    const pairs = rounds(7, 1, 0.1).map((p) => ({
      baseline: metrics(p.baselineMs),
      candidate: metrics(p.candidateMs),
    }))
    const rule = { ratios: { 'p(95)': 1.5 }, rounds: 16, minDeltaMs: 1, sequential: false, explicit: true }
    const d = decideLoad(rule, pairs, { baseline: metrics(30), candidate: metrics(30) })
    expect(d.outcome).toBe('within')
    expect(d.stats[0]!.rounds).toBe(16)
    expect(d.stats[0]!.interval.high).toBeLessThan(1.5)
  })
})
