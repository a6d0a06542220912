/**
 * Principals with roles and cookie sessions, against the bed's admin operation: every principal whose roles
 * the operation does not name is a probe, found when the service lets it in (the vulnerable bed) and quiet
 * when it refuses (the twin); the operation is sent by a principal holding its role; a cookie principal logs
 * in through a request and its session cookie goes with its requests.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createCheckContext } from '../../../support/check-context.js'
import { cookieHeader } from '../../../../engine/kinds/adversarial/principals.js'
import { adversarialSchema } from '../../../../engine/kinds/adversarial/kind.js'
import { schemaRegistry } from '../../../../engine/api/documents/schema.js'
import { BED_PRINCIPALS } from './bed-auth.js'
import { startBedApi, type BedApi } from './bed-api.js'

const open: BedApi[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((api) => api.close()))
})

async function run(safe: boolean, params: Record<string, unknown>) {
  const api = await startBedApi({ safe })
  open.push(api)
  const t = createCheckContext({
    kind: 'adversarial',
    params: { cases: 4, oracles: ['authz', 'no-server-error'], ...params },
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

const roleProbes = (findings: Awaited<ReturnType<typeof run>>) =>
  findings
    .filter((f) => f.messageId === 'authz')
    .map((f) => String(f.data?.what))
    .sort()

describe('principals with roles', { timeout: 60_000 }, () => {
  const fromOpenApi = { openapi: 'openapi.json', operations: ['listUsers'], principals: BED_PRINCIPALS }

  it('tries every ordinary principal on an operation whose security scopes name admin', async () => {
    const findings = await run(false, fromOpenApi)
    expect(roleProbes(findings)).toEqual([
      "probe: member's credentials (roles user) on an operation for admin",
      "probe: other's credentials (roles user) on an operation for admin",
      "probe: owner's credentials (roles user) on an operation for admin",
    ])
    // The valid request went out as the admin, so it was accepted.
    expect(findings.filter((f) => f.messageId === 'control-rejected')).toEqual([])
  })

  it('finds nothing when the service checks the role', async () => {
    const findings = await run(true, fromOpenApi)
    expect(findings.filter((f) => (f.severity ?? 'error') === 'error')).toEqual([])
    expect(findings.find((f) => f.messageId === 'summary')?.data?.probes).toBeGreaterThanOrEqual(3)
  })

  it('takes the roles an operation needs from the plan for a listed request', async () => {
    const params = {
      requests: [{ name: 'users', path: '/admin/users' }],
      roles: { users: ['admin'] },
      principals: { owner: BED_PRINCIPALS.owner, admin: BED_PRINCIPALS.admin },
    }
    expect(roleProbes(await run(false, params))).toEqual([
      "probe: owner's credentials (roles user) on an operation for admin",
    ])
    expect(roleProbes(await run(true, params))).toEqual([])
  })
})

describe('cookie-session principals', { timeout: 60_000 }, () => {
  it('log in through a request and send the session cookie', async () => {
    // Only the cookie principal: its probe is refused for its role, not for missing credentials.
    const params = {
      openapi: 'openapi.json',
      operations: ['getProfile'],
      principals: { owner: BED_PRINCIPALS.member },
    }
    const findings = await run(true, params)
    expect(findings.filter((f) => (f.severity ?? 'error') === 'error')).toEqual([])
    expect(findings.filter((f) => f.messageId === 'control-rejected')).toEqual([])
  })

  it('report a login that fails as a setup failure, naming the principal', async () => {
    const member = {
      login: { request: { method: 'POST', path: '/login', json: { username: 'dee', password: 'wrong' } } },
    }
    const findings = await run(true, {
      openapi: 'openapi.json',
      operations: ['getProfile'],
      principals: { owner: member },
    })
    const failed = findings.find((f) => f.messageId === 'setup-failed')
    expect(failed?.data).toMatchObject({ step: 'setup: log in as owner', reason: 'status 401' })
  })

  it('keep every cookie of a joined set-cookie, without its attributes', () => {
    expect(cookieHeader('a=1; Path=/; HttpOnly, b=2; Expires=Wed, 21 Oct 2026 07:28:00 GMT')).toBe('a=1; b=2')
  })

  it('are valid plan syntax, and a principal without credentials is not', () => {
    const doc = schemaRegistry.fromObject(
      'vigil:test/adversarial',
      'adversarial',
      adversarialSchema,
      'draft-07',
    )
    const validate = schemaRegistry.compile(doc).validate
    const base = { requests: [{ path: '/x' }] }
    expect(validate({ ...base, principals: BED_PRINCIPALS, roles: { x: ['admin'] } })).toBe(true)
    expect(validate({ ...base, principals: { owner: { roles: ['user'] } } })).toBe(false)
  })
})
