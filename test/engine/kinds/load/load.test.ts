import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ReportDescriptor } from '../../../../engine/api/kind.js'
import type { LoadParams } from '../../../../engine/kinds/load/spec.js'
import { createCheckContext } from '../../../support/check-context.js'
import { findForms } from '../../../support/secrets.js'
import { startServer, type SlowServer } from './server.js'

let fast: SlowServer
let fastTwin: SlowServer
let slow: SlowServer

beforeAll(async () => {
  ;[fast, fastTwin, slow] = await Promise.all([startServer(0), startServer(0), startServer(30)])
})
afterAll(async () => {
  await Promise.all([fast.close(), fastTwin.close(), slow.close()])
})

async function runLoad(
  params: LoadParams,
  candidate: string,
  baseline?: string,
  timeoutMs = 30_000,
  secrets: Record<string, { value: string }> = { alice: { value: 'alice-secret-token' } },
) {
  const t = createCheckContext<LoadParams>({
    kind: 'load',
    params: { engine: 'builtin', warmup: '100ms', ...params },
    candidate: { services: { api: candidate } },
    ...(baseline ? { baseline: { services: { api: baseline } } } : {}),
    secrets,
    timeoutMs,
  })
  try {
    await t.run()
    return { findings: t.findings, progress: t.progress }
  } finally {
    await t.close()
  }
}

const errors = (findings: ReportDescriptor[]) => findings.filter((f) => (f.severity ?? 'error') === 'error')

