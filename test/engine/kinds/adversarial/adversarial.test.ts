/**
 * The adversarial kind against a loopback widget API: a correct service passes; each fault fails with
 * the oracle that describes it, a curl line and the seed; findings are deduplicated; two runs with one
 * seed send byte-identical requests; newOnly drops failures the baseline shares.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { ReportDescriptor } from '../../../../engine/api/kind.js'
import { createCheckContext } from '../../../support/check-context.js'
import { startToyApi, TOKENS, toyParams, type ToyApi, type ToyFaults } from './toy-api.js'
import type { HttpClient } from '../../../../engine/http/client.js'
import type { HttpEvidence } from '../../../../engine/verdict.js'

const open: ToyApi[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((api) => api.close()))
})

async function api(faults: ToyFaults = {}): Promise<ToyApi> {
  const started = await startToyApi(faults)
  open.push(started)
  return started
}

async function run(
  candidate: ToyApi,
  params: Record<string, unknown> = toyParams(),
  options: { seed?: number; baseline?: ToyApi } = {},
) {
  const t = createCheckContext({
    kind: 'adversarial',
    params,
    plan: { dir: candidate.dir },
    candidate: { services: { api: candidate.url } },
    ...(options.baseline ? { baseline: { services: { api: options.baseline.url } } } : {}),
    secrets: { owner: { value: TOKENS.owner }, other: { value: TOKENS.other } },
    seed: options.seed ?? 7,
  })
  try {
    await t.run()
  } finally {
    await t.close()
  }
  return t.findings
}

const errors = (findings: ReportDescriptor[]) => findings.filter((f) => (f.severity ?? 'error') === 'error')
const ids = (findings: ReportDescriptor[]) =>
  errors(findings).map((f) => [f.messageId, f.data?.operation, f.actual])

describe('adversarial check kind', { timeout: 60_000 }, () => {
  it('passes a service that rejects everything it should', async () => {
    const findings = await run(await api())
    expect(errors(findings)).toEqual([])
    const summary = findings.find((f) => f.messageId === 'summary')
    expect(summary?.severity).toBe('info')
    expect(summary?.data).toMatchObject({ cases: 120, planned: 120, targets: 3, seed: 7 })
    // 2 operations need credentials: none + 3 malformed each, and the foreign probe on getWidget.
    expect(summary?.data?.probes).toBe(9)
  })

  it('fails an accepted zero count with rejects-invalid, a curl line, the seed and the case index', async () => {
    const findings = await run(await api({ acceptZero: true }))
    expect(ids(findings)).toEqual([['rejects-invalid', 'createWidget', 201]])
    const [finding] = errors(findings)
    expect(finding!.pointer).toBe('/count')
    expect(finding!.data?.what).toMatch(/^case \d+ \(boundary: \/count = 0 \(below minimum 1\)\)/)
    expect(finding!.evidence?.reproduce).toMatch(
      /^curl -sS -i -X POST http:\/\/127\.0\.0\.1:\d+\/widgets .*--data-binary '\{"name":"gear","count":0\}'$/,
    )
    expect(finding!.evidence?.reproduce).toContain("'authorization: Bearer [REDACTED]'")
    expect(finding!.evidence?.details).toMatchObject({ seed: 7, kind: 'boundary', invalid: true })
    expect(typeof finding!.evidence?.details?.case).toBe('number')
    expect((finding!.evidence as HttpEvidence | undefined)?.response?.status).toBe(201)
  })

  it('reports a crash as no-server-error and its stack trace as no-leak, once per (operation, oracle, status)', async () => {
    const findings = await run(await api({ crashOnNegative: true }))
    const found = ids(findings)
    expect(found).toContainEqual(['no-server-error', 'createWidget', 500])
    expect(found).toContainEqual(['rejects-invalid', 'createWidget', 500])
    expect(found).toContainEqual(['no-leak', 'createWidget', 500])
    expect(new Set(found.map((f) => JSON.stringify(f))).size).toBe(found.length)
    const leak = errors(findings).find((f) => f.messageId === 'no-leak')!
    expect(leak.data?.leak).toBe('a stack trace')
    expect(leak.evidence?.excerpt?.text).toContain('at create')
  })

  it('groups one hole answering 500 and 502 into one finding per (operation, oracle, mutation kind)', async () => {
    const below = (name: string, count: number) => ({
      name,
      operation: 'createWidget',
      request: { method: 'POST', path: '/widgets', json: { name: 'a', count } },
      expect: { status: '4XX' },
    })
    const params = toyParams({
      cases: 0,
      concurrency: 1,
      oracles: ['no-server-error'],
      suggested: [below('zero', 0), below('negative', -1)],
    })
    const found = errors(await run(await api({ flakyBelowOne: true }), params))
    const server = found.filter((f) => f.messageId === 'no-server-error')
    expect(server).toHaveLength(1)
    expect(server[0]!.evidence?.details).toMatchObject({
      statuses: [500, 502],
      cases: [
        { what: 'suggested case "zero"', status: 500 },
        { what: 'suggested case "negative"', status: 502 },
      ],
    })
    expect(errors(await run(await api(), params))).toEqual([])
  })

  it('finds a missing owner check with the foreign-credentials probe, and missing authentication', async () => {
    const findings = await run(await api({ anyOwner: true, noAuth: true }))
    const authz = errors(findings).filter((f) => f.messageId === 'authz')
    // One finding per probe label: no credentials and each of the three malformed ones.
    expect(authz.map((f) => [f.data?.operation, f.data?.what, f.actual])).toEqual([
      ['createWidget', 'probe: no credentials', 201],
      ...Array.from({ length: 3 }, () => [
        'createWidget',
        expect.stringMatching(/^probe: malformed credentials \(/),
        201,
      ]),
      ['getWidget', "probe: another principal's credentials on the owner's resource", 200],
    ])
    expect(authz[4]!.expected).toBe('401 or 403 or 404')
  })

  it('sends byte-identical requests in two runs with the same seed, and others with another seed', async () => {
    const target = await api()
    const params = toyParams({ setup: undefined, params: { id: 'w1' }, concurrency: 1, cases: 80 })
    const snapshot = () =>
      target.requests
        .splice(0)
        .map((r) => [r.method, r.url, ...r.headers, r.body.toString('base64')].join('\n'))
    await run(target, params, { seed: 42 })
    const first = snapshot()
    await run(target, params, { seed: 42 })
    const second = snapshot()
    expect(first.length).toBeGreaterThan(80)
    expect(second).toEqual(first)
    await run(target, params, { seed: 43 })
    expect(snapshot()).not.toEqual(first)
  })

  it('with newOnly, counts only the failures the baseline does not have', async () => {
    const baseline = await api({ acceptZero: true })
    const candidate = await api({ acceptZero: true, crashOnNegative: true })
    const findings = await run(candidate, toyParams({ newOnly: true }), { baseline })
    const found = ids(findings)
    expect(found).toContainEqual(['no-server-error', 'createWidget', 500])
    expect(found.some(([oracle, , status]) => oracle === 'rejects-invalid' && status === 201)).toBe(false)
    expect(findings.find((f) => f.messageId === 'legacy')?.data?.oracles).toContain('rejects-invalid')
  })

  it('runs suggested cases verbatim and checks their expected status', async () => {
    const params = toyParams({
      cases: 0,
      suggested: [
        {
          name: 'zero count',
          operation: 'createWidget',
          request: { method: 'POST', path: '/widgets', json: { name: 'a', count: 0 } },
          expect: { status: '4XX' },
        },
        {
          name: 'foreign read',
          operation: 'getWidget',
          request: { method: 'GET', path: '/widgets/{{widgetId}}' },
          auth: 'other',
          expect: { status: 404 },
        },
      ],
    })
    expect(errors(await run(await api(), params))).toEqual([])
    const failed = errors(await run(await api({ acceptZero: true, anyOwner: true }), params))
    const suggested = failed.filter((f) => f.messageId === 'suggested')
    expect(suggested.map((f) => [f.messageId, f.data?.what, f.actual])).toEqual([
      ['suggested', 'suggested case "zero count"', 201],
      ['suggested', 'suggested case "foreign read"', 200],
    ])
  })

  it('stops at the time budget and says so', async () => {
    const findings = await run(await api(), toyParams({ cases: 5000, timeBudget: 1 }))
    const summary = findings.find((f) => f.messageId === 'summary')!
    expect(summary.data?.cases as number).toBeLessThan(5000)
    expect(summary.data?.budget).toMatch(/time budget stopped it/)
  })

  it('reports a service that dies during the run as unhealthy', async () => {
    const target = await api()
    const params = toyParams({ cases: 3, suggested: [], health: 'GET /health' })
    const t = createCheckContext({
      kind: 'adversarial',
      params: { ...params, setup: undefined, params: { id: 'w1' } },
      plan: { dir: target.dir },
      candidate: { services: { api: target.url } },
      secrets: { owner: { value: TOKENS.owner }, other: { value: TOKENS.other } },
    })
    // The health request is the first and the last one sent: kill the server after the first.
    const http = t.ctx.clients.http as HttpClient
    const original = http.request.bind(http)
    let healthCalls = 0
    http.request = async (spec) => {
      if (spec.url.endsWith('/health') && ++healthCalls === 2) await target.close().catch(() => undefined)
      return original(spec)
    }
    await t.run()
    await t.close()
    expect(t.findings.find((f) => f.messageId === 'healthy')?.data?.status).toMatch(/^no response/)
  })
})
