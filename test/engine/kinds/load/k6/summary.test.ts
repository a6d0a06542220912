import { readFileSync } from 'node:fs'
import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import { describe, expect, it } from 'vitest'
import {
  detectK6Summary,
  failedEngineThresholds,
  parseK6Summary,
} from '../../../../../engine/kinds/load/k6/summary.js'
import { evaluateThresholds, parseThresholds } from '../../../../../engine/kinds/load/thresholds.js'
import { k6Fixture } from './fixtures.js'

const schema = (name: string) =>
  JSON.parse(readFileSync(k6Fixture('k6-summary', 'schemas', name, '1.0.0', 'schema.json'), 'utf8'))

function summaryValidator() {
  const ajv = new Ajv2020({ strict: false })
  addFormats.default(ajv)
  ajv.addSchema(
    JSON.parse(readFileSync(k6Fixture('k6-summary', 'schemas', 'semver', '2.0.0', 'schema.json'), 'utf8')),
  )
  ajv.addSchema(schema('metric'))
  return ajv.compile(schema('summary'))
}

// Constructed from the documented handleSummary shape (SOURCE.md): `ok: true` = passed.
const handleSummary = {
  root_group: { name: '', path: '', id: 'd41d8cd98f00b204e9800998ecf8427e', groups: [], checks: [] },
  options: {
    summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)'],
    summaryTimeUnit: '',
    noColor: false,
  },
  state: { isStdOutTTY: false, isStdErrTTY: false, testRunDurationMs: 3012.5 },
  metrics: {
    http_req_duration: {
      type: 'trend',
      contains: 'time',
      values: { avg: 3.2, min: 0.8, med: 2.9, max: 41.3, 'p(90)': 5.1, 'p(95)': 7.4 },
      thresholds: { 'p(95)<5': { ok: false }, 'p(90)<10': { ok: true } },
    },
    http_req_failed: { type: 'rate', contains: 'default', values: { rate: 0.01, passes: 3, fails: 297 } },
    http_reqs: { type: 'counter', contains: 'default', values: { count: 300, rate: 99.58 } },
    vus: { type: 'gauge', contains: 'default', values: { value: 4, min: 4, max: 4 } },
  },
  setup_data: null,
}

// Constructed from the documented legacy --summary-export shape: a threshold `true` means it FAILED.
const summaryExport = {
  root_group: { name: '', path: '', id: 'd41d8cd98f00b204e9800998ecf8427e', groups: {}, checks: {} },
  metrics: {
    http_req_duration: {
      avg: 3.2,
      min: 0.8,
      med: 2.9,
      max: 41.3,
      'p(90)': 5.1,
      'p(95)': 7.4,
      thresholds: { 'p(95)<5': true, 'p(90)<10': false },
    },
    http_req_failed: { passes: 3, fails: 297, value: 0.01, thresholds: { 'rate<0.05': false } },
    http_reqs: { count: 300, rate: 99.58 },
    vus: { value: 4, min: 4, max: 4 },
  },
}

// Constructed from the machine-readable summary schema v1.0.0 (validated against it below).
const machineReadable = {
  version: '1.0.0',
  metadata: { generatedAt: '2025-06-01T10:00:00Z', k6Version: '1.5.0' },
  config: { execution: 'local', script: 'script.js', duration: 3.0125 },
  results: {
    passed: false,
    metrics: [
      {
        name: 'http_req_duration',
        type: 'trend',
        contains: 'time',
        values: { avg: 3.2, min: 0.8, med: 2.9, max: 41.3, 'p(90)': 5.1, 'p(95)': 7.4 },
      },
      {
        name: 'http_req_failed',
        type: 'rate',
        contains: 'default',
        values: { matches: 3, total: 300, rate: 0.01 },
      },
      { name: 'http_reqs', type: 'counter', contains: 'default', values: { count: 300 } },
      { name: 'vus', type: 'gauge', contains: 'default', values: { value: 4, min: 4, max: 4 } },
    ],
  },
}

describe('k6 summaries (constructed from the documented formats)', () => {
  it('tells the three documents apart', () => {
    expect(detectK6Summary(handleSummary)).toBe('handle-summary')
    expect(detectK6Summary(summaryExport)).toBe('summary-export')
    expect(detectK6Summary(machineReadable)).toBe('machine-readable-v1')
    expect(detectK6Summary({ hello: 1 })).toBeUndefined()
  })

  it('maps handleSummary into the common model; ok: true means passed', () => {
    const m = parseK6Summary(JSON.stringify(handleSummary))
    expect(m.format).toBe('handle-summary')
    expect(m.durationMs).toBe(3013)
    expect(m.metrics.http_req_duration).toEqual({
      type: 'trend',
      values: handleSummary.metrics.http_req_duration.values,
    })
    expect(m.metrics.http_req_failed).toEqual({
      type: 'rate',
      values: { rate: 0.01, matches: 3, total: 300 },
    })
    expect(m.metrics.vus).toEqual({ type: 'gauge', values: { value: 4, min: 4, max: 4 } })
    expect(failedEngineThresholds(m)).toEqual(['http_req_duration: p(95)<5'])
  })

  it('maps the legacy --summary-export; a threshold true there means FAILED', () => {
    const m = parseK6Summary(summaryExport)
    expect(m.format).toBe('summary-export')
    expect(m.metrics.http_req_failed).toEqual({
      type: 'rate',
      values: { rate: 0.01, matches: 3, total: 300 },
    })
    expect(m.metrics.http_reqs).toEqual({ type: 'counter', values: { count: 300, rate: 99.58 } })
    expect(m.metrics.vus?.type).toBe('gauge')
    expect(m.engineThresholds).toEqual({
      http_req_duration: { 'p(95)<5': false, 'p(90)<10': true },
      http_req_failed: { 'rate<0.05': true },
    })
    expect(failedEngineThresholds(m)).toEqual(['http_req_duration: p(95)<5'])
  })

  it('maps the machine-readable v1 summary, which validates against its published schema', () => {
    const validate = summaryValidator()
    expect(validate(machineReadable), JSON.stringify(validate.errors)).toBe(true)
    const m = parseK6Summary(machineReadable)
    expect(m.format).toBe('machine-readable-v1')
    expect(m.durationMs).toBe(3013)
    expect(m.metrics.http_req_failed).toEqual({
      type: 'rate',
      values: { rate: 0.01, matches: 3, total: 300 },
    })
    expect(m.engineThresholds).toEqual({ '*': { passed: false } })
  })

  it('the schema rejects a document of another shape (the validator is real)', () => {
    const validate = summaryValidator()
    expect(validate({ ...machineReadable, version: 'one' })).toBe(false)
  })

  it('gives the same threshold verdicts as k6 from every format', () => {
    const thresholds = parseThresholds({
      http_req_duration: ['p(95)<5', 'p(90)<10'],
      http_req_failed: ['rate<0.05'],
    })
    for (const doc of [handleSummary, summaryExport, machineReadable]) {
      expect(evaluateThresholds(thresholds, parseK6Summary(doc)).map((r) => r.ok)).toEqual([
        false,
        true,
        true,
      ])
    }
  })

  it('rejects documents it does not know with a clear message', () => {
    expect(() => parseK6Summary('not json')).toThrow(/k6 summary: not JSON/)
    expect(() => parseK6Summary({ foo: 1 })).toThrow(/neither a handleSummary document/)
    expect(() => parseK6Summary({ metrics: { http_reqs: { count: 'x' } } })).toThrow(
      /metrics.http_reqs: value "count" is not a number/,
    )
  })
})
