/**
 * The adversarial run's phases against a loopback widget API: the newOnly replay keeps to its share of the
 * check's time and keeps partial findings when it runs out; a reset hook (a request or a command) brings a
 * service that a case poisoned back between phases, with setup run again after it.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { ReportDescriptor } from '../../../../engine/api/kind.js'
import { createCheckContext } from '../../../support/check-context.js'
import { runCheck } from '../../../../engine/executors/local/check-runner.js'
import { checkKinds } from '../../../../engine/kinds/index.js'
import { Redactor } from '../../../../engine/http/redact.js'
import type { Finding } from '../../../../engine/verdict.js'
import { startToyApi, TOKENS, toyParams, type ToyApi, type ToyFaults } from './toy-api.js'

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
  params: Record<string, unknown>,
  options: { baseline?: ToyApi; timeoutMs?: number } = {},
) {
  const t = createCheckContext({
    kind: 'adversarial',
    params,
    plan: { dir: candidate.dir },
    candidate: { services: { api: candidate.url } },
    ...(options.baseline ? { baseline: { services: { api: options.baseline.url } } } : {}),
    secrets: { owner: { value: TOKENS.owner }, other: { value: TOKENS.other } },
    seed: 7,
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
  })
  try {
    await t.run()
  } finally {
    await t.close()
  }
  return { findings: t.findings }
}

const errors = (findings: ReportDescriptor[]) => findings.filter((f) => (f.severity ?? 'error') === 'error')
const byId = (findings: ReportDescriptor[], id: string) => findings.filter((f) => f.messageId === id)

/** The check through the executor's check runner, at its real timeout; its result and how long it took. */
async function runAtTimeout(candidate: ToyApi, baseline: ToyApi, timeoutMs: number) {
  const t = createCheckContext({
    kind: 'adversarial',
    params: toyParams({ newOnly: true, cases: 200 }),
    plan: { dir: candidate.dir },
    candidate: { services: { api: candidate.url } },
    baseline: { services: { api: baseline.url } },
    secrets: { owner: { value: TOKENS.owner }, other: { value: TOKENS.other } },
    seed: 7,
  })
  const started = performance.now()
  try {
    const result = await runCheck({
      plan: t.ctx.plan,
      check: t.ctx.check,
      kind: checkKinds.adversarial,
      sandboxes: t.ctx.sandboxes,
      clients: t.ctx.clients as Record<string, unknown>,
      redactor: new Redactor({ secrets: [TOKENS.owner, TOKENS.other] }),
      vars: t.ctx.vars,
      seed: 7,
      timeoutMs,
      signal: new AbortController().signal,
    })
    return { result, ms: performance.now() - started }
  } finally {
    await t.close()
  }
}

/** The replay-cut-short warning of a result that must have failed (not errored), and its error findings. */
function cutShort(result: Awaited<ReturnType<typeof runAtTimeout>>['result']) {
  expect(result.state === 'errored' ? result.error : result.state).toBe('failed')
  const findings: Finding[] = result.state === 'failed' ? result.findings : []
  const cut = findings.find((f) => f.messageId === 'replay-cut-short')
  expect(cut).toMatchObject({ severity: 'warning', partial: true })
  return {
    cut: cut!,
    details: cut!.evidence?.details as Record<string, number>,
    errors: findings.filter((f) => f.severity === 'error'),
  }
}

