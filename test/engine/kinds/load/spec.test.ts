import { describe, expect, it } from 'vitest'
import { loadEngines } from '../../../../engine/kinds/load/engines.js'
import { planRounds } from '../../../../engine/kinds/load/measure.js'
import {
  onlyReads,
  parseRate,
  resolveLoadSpec,
  weightedSequence,
} from '../../../../engine/kinds/load/spec.js'

const base = { serviceUrl: 'http://127.0.0.1:4000', service: 'orders', planDir: '/plans' }

describe('resolveLoadSpec', () => {
  it("tells a load that only reads, and never takes a k6 script of the plan's own for one", () => {
    const reads = (params: Parameters<typeof resolveLoadSpec>[0]) => onlyReads(resolveLoadSpec(params, base))
    expect(reads({ requests: [{ request: 'GET /a' }, { request: { method: 'head', path: '/b' } }] })).toBe(
      true,
    )
    expect(reads({ requests: [{ request: 'GET /a' }, { request: 'POST /orders' }] })).toBe(false)
    expect(reads({ request: 'GET /a', engine: 'k6', k6: { script: './load.js' } })).toBe(false)
    expect(reads({ engine: 'k6', k6: { script: './load.js' } })).toBe(false)
  })

  it('resolves weighted requests with JSON bodies, headers and defaults', () => {
    const spec = resolveLoadSpec(
      {
        headers: { 'x-run': 'a' },
        requests: [
          {
            name: 'create',
            weight: 3,
            request: { method: 'post', path: '/orders', json: { sku: 'tea' } },
            expect: { status: 201 },
          },
          { request: { path: '/products', query: { q: 'tea' } } },
        ],
        connections: 4,
        duration: '2s',
      },
      base,
    )
    expect(spec.requests).toEqual([
      {
        name: 'create',
        method: 'POST',
        path: '/orders',
        headers: { 'x-run': 'a', 'content-type': 'application/json' },
        body: '{"sku":"tea"}',
        weight: 3,
        expectStatus: [201],
      },
      { name: 'GET /products', method: 'GET', path: '/products?q=tea', headers: { 'x-run': 'a' }, weight: 1 },
    ])
    expect(spec).toMatchObject({
      model: { kind: 'connections', connections: 4 },
      durationMs: 2000,
      warmupMs: 400,
    })
    // No thresholds and no regression: the default regression rule applies.
    expect(spec.regression).toEqual({
      ratios: { 'p(95)': 1.5 },
      rounds: 8,
      minDeltaMs: 1,
      sequential: true,
      explicit: false,
    })
  })

  it('has no regression rule when thresholds are declared and regression is not', () => {
    const spec = resolveLoadSpec({ request: 'GET /', thresholds: { http_req_failed: ['rate<0.01'] } }, base)
    expect(spec.regression).toBeUndefined()
    expect(spec.thresholds).toHaveLength(1)
  })

  it('maps regression statistics to k6 names', () => {
    const spec = resolveLoadSpec(
      { request: 'GET /', regression: { p50: 2, p99: 3, rounds: 6, minDeltaMs: 0.5, sequential: false } },
      base,
    )
    expect(spec.regression).toEqual({
      ratios: { med: 2, 'p(99)': 3 },
      // Raised to the 7 rounds a failure needs with α split between two statistics.
      rounds: 7,
      minDeltaMs: 0.5,
      sequential: false,
      explicit: true,
    })
    expect(spec.trendStats).toContain('p(99)')
  })

  it('reads rates per second and per minute', () => {
    expect(parseRate('200/s')).toBe(200)
    expect(parseRate('120/m')).toBe(2)
    expect(resolveLoadSpec({ request: 'GET /', rate: '50/s' }, base).model).toEqual({
      kind: 'rate',
      perSecond: 50,
      maxConnections: 10,
    })
  })

  it.each([
    [
      { request: 'GET http://example.com/x' },
      /http:\/\/example.com is not the sandbox service http:\/\/127.0.0.1:4000/,
    ],
    [{ request: 'GET //example.com/x' }, /must not start with \/\//],
    [{ request: 'GET /', requests: [{ request: 'GET /' }] }, /either `request` or `requests`/],
    [{}, /nothing to send/],
    [{ requests: [{ request: 'GET /a' }, { request: 'GET /a' }] }, /two requests are named "GET \/a"/],
    [{ request: 'GET /', duration: '50ms' }, /too short/],
    [{ request: 'GET /', regression: { p42x: 2 } }, /unknown statistic "p42x"/],
  ])('refuses %j', (params, message) => {
    expect(() => resolveLoadSpec(params as never, base)).toThrow(message)
  })

  it('accepts an absolute URL on the service itself and keeps only its path', () => {
    expect(resolveLoadSpec({ request: 'GET http://127.0.0.1:4000/a?b=1' }, base).requests[0]!.path).toBe(
      '/a?b=1',
    )
  })
})

describe('weightedSequence', () => {
  it('spreads weights evenly and deterministically', () => {
    const seq = weightedSequence([{ weight: 3 }, { weight: 1 }] as never)
    expect(seq).toEqual([0, 0, 1, 0])
    expect(weightedSequence([{ weight: 2 }, { weight: 2 }, { weight: 1 }] as never)).toEqual([0, 1, 2, 0, 1])
  })
})

describe('planRounds', () => {
  it('splits the duration into rounds, keeping whole seconds when the engine needs them', () => {
    expect(planRounds(2000, 4, 250)).toEqual({ rounds: 4, roundMs: 500 })
    expect(planRounds(3000, 4, 1000)).toEqual({ rounds: 3, roundMs: 1000 })
    expect(planRounds(500, 4, 250)).toEqual({ rounds: 2, roundMs: 250 })
  })

  it("gives the built-in engine's closed model rounds down to 100 ms, and a paced rate whole seconds", () => {
    const closed = resolveLoadSpec({ request: 'GET /a', connections: 4, duration: '2s' }, base)
    const paced = resolveLoadSpec({ request: 'GET /a', rate: '50/s', duration: '4s' }, base)
    const floor = (spec: typeof closed) => loadEngines.builtin(spec).minRoundMs
    // The shop's load plan: 2 s per side in 16 rounds.
    expect(planRounds(2000, 16, floor(closed))).toEqual({ rounds: 16, roundMs: 125 })
    // More rounds than 100 ms ones fit: fewer, longer ones.
    expect(planRounds(2000, 40, floor(closed))).toEqual({ rounds: 20, roundMs: 100 })
    expect(planRounds(4000, 16, floor(paced))).toEqual({ rounds: 4, roundMs: 1000 })
  })
})
