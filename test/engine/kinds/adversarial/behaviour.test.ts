/**
 * Write-then-read-back, the behavioural probes and crash attribution, each against the bed with its hole
 * and against its twin without: the finding names what it saw (the fields that stuck, the marker read back,
 * the two slow answers, the attempts, the differing answers, the killing case); the twin gets none.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { ReportDescriptor } from '../../../../engine/api/kind.js'
import { toFinding } from '../../../../engine/executors/local/check-runner.js'
import { Redactor } from '../../../../engine/http/redact.js'
import { checkKinds } from '../../../../engine/kinds/index.js'
import { createCheckContext } from '../../../support/check-context.js'
import { bedParams, startBedApi, type BedApi } from './bed-api.js'

const open: BedApi[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((api) => api.close()))
})

/**
 * The check on the bed (or its twin), with `act` (default: run it) and, for newOnly, a baseline: the bed
 * itself or its twin. Returns what it reported.
 */
async function onBed(
  safe: boolean,
  params: Record<string, unknown>,
  options: { baselineSafe?: boolean; act?: (ctx: TestContext['ctx']) => Promise<void> } = {},
): Promise<ReportDescriptor[]> {
  const api = await startBedApi({ safe })
  open.push(api)
  const baseline =
    options.baselineSafe === undefined ? undefined : await startBedApi({ safe: options.baselineSafe })
  if (baseline) open.push(baseline)
  const t = createCheckContext({
    kind: 'adversarial',
    params: bedParams(params),
    plan: { dir: api.dir },
    candidate: { services: api.services },
    ...(baseline ? { baseline: { services: baseline.services } } : {}),
    seed: 7,
  })
  try {
    await (options.act ? options.act(t.ctx) : t.run())
  } finally {
    await t.close()
  }
  return t.findings
}
type TestContext = ReturnType<typeof createCheckContext<Record<string, unknown>>>

const run = (safe: boolean, extra: Record<string, unknown>) => onBed(safe, { cases: 20, ...extra })

const of = (findings: ReportDescriptor[], id: string) => findings.filter((f) => f.messageId === id)

/** A newOnly run of the vulnerable bed against a baseline: the bed itself, or its safe twin. */
const newOnly = (baselineSafe: boolean, extra: Record<string, unknown>) =>
  onBed(false, { cases: 0, newOnly: true, ...extra }, { baselineSafe })

/** `vigil reproduce` of a finding, as the kind's replay: what it reports on each side (the bed or its twin). */
const reproduce = (finding: ReportDescriptor, safe: boolean, extra: Record<string, unknown>) =>
  onBed(
    safe,
    { cases: 0, ...extra },
    {
      act: (ctx) =>
        checkKinds.adversarial.replay!(
          ctx,
          toFinding(checkKinds.adversarial, finding, new Redactor({ secrets: [] })),
        ),
    },
  )

