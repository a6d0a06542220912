import { describe, expect, it } from 'vitest'
import type { LoadMetrics } from '../../../../engine/kinds/load/metrics.js'
import { compareErrorRate, compareLatency } from '../../../../engine/kinds/load/regression.js'

const m = (p95: number, failedRate = 0): LoadMetrics => ({
  engine: 'builtin',
  durationMs: 1000,
  metrics: {
    http_req_duration: { type: 'trend', values: { 'p(95)': p95 } },
    http_req_failed: { type: 'rate', values: { rate: failedRate, matches: 0, total: 100 } },
  },
})
const rule = { ratios: { 'p(95)': 1.5 }, rounds: 4, minDeltaMs: 1, sequential: true, explicit: true }

describe('compareLatency', () => {
  it('flags a candidate above the allowed ratio and the minimum delta', () => {
    expect(compareLatency(rule, m(10), m(40))).toEqual([
      {
        metric: 'http_req_duration',
        stat: 'p(95)',
        baselineMs: 10,
        candidateMs: 40,
        ratio: 4,
        allowed: 1.5,
        regressed: true,
      },
    ])
  })

  it('ignores a large ratio of sub-millisecond differences (loopback jitter)', () => {
    expect(compareLatency(rule, m(0.2), m(0.9))[0]).toMatchObject({ ratio: 4.5, regressed: false })
  })
})

describe('compareErrorRate', () => {
  it('flags a candidate failing more than one point above the baseline', () => {
    expect(compareErrorRate(m(1, 0), m(1, 0.005)).regressed).toBe(false)
    expect(compareErrorRate(m(1, 0), m(1, 0.2))).toEqual({
      baselineRate: 0,
      candidateRate: 0.2,
      regressed: true,
    })
  })
})