describe('load check (built-in engine, real loopback servers)', () => {
  it('fails a candidate slower than the baseline with the regression evidence', async () => {
    const { findings, progress } = await runLoad(
      { request: 'GET /products/tea', connections: 2, duration: '2s', regression: { p95: 1.5, rounds: 4 } },
      slow.url,
      fast.url,
    )
    const [regression, ...others] = errors(findings)
    expect(others).toEqual([])
    expect(regression).toMatchObject({ messageId: 'regression', data: { stat: 'p(95)', allowed: 1.5 } })
    // rounds: 4 is raised to the 5 a failure needs at least; a clear regression stops there, or a few rounds
    // later when a busy machine brings a round near the limit.
    expect(regression!.data!.rounds).toBeGreaterThanOrEqual(5)
    expect(regression!.data!.rounds).toBeLessThanOrEqual(10)
    const details = regression!.evidence!.details as Record<string, number>
    expect(details.candidateMs).toBeGreaterThan(details.baselineMs! * 1.5)
    expect(details.ratio).toBeGreaterThan(1.5)
    expect(regression!.evidence?.reproduce).toBe(`curl -sS -i ${slow.url}/products/tea`)
    // Each round's order is a coin fixed by the check's seed (1): B A, B A, A B, …
    expect(progress.filter((p) => p.startsWith('round')).slice(0, 6)).toEqual([
      'round 1/5 baseline 400ms',
      'round 1/5 candidate 400ms',
      'round 2/5 baseline 400ms',
      'round 2/5 candidate 400ms',
      'round 3/5 candidate 400ms',
      'round 3/5 baseline 400ms',
    ])
    expect(findings.filter((f) => f.messageId === 'measured').map((f) => f.data?.side)).toEqual([
      'baseline',
      'candidate',
    ])
  })

  it('passes two equal services, whatever jitter the machine adds below minDeltaMs', async () => {
    const { findings } = await runLoad(
      {
        request: 'GET /x',
        connections: 2,
        duration: '1s',
        regression: { p95: 1.5, minDeltaMs: 5, rounds: 4 },
      },
      fastTwin.url,
      fast.url,
    )
    expect(errors(findings)).toEqual([])
  })

  it('evaluates thresholds on the candidate, per request name, and redacts secrets in reproduce', async () => {
    const { findings } = await runLoad(
      {
        requests: [
          {
            name: 'ok',
            weight: 2,
            request: 'GET /fine',
            headers: { authorization: 'Bearer {{secrets.alice}}' },
          },
          { name: 'broken', request: 'GET /fail' },
        ],
        connections: 2,
        duration: '500ms',
        thresholds: {
          http_req_failed: ['rate<0.01'],
          'http_req_failed{name:ok}': ['rate<0.01'],
          'http_req_duration{name:missing}': ['p(95)<100'],
        },
      },
      slow.url,
    )
    const failed = errors(findings)
    expect(failed.map((f) => [f.messageId, f.data?.metric])).toEqual([
      ['threshold-unmeasured', 'http_req_duration{name:missing}'],
      ['threshold', 'http_req_failed'],
    ])
    expect(failed[1]!.actual).toBeCloseTo(1 / 3, 1)
    expect(failed[1]!.evidence?.reproduce).toBe(
      `curl -sS -i ${slow.url}/fine -H 'authorization: Bearer [REDACTED]'`,
    )
    expect(JSON.stringify(findings)).not.toContain('alice-secret-token')
  })

  it('redacts a secret the load spec percent-encodes into a query object and a path, in the reproduce line and the request name', async () => {
    const secret = 'sp3c!al+tok/en=Q&x?y'
    const { findings } = await runLoad(
      {
        request: { method: 'GET', path: '/items/{{secrets.token}}', query: { key: '{{secrets.token}}' } },
        connections: 1,
        duration: '200ms',
        thresholds: { http_req_duration: ['p(95)<0'] },
      },
      fast.url,
      undefined,
      30_000,
      { token: { value: secret } },
    )
    const [threshold] = errors(findings)
    // (The `?` of the secret in the path starts the query: the URL gets `y=`, as the service does.)
    expect(threshold!.evidence?.reproduce).toBe(`curl -sS -i '${fast.url}/items/[REDACTED]=&key=[REDACTED]'`)
    expect(findForms(JSON.stringify(findings), { secret })).toEqual([])
  })

  it('stops early when an abortOnFail threshold fails', async () => {
    const started = performance.now()
    const { findings } = await runLoad(
      {
        request: 'GET /fail',
        connections: 1,
        duration: '8s',
        warmup: '0ms',
        thresholds: { http_req_failed: [{ threshold: 'rate<0.5', abortOnFail: true }] },
      },
      fast.url,
    )
    expect(performance.now() - started).toBeLessThan(6000)
    expect(findings.find((f) => f.messageId === 'stopped')?.data?.reason).toBe(
      'threshold http_req_failed rate<0.5 failed (abortOnFail)',
    )
    expect(errors(findings).map((f) => f.messageId)).toEqual(['threshold'])
  })

  it('is skipped without a baseline when it has nothing else to assert', async () => {
    await expect(runLoad({ request: 'GET /' }, fast.url)).rejects.toMatchObject({
      code: 'VIGIL_CHECK_SKIPPED',
      message: expect.stringMatching(/no baseline in this run and no thresholds/),
    })
  })

  it.each([
    [{ request: 'GET http://example.com/' }, /not the sandbox service/],
    [{ request: 'GET /', duration: '20s' }, /too close to the check's 10000ms timeout/],
    [
      { request: 'GET /', duration: '1s', engine: 'k6' as const, k6: { path: './no-such-k6' } },
      /k6 not found at .\/no-such-k6.*install k6/,
    ],
  ])('refuses %j before sending anything', async (params, message) => {
    const before = fast.hits.get('/') ?? 0
    await expect(
      runLoad({ ...params, thresholds: { http_reqs: ['count>0'] } }, fast.url, undefined, 10_000),
    ).rejects.toThrow(message)
    expect(fast.hits.get('/') ?? 0).toBe(before)
  })
})

describe('load warm-up beside the other checks', () => {
  /**
   * The check against two fast servers, with an engine that offers to run its warm-up beside the other checks
   * (`offer`: whether it lets it). Returns what happened in order and how many requests had reached `path`
   * when the measurement began.
   */
  async function warmUp(request: LoadParams['request'], path: string, offer: boolean) {
    const t = createCheckContext<LoadParams>({
      kind: 'load',
      params: {
        engine: 'builtin',
        request,
        warmup: '200ms',
        connections: 2,
        duration: '1s',
        regression: { p95: 1.5, minDeltaMs: 5, rounds: 4 },
      },
      candidate: { services: { api: fast.url } },
      baseline: { services: { api: fastTwin.url } },
    })
    const order: string[] = []
    const hits = () => (fast.hits.get(path) ?? 0) + (fastTwin.hits.get(path) ?? 0)
    let hitsAtMeasure = -1
    t.ctx.warmUp = async (claim, fn) => {
      order.push(`offered ${claim.resources.join(' ')}`)
      if (!offer) return false
      await fn()
      order.push('warmed beside')
      return true
    }
    t.ctx.measure = async (_claim, fn) => {
      hitsAtMeasure = hits()
      order.push('measure')
      return fn()
    }
    try {
      await t.run()
    } finally {
      await t.close()
    }
    const measured = t.findings.find((f) => f.messageId === 'measured')
    const details = measured?.evidence?.details as { warmUp?: unknown } | undefined
    const waiting = t.progress.indexOf('waiting for a quiet machine to measure on')
    return {
      order,
      hitsAtMeasure,
      warmUp: details?.warmUp,
      before: t.progress.slice(0, waiting).filter((p) => p.startsWith('warm-up')),
      after: t.progress.slice(waiting).filter((p) => p.startsWith('warm-up')),
      errors: errors(t.findings),
    }
  }

  it('warms up a read-only load beside them, and measures its rounds at once', async () => {
    const r = await warmUp('GET /warm-read', '/warm-read', true)
    expect(r.order).toEqual(['offered service:api load-generator:main-thread', 'warmed beside', 'measure'])
    expect(r.hitsAtMeasure).toBeGreaterThan(0)
    expect(r.before).toEqual(['warm-up baseline and candidate 200ms beside the other checks'])
    expect(r.after).toEqual([])
    expect(r.warmUp).toEqual({ ms: 200, besideOtherChecks: true })
    expect(r.errors).toEqual([])
  })

  it('warms up a load that writes inside its measurement, right before the rounds', async () => {
    const r = await warmUp({ method: 'POST', path: '/warm-write', json: {} }, '/warm-write', true)
    expect(r.order).toEqual(['measure'])
    expect(r.hitsAtMeasure).toBe(0)
    expect(r.before).toEqual([])
    expect(r.after).toEqual(['warm-up baseline and candidate 200ms'])
    expect(r.warmUp).toEqual({ ms: 200, besideOtherChecks: false })
  })

  it('warms up inside the measurement when the engine declines', async () => {
    const r = await warmUp('GET /warm-declined', '/warm-declined', false)
    expect(r.order).toEqual(['offered service:api load-generator:main-thread', 'measure'])
    expect(r.hitsAtMeasure).toBe(0)
    expect(r.after).toEqual(['warm-up baseline and candidate 200ms'])
    expect(r.warmUp).toEqual({ ms: 200, besideOtherChecks: false })
  })
})