describe('adversarial behaviour', { timeout: 120_000 }, () => {
  it('reads back a mass assignment and a foreign write that stuck; not on the twin', async () => {
    const params = {
      operations: ['getProfile', 'updateProfile', 'getNote', 'updateNote'],
      requests: undefined,
      oracles: ['read-back'],
    }
    const found = await run(false, params)
    const mass = of(found, 'mass-assignment')
    expect(mass.map((f) => f.data?.operation)).toEqual(['updateProfile'])
    expect(String(mass[0]!.data?.match)).toContain('role = "admin"')
    expect(mass[0]!.data?.leak).toBe('GET /profile')
    const foreign = of(found, 'foreign-write')
    expect(foreign.map((f) => [f.data?.operation, f.actual])).toEqual([['updateNote', 403]])
    const twin = await run(true, params)
    expect(twin.filter((f) => (f.severity ?? 'error') === 'error')).toEqual([])
  })

  it('times a catastrophic pattern twice before reporting it; the linear twin is quiet', async () => {
    const params = { operations: ['lookupHandle'], requests: undefined, oracles: ['timing'], cases: 0 }
    const found = of(await run(false, params), 'timing')
    expect(found).toHaveLength(1)
    expect(String(found[0]!.data?.match)).toMatch(/^\d+ ms and \d+ ms$/)
    expect(of(await run(true, params), 'timing')).toEqual([])
  })

  it('warns when twenty failed logins meet no limit, and tells a missing account apart, by status and by time', async () => {
    const params = {
      operations: ['login', 'requestPasswordReset'],
      requests: undefined,
      oracles: ['rate-limit', 'enumeration'],
      cases: 0,
    }
    const found = await run(false, params)
    const limit = of(found, 'rate-limit')
    expect(limit.map((f) => [f.data?.operation, f.severity])).toEqual([['login', 'warning']])
    expect(String(limit[0]!.data?.match)).toMatch(/^20 attempts answered 401/)
    expect(of(found, 'enumeration').map((f) => [f.data?.operation, f.data?.match])).toEqual([
      ['requestPasswordReset', 'the existing account got 202, the missing one 404'],
    ])
    // The login answers both with the same 401, but hashes only an existing account's password.
    const timed = of(found, 'enumeration-timing')
    expect(timed.map((f) => [f.data?.operation, f.severity])).toEqual([['login', 'warning']])
    expect(String(timed[0]!.data?.match)).toMatch(
      /^the same answer, but the existing account's took \d+–\d+ ms and the missing one's \d+–\d+ ms \(6 each\)$/,
    )
    const twin = await run(true, params)
    expect(twin.filter((f) => f.severity === 'warning' || (f.severity ?? 'error') === 'error')).toEqual([])
    // A limit configured away is not probed.
    expect(of(await run(false, { ...params, rateLimit: false }), 'rate-limit')).toEqual([])
  })

  it('names the case that killed a service and sends nothing more into it', async () => {
    const params = { openapi: undefined, operations: undefined, oracles: ['no-server-error'], cases: 60 }
    const found = await run(false, params)
    const crashed = of(found, 'crashed')
    expect(crashed).toHaveLength(1)
    expect(String(crashed[0]!.data?.what)).toContain("'")
    expect(Number(crashed[0]!.data?.leak)).toBeGreaterThan(0)
    // One no-response finding for the killing case and those cut off with it, not one per later case.
    const noResponse = of(found, 'no-server-error').filter((f) => f.actual === 'no response')
    expect(noResponse.length).toBeLessThanOrEqual(3)
    expect(of(await run(true, params), 'crashed')).toEqual([])
  })

  it('newOnly: a behavioural finding the baseline was probed for is new, not partial; shared, it is dropped', async () => {
    const params = {
      operations: ['getProfile', 'updateProfile', 'getNote', 'updateNote', 'requestPasswordReset'],
      requests: undefined,
      oracles: ['read-back', 'enumeration'],
    }
    const fresh = await newOnly(true, params)
    const found = ['mass-assignment', 'foreign-write', 'enumeration'].map((id) => of(fresh, id))
    for (const [f] of found) expect(f).toMatchObject({ severity: 'error' })
    for (const f of found.flat()) expect(f.partial).toBeUndefined()
    expect(of(fresh, 'replay-cut-short')).toEqual([])
    const shared = await newOnly(false, params)
    expect(shared.filter((f) => (f.severity ?? 'error') === 'error')).toEqual([])
    expect(String(of(shared, 'legacy')[0]?.data?.oracles)).toMatch(
      /enumeration.*foreign-write.*mass-assignment/,
    )
  })

  it('reproduce rebuilds behavioural and read-back probes from the finding; the twin does not show them', async () => {
    const params = {
      operations: ['getProfile', 'updateProfile', 'getNote', 'updateNote', 'lookupHandle'],
      requests: undefined,
      oracles: ['read-back', 'timing'],
    }
    const found = await run(false, { ...params, cases: 0 })
    for (const id of ['mass-assignment', 'foreign-write', 'timing']) {
      const [finding] = of(found, id)
      expect(finding, id).toBeDefined()
      // The same probe on the same operation (a timing probe's run length may differ: its identity does not).
      const which = (f: ReportDescriptor) => [
        f.data?.operation,
        f.evidence?.details?.probe ?? f.evidence?.details?.description,
      ]
      const again = of(await reproduce(finding!, false, params), id)
      expect(again.map(which)).toEqual([which(finding!)])
      expect(of(await reproduce(finding!, true, params), id)).toEqual([])
    }
  })

  it('reproduce says it cannot rebuild a differential finding, which compares two cases', async () => {
    const params = { operations: ['searchProducts'], requests: undefined, oracles: ['differential'] }
    const [finding] = of(await run(false, { ...params, cases: 60 }), 'differential')
    expect(finding).toBeDefined()
    await expect(reproduce(finding!, false, params)).rejects.toThrow(
      /a differential finding compares the answers to two cases .* run the check again/,
    )
  })

  it('lists the cases a group of findings stands for', async () => {
    const found = await run(false, {
      operations: ['getItem'],
      requests: undefined,
      oracles: ['no-leak'],
      cases: 40,
    })
    const group = of(found, 'no-leak').find(
      (f) => Number(f.data?.what?.toString().match(/and (\d+) more/)?.[1]) > 0,
    )
    const details = (group?.evidence as { details?: { cases?: Array<{ what: string }> } }).details
    expect(details?.cases?.length).toBeGreaterThan(1)
    expect(details!.cases![0]!.what).toBe(String(group!.data?.what).replace(/ \(and \d+ more like it\)$/, ''))
  })
})
