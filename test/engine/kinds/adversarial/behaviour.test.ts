/**
 * Write-then-read-back, the behavioural probes and crash attribution, each against the bed with its hole
 * and against its twin without: the finding names what it saw (the fields that stuck, the marker read back,
 * the two slow answers, the attempts, the differing answers, the killing case); the twin gets none.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { ReportDescriptor } from '../../../../engine/api/kind.js'
import { createCheckContext } from '../../../support/check-context.js'
import { bedParams, startBedApi, type BedApi } from './bed-api.js'

const open: BedApi[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((api) => api.close()))
})

async function run(safe: boolean, extra: Record<string, unknown>): Promise<ReportDescriptor[]> {
  const api = await startBedApi({ safe })
  open.push(api)
  const t = createCheckContext({
    kind: 'adversarial',
    params: bedParams({ cases: 20, ...extra }),
    plan: { dir: api.dir },
    candidate: { services: api.services },
    seed: 7,
  })
  try {
    await t.run()
  } finally {
    await t.close()
  }
  return t.findings
}

const of = (findings: ReportDescriptor[], id: string) => findings.filter((f) => f.messageId === id)

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

  it('warns when twenty failed logins meet no limit, and tells a missing account apart', async () => {
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