describe('adversarial newOnly replay deadline', { timeout: 60_000 }, () => {
  // Loaded once before the timed runs: on a busy machine loading the runtime can take most of a 6 s check.
  beforeAll(async () => {
    await import('../../../../engine/kinds/adversarial/run.js')
  }, 120_000)

  it('through the executor, at its real timeout: a baseline slow on every case gives a partial result, in time', async () => {
    // Its missing authorization fails the probes, which follow the cases however few of them were sent.
    const candidate = await api({ crashOnNegative: true, noAuth: true, anyOwner: true })
    // Setup and health answer at once; every replayed request takes 600 ms, so the replay cannot finish. The
    // baseline has no hole: the candidate's failures are new where it answered, partial where it did not.
    const baseline = await api({ slowCasesMs: 600 })
    const { result, ms } = await runAtTimeout(candidate, baseline, 6000)
    const { cut, details, errors } = cutShort(result)
    expect(ms).toBeLessThan(6000 + 1000)
    // What was replayed, what was not, and why.
    expect(details.requestsReplayed).toBeGreaterThan(0)
    expect(details.requestsReplayed).toBeLessThan(details.requestsRun!)
    expect(cut.message).toMatch(
      /^The baseline replay \(newOnly\) was cut short: \d+ of \d+ requests replayed, because its share of the check's time ran out/,
    )
    // The candidate's failures the baseline never answered count, marked partial.
    const partial = errors.filter((f) => f.partial)
    expect(partial.length).toBeGreaterThan(0)
    for (const f of partial) expect(f.evidence?.details).toMatchObject({ replayed: false })
  })

  it("through the executor: a baseline whose setup never answers is cut at the requests' end, not the check", async () => {
    const candidate = await api({ crashOnNegative: true })
    const baseline = await api({ hangSetup: true })
    const { result, ms } = await runAtTimeout(candidate, baseline, 6000)
    const { cut, details, errors } = cutShort(result)
    expect(ms).toBeLessThan(6000 + 1000)
    expect(details.requestsReplayed).toBe(0)
    expect(cut.message).toContain(
      "because its share of the check's time ran out during setup on the baseline",
    )
    expect(errors.length).toBeGreaterThan(0)
    for (const f of errors) expect(f.partial).toBe(true)
  })

  it('time the check spent before the run (loading its runtime) counts against its shares', async () => {
    const { runAdversarial } = await import('../../../../engine/kinds/adversarial/run.js')
    const candidate = await api({ crashOnNegative: true })
    const baseline = await api({ crashOnNegative: true })
    const timeoutMs = 10_000
    const t = createCheckContext({
      kind: 'adversarial',
      params: toyParams({ newOnly: true, cases: 200 }),
      plan: { dir: candidate.dir },
      candidate: { services: { api: candidate.url } },
      baseline: { services: { api: baseline.url } },
      secrets: { owner: { value: TOKENS.owner }, other: { value: TOKENS.other } },
      seed: 7,
      timeoutMs,
    })
    // The check's time began before the run got control, past the generated cases' share (60%).
    try {
      await runAdversarial(t.ctx, Date.now() - 0.65 * timeoutMs)
    } finally {
      await t.close()
    }
    expect(byId(t.findings, 'summary')[0]!.data).toMatchObject({ cases: 0, planned: 200 })
    expect(baseline.requests.length).toBeGreaterThan(0)
  })

  it('a slow baseline: the replay stops at its share, the check ends in time with partial findings', async () => {
    const candidate = await api({ crashOnNegative: true })
    const baseline = await api({ crashOnNegative: true, delayMs: 150 })
    const timeoutMs = 4000
    const { findings } = await run(candidate, toyParams({ newOnly: true, cases: 200 }), {
      baseline,
      timeoutMs,
    })
    const [cut] = byId(findings, 'replay-cut-short')
    expect(cut).toMatchObject({ severity: 'warning', partial: true })
    const details = cut!.evidence?.details as Record<string, number>
    expect(details.requestsReplayed).toBeGreaterThan(0)
    expect(details.requestsReplayed).toBeLessThan(details.requestsRun!)
    expect(details.casesRun).toBe(200)
    // The failures the replay never reached count, marked partial; the check fails on them.
    const partial = errors(findings).filter((f) => f.partial)
    expect(partial.length).toBeGreaterThan(0)
    expect(details.unreplayedFailures).toBeGreaterThanOrEqual(partial.length)
    for (const f of partial) expect(f.evidence?.details).toMatchObject({ replayed: false })
    expect(byId(findings, 'summary')[0]!.data?.replay).toMatch(
      /^; replayed \d+ of \d+ requests on the baseline$/,
    )
  })

  it('a baseline in time: no partial finding, shared failures dropped as before', async () => {
    const candidate = await api({ crashOnNegative: true })
    const baseline = await api({ crashOnNegative: true })
    const { findings } = await run(candidate, toyParams({ newOnly: true, cases: 60 }), {
      baseline,
      timeoutMs: 30_000,
    })
    expect(byId(findings, 'replay-cut-short')).toEqual([])
    expect(findings.filter((f) => f.partial)).toEqual([])
    expect(errors(findings)).toEqual([])
    expect(Number(byId(findings, 'legacy')[0]?.data?.count)).toBeGreaterThan(0)
  })
})

