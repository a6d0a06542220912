/**
 * Forged and tampered JWTs against a loopback service that verifies tokens, and against versions of it with
 * one hole each: `alg: none` accepted, the signature not checked, a weak secret. The sound one gets no
 * finding; each hole is named by the probe that found it.
 */
import { createHmac } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { createCheckContext } from '../../../support/check-context.js'
import { decodeJwt, forgedJwts } from '../../../../engine/kinds/adversarial/probes.js'

type Hole = 'none' | 'no-verify' | 'weak' | undefined

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
const sign = (claims: Record<string, unknown>, secret: string) => {
  const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`
}

async function jwtService(hole: Hole) {
  const secret = hole === 'weak' ? 'secret' : 'k3Jq9-a-long-random-service-secret-x81'
  const token = sign({ sub: 'u1', role: 'user', exp: 4102444800 }, secret)
  const server = createServer((req, res) => {
    const send = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(value))
    }
    const raw = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1]
    const jwt = raw ? decodeJwt(raw) : undefined
    if (!raw || !jwt) return send(401, { error: 'unauthorized' })
    const [h, c, sig] = raw.split('.')
    const expected = createHmac('sha256', secret).update(`${h}.${c}`).digest('base64url')
    const ok =
      (hole === 'none' && jwt.header.alg === 'none') ||
      hole === 'no-verify' ||
      (jwt.header.alg === 'HS256' && sig === expected)
    if (!ok || (typeof jwt.claims.exp === 'number' && jwt.claims.exp * 1000 < Date.now()))
      return send(401, { error: 'unauthorized' })
    send(200, { sub: jwt.claims.sub, role: jwt.claims.role })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-jwt-'))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    token,
    dir,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await rm(dir, { recursive: true, force: true })
    },
  }
}

async function authzFindings(hole: Hole) {
  const api = await jwtService(hole)
  const t = createCheckContext({
    kind: 'adversarial',
    params: {
      requests: [{ name: 'me', path: '/me', auth: true }],
      principals: { owner: '{{secrets.owner}}' },
      cases: 5,
      oracles: ['authz'],
    },
    plan: { dir: api.dir },
    candidate: { services: { api: api.url } },
    secrets: { owner: { value: api.token } },
    seed: 7,
  })
  try {
    await t.run()
  } finally {
    await t.close()
    await api.close()
  }
  return t.findings.filter((f) => f.messageId === 'authz').map((f) => String(f.data?.what))
}

describe('forged credentials', { timeout: 60_000 }, () => {
  it('makes alg-none, tampered, expired and weak-secret tokens from the owner’s JWT, and none from an opaque token', () => {
    const token = sign({ sub: 'u1', role: 'user' }, 'x')
    const forged = forgedJwts({ authorization: `Bearer ${token}` })
    expect(forged.map((f) => f.name)).toContain('a JWT with alg none')
    expect(decodeJwt(forged[1]!.token)?.claims).toMatchObject({ role: 'admin', sub: 'u10' })
    expect(forgedJwts({ authorization: 'Bearer opaque-token' })).toEqual([])
  })

  it('finds nothing on a service that verifies tokens', async () => {
    expect(await authzFindings(undefined)).toEqual([])
  })

  it.each([
    ['none', /forged credentials \(a JWT with alg none\)/],
    ['no-verify', /forged credentials \(a JWT with raised privileges and the original signature\)/],
    ['weak', /forged credentials \(a JWT re-signed with the weak secret "secret"\)/],
  ] as const)('names the hole when the service accepts %s', async (hole, label) => {
    const found = await authzFindings(hole)
    expect(found.length).toBeGreaterThan(0)
    expect(found.join('\n')).toMatch(label)
  })
})
