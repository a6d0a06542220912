import { parse } from 'acorn'
import { describe, expect, it } from 'vitest'
import { generateK6Script, k6Options } from '../../../../../engine/kinds/load/k6/script.js'
import { resolveLoadSpec } from '../../../../../engine/kinds/load/spec.js'

const base = { serviceUrl: 'http://127.0.0.1:4000', service: 'orders', planDir: '/plans' }

describe('generated k6 scripts', () => {
  const closed = resolveLoadSpec(
    {
      requests: [
        {
          name: 'create',
          weight: 3,
          request: { method: 'POST', path: '/orders', json: { items: [{ sku: "tea'" }] } },
          expect: { status: [201] },
        },
        { name: 'lookup', request: 'GET /products/tea' },
      ],
      connections: 4,
      duration: '2s',
      thresholds: {
        http_req_duration: ['p(95)<200', { threshold: 'p(99)<400', abortOnFail: true, delayAbortEval: '1s' }],
      },
    },
    base,
  )
  const open = resolveLoadSpec({ request: 'GET /', rate: '90/m', duration: '3s' }, base)

  it.each([
    ['closed model', closed],
    ['open model', open],
  ])('parse as an ES module (%s)', (_name, spec) => {
    const source = generateK6Script(spec, { durationMs: 1500, sandboxHeaders: { 'x-route': 'pr-1' } })
    expect(() => parse(source, { ecmaVersion: 'latest', sourceType: 'module' })).not.toThrow()
    expect(source).toContain("import http from 'k6/http'")
    expect(source).toContain('export function handleSummary(data)')
  })

  it('use constant-vus for connections, with the plan thresholds as k6 writes them', () => {
    const options = k6Options(closed, { durationMs: 1500 })
    expect(options.scenarios).toEqual({
      vigil: { executor: 'constant-vus', vus: 4, duration: '1500ms', gracefulStop: '1s' },
    })
    expect(options.thresholds).toEqual({
      http_req_duration: [
        'p(95)<200',
        { threshold: 'p(99)<400', abortOnFail: true, delayAbortEval: '1000ms' },
      ],
    })
    expect(options.summaryTrendStats).toEqual(expect.arrayContaining(['med', 'p(95)', 'p(99)']))
  })

  it('use constant-arrival-rate for a rate, per minute when it is fractional per second', () => {
    expect(k6Options(open, { durationMs: 3000 }).scenarios).toEqual({
      vigil: {
        executor: 'constant-arrival-rate',
        rate: 90,
        timeUnit: '1m',
        duration: '3s',
        preAllocatedVUs: 1,
        maxVUs: 2,
        gracefulStop: '1s',
      },
    })
  })
})
