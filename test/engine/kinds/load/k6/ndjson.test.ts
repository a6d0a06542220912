import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parseK6Ndjson } from '../../../../../engine/kinds/load/k6/ndjson.js'
import { k6Fixture } from './fixtures.js'

function pointsOf(text: string, metric: string): number[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .filter((e) => e.type === 'Point' && e.metric === metric)
    .map((e) => e.data.value as number)
}

describe('k6 --out json (recorded real output, k6 v0.46)', () => {
  const text = readFileSync(k6Fixture('result.json'), 'utf8')

  it('counts every request and computes percentiles from the points', () => {
    const durations = pointsOf(text, 'http_req_duration').sort((a, b) => a - b)
    const m = parseK6Ndjson(text).toMetrics('k6', ['avg', 'min', 'max', 'med', 'p(95)', 'count'])
    const d = m.metrics.http_req_duration
    expect(d?.type).toBe('trend')
    const v = (d as { values: Record<string, number> }).values
    expect(v.count).toBe(durations.length)
    expect(v.min).toBeCloseTo(durations[0]!, 0)
    expect(v.max).toBeCloseTo(durations.at(-1)!, 0)
    const mean = durations.reduce((a, b) => a + b, 0) / durations.length
    expect(Math.abs(v.avg! - mean) / mean).toBeLessThan(0.01)
    // Nearest-rank p95 of the raw points, within the histogram's 3 significant digits.
    const p95 = durations[Math.ceil(0.95 * durations.length) - 1]!
    expect(Math.abs(v['p(95)']! - p95) / p95).toBeLessThan(0.01)
    expect(m.metrics.http_reqs).toMatchObject({
      type: 'counter',
      values: { count: pointsOf(text, 'http_reqs').length },
    })
  })

  it('takes failures from http_req_failed points and statuses from tags', () => {
    const failedPoints = pointsOf(text, 'http_req_failed')
    const m = parseK6Ndjson(text).toMetrics('k6', ['p(95)'])
    expect(m.metrics.http_req_failed).toMatchObject({
      type: 'rate',
      values: { matches: failedPoints.filter((v) => v !== 0).length, total: failedPoints.length },
    })
    expect(Object.values(m.statusCodes ?? {}).reduce((a, b) => a + b, 0)).toBe(failedPoints.length)
    expect(m.metrics.data_received?.type).toBe('counter')
    expect(m.durationMs).toBeGreaterThan(0)
  })

  it('names a line that is not JSON', () => {
    expect(() => parseK6Ndjson('{"type":"Point"\n')).toThrow(/line 1: not JSON/)
  })
})