describe('adversarial reset hook', { timeout: 60_000 }, () => {
  /** A suggested case that is valid: a poisoned store answers it with 500. */
  const validCreate = {
    name: 'plain create',
    operation: 'createWidget',
    request: { method: 'POST', path: '/widgets', json: { name: 'ok', count: 3 } },
    expect: { status: 201 },
  }
  const params = (extra: Record<string, unknown> = {}) =>
    toyParams({
      cases: 200,
      suggested: [validCreate],
      oracles: ['no-server-error', 'authz', 'healthy'],
      ...extra,
    })

  it('without it, one deeply nested case poisons every later write: the suggested case fails too', async () => {
    const target = await api({ poisonOnDeepNesting: true })
    const { findings } = await run(target, params())
    const suggested = errors(findings).filter((f) => String(f.data?.what).startsWith('suggested case'))
    // Grouped by (oracle, kind): the suggested case's 500 is not folded into a generated case's.
    expect(suggested.map((f) => [f.messageId, f.actual])).toEqual([
      ['no-server-error', 500],
      ['suggested', 500],
    ])
    expect(byId(findings, 'healthy')[0]?.data?.after).toBe('the cases')
  })

  it('a reset request between phases: the later phases see a clean service, setup runs again', async () => {
    const target = await api({ poisonOnDeepNesting: true })
    const { findings } = await run(target, params({ reset: { request: 'POST /__reset' } }))
    // The poisoning itself is still found, and placed: the health check runs before each reset.
    expect(byId(findings, 'healthy').map((f) => f.data?.after)).toEqual(['the generated cases'])
    // The valid suggested case and the probes ran on a clean store.
    expect(errors(findings).filter((f) => String(f.data?.what).startsWith('suggested case'))).toEqual([])
    expect(errors(findings).filter((f) => f.messageId === 'authz')).toEqual([])
    // Phases: cases, probes, suggested — a reset after each; setup (a create) after the first two.
    expect(target.resets()).toBe(3)
    const setups = target.requests.filter(
      (r) => r.method === 'POST' && r.body.toString() === '{"name":"mine","count":1}',
    )
    expect(setups).toHaveLength(3)
  })

  it('a reset command gets the side, and its URL', async () => {
    const target = await api({ poisonOnDeepNesting: true })
    const script = `if (process.env.VIGIL_SIDE !== 'candidate') process.exit(9); fetch(process.env.BASE_URL + '/__reset', { method: 'POST' }).then((r) => process.exit(r.ok ? 0 : 1))`
    const { findings } = await run(target, params({ reset: { run: [process.execPath, '-e', script] } }))
    expect(byId(findings, 'reset-failed')).toEqual([])
    expect(target.resets()).toBe(3)
    expect(errors(findings).filter((f) => String(f.data?.what).startsWith('suggested case'))).toEqual([])
  })

  it('a reset that fails stops the side, with a warning naming the phases not run', async () => {
    const target = await api({ poisonOnDeepNesting: true })
    const { findings } = await run(
      target,
      params({ reset: { request: 'POST /__reset', expect: { status: 200 } } }),
    )
    const [failed] = byId(findings, 'reset-failed')
    expect(failed).toMatchObject({ severity: 'warning' })
    expect(failed!.data).toMatchObject({
      sandbox: 'candidate',
      after: 'the generated cases',
      reason: 'POST /__reset got 204',
      skipped: '; not run: the authorization probes, the suggested cases',
    })
    expect(target.resets()).toBe(1)
  })
})
