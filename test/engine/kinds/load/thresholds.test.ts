import { describe, expect, it } from 'vitest'
import type { LoadMetrics } from '../../../../engine/kinds/load/metrics.js'
import {
  evaluateThresholds,
  parseThreshold,
  parseThresholds,
  trendStatsNeeded,
} from '../../../../engine/kinds/load/thresholds.js'

const metrics: LoadMetrics = {
  engine: 'builtin',
  durationMs: 1000,
  metrics: {
    http_req_duration: {
      type: 'trend',
      values: { avg: 12, med: 10, 'p(95)': 40, 'p(99)': 90, max: 120, min: 1 },
    },
    'http_req_duration{name:lookup}': { type: 'trend', values: { 'p(95)': 8 } },
    http_req_failed: { type: 'rate', values: { rate: 0.02, matches: 2, total: 100 } },
    http_reqs: { type: 'counter', values: { count: 100, rate: 100 } },
  },
}

describe('parseThreshold', () => {
  it.each([
    ['p(95)<200', 'p(95)', '<', 200],
    ['p( 99.9 ) <= 400', 'p(99.9)', '<=', 400],
    ['avg>=1.5', 'avg', '>=', 1.5],
    ['med == 10', 'med', '==', 10],
    ['max===3', 'max', '==', 3],
    ['min != 0', 'min', '!=', 0],
  ])('parses %s on a trend', (source, aggregation, operator, value) => {
    expect(parseThreshold('http_req_duration', source)).toMatchObject({
      aggregation,
      operator,
      value,
      source,
    })
  })

  it('keeps abortOnFail and delayAbortEval of the object form', () => {
    const t = parseThreshold('http_req_failed', {
      threshold: 'rate<0.01',
      abortOnFail: true,
      delayAbortEval: '2s',
    })
    expect(t).toMatchObject({ aggregation: 'rate', abortOnFail: true, delayAbortEvalMs: 2000 })
  })

  it.each([
    ['http_req_duration', 'p95<200', /expected "<aggregation> <operator> <number>"/],
    ['http_req_duration', 'p(95) < fast', /expected/],
    [
      'http_req_duration',
      'rate<0.1',
      /http_req_duration is a trend; its aggregations are avg, min, med, max, p\(N\)/,
    ],
    ['http_req_failed', 'p(95)<1', /http_req_failed is a rate; its aggregations are rate/],
    ['http_reqs', 'avg>1', /http_reqs is a counter; its aggregations are count, rate/],
    ['bad metric!', 'rate<1', /is not a metric name/],
  ])('rejects %s "%s" with a message naming it', (metric, source, message) => {
    expect(() => parseThreshold(metric, source)).toThrow(message)
  })

  it('accepts aggregations of metrics it does not know (custom k6 metrics)', () => {
    expect(parseThreshold('checkout_time', 'p(90)<5').aggregation).toBe('p(90)')
  })
})

describe('evaluateThresholds', () => {
  it('passes and fails each expression on the metrics, sub-metrics included', () => {
    const thresholds = parseThresholds({
      http_req_duration: ['p(95)<50', 'p(99)<50'],
      'http_req_duration{name:lookup}': 'p(95)<10',
      http_req_failed: ['rate<0.01'],
      http_reqs: ['rate>50', 'count>=100'],
    })
    const results = evaluateThresholds(thresholds, metrics)
    expect(results.map((r) => [r.metric, r.threshold, r.ok, r.actual])).toEqual([
      ['http_req_duration', 'p(95)<50', true, 40],
      ['http_req_duration', 'p(99)<50', false, 90],
      ['http_req_duration{name:lookup}', 'p(95)<10', true, 8],
      ['http_req_failed', 'rate<0.01', false, 0.02],
      ['http_reqs', 'rate>50', true, 100],
      ['http_reqs', 'count>=100', true, 100],
    ])
  })

  it('fails a threshold whose metric was not measured, without an actual value', () => {
    const [r] = evaluateThresholds(parseThresholds({ 'http_req_duration{name:nope}': ['p(95)<1'] }), metrics)
    expect(r).toEqual({
      metric: 'http_req_duration{name:nope}',
      threshold: 'p(95)<1',
      ok: false,
      abortOnFail: false,
    })
  })

  it('lists the trend statistics thresholds need', () => {
    const t = parseThresholds({ http_req_duration: ['p(99.9)<1', 'avg<1'], http_req_failed: ['rate<1'] })
    expect(trendStatsNeeded(t)).toEqual(['p(99.9)', 'avg'])
  })
})
