/**
 * Authorization probes, per target that needs credentials: no credentials, malformed credentials
 * (fast-check picks three kinds from the seed), and — when the plan has a second principal and the
 * target reaches a resource the owner created in setup — the other principal's credentials.
 */
import { createHmac } from 'node:crypto'
import fc from 'fast-check'
import { buildCase, caseSeed, type Base, type Case } from './cases.js'
import { lackingRoles, type ResolvedPrincipal } from './principals.js'
import { markStrings, readBackOf, type ReadBack } from './readback.js'

export interface Probe {
  case: Case
  /** Statuses that pass. */
  expected: number[]
  /** For messages: `no credentials`, `malformed credentials (…)`, `another principal's credentials`. */
  label: string
  foreign: boolean
  /** A foreign write: read the resource back as its owner; the marker there shows the write stuck. */
  readBack?: { read: ReadBack; marker: string }
}

const UNAUTHORIZED = [401, 403]

function malformedVariants(
  owner: Record<string, string>,
): Array<{ name: string; headers: Record<string, string> }> {
  const bearer = owner.authorization && /^Bearer\s+(.+)$/i.exec(owner.authorization)
  if (bearer) {
    const token = bearer[1]!
    return [
      { name: 'a scheme without a token', headers: { authorization: 'Bearer' } },
      { name: "the owner's token with one character more", headers: { authorization: `Bearer ${token}x` } },
      {
        name: 'Basic instead of Bearer',
        headers: { authorization: `Basic ${Buffer.from('vigil:not-a-password').toString('base64')}` },
      },
      { name: 'an unknown token', headers: { authorization: 'Bearer vigil0unknown0token0a8f3e1c' } },
      { name: 'an injection string as token', headers: { authorization: "Bearer ' OR '1'='1" } },
      { name: 'a 4096-character token', headers: { authorization: `Bearer ${'A'.repeat(4096)}` } },
      { name: 'the token "null"', headers: { authorization: 'Bearer null' } },
    ]
  }
  return Object.keys(owner)
    .sort()
    .flatMap((name) => [
      { name: `${name} with one character more`, headers: { ...owner, [name]: `${owner[name]}x` } },
      { name: `${name} empty`, headers: { ...owner, [name]: '' } },
      { name: `${name} unknown`, headers: { ...owner, [name]: 'vigil0unknown0credential' } },
    ])
}

/** Secrets that tutorials and defaults leave in place; a token re-signed with one must not be accepted. */
export const WEAK_JWT_SECRETS = [
  'secret',
  'changeme',
  'password',
  'your-256-bit-secret',
  'jwt_secret',
  'secretkey',
  '123456',
] as const

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

/** A JWT's header and claims, when the text is one (three base64url parts, JSON header with `alg`). */
export function decodeJwt(
  token: string,
): { header: Record<string, unknown>; claims: Record<string, unknown>; signature: string } | undefined {
  const parts = token.split('.')
  if (parts.length !== 3) return undefined
  try {
    const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as unknown
    const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as unknown
    if (!header || typeof header !== 'object' || typeof (header as { alg?: unknown }).alg !== 'string')
      return undefined
    if (!claims || typeof claims !== 'object' || Array.isArray(claims)) return undefined
    return {
      header: header as Record<string, unknown>,
      claims: claims as Record<string, unknown>,
      signature: parts[2]!,
    }
  } catch {
    return undefined
  }
}

function signHs256(header: Record<string, unknown>, claims: Record<string, unknown>, secret: string): string {
  const head = `${b64url({ ...header, alg: 'HS256' })}.${b64url(claims)}`
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`
}

/**
 * Forged and tampered versions of the owner's JWT, each of which a service must refuse: `alg: none`,
 * raised privileges (`role`, `isAdmin`, `admin`, another `sub`) under the original signature, an `exp` in
 * the past under the original signature, and the same claims re-signed (HS256) with each well-known weak
 * secret. Empty when the owner's credential is not a bearer JWT.
 */
export function forgedJwts(owner: Record<string, string>): Array<{ name: string; token: string }> {
  const bearer = owner.authorization && /^Bearer\s+(\S+)$/i.exec(owner.authorization)
  const jwt = bearer ? decodeJwt(bearer[1]!) : undefined
  if (!jwt) return []
  const { header, claims, signature } = jwt
  const raised: Record<string, unknown> = { ...claims, role: 'admin', isAdmin: true, admin: true }
  if (typeof claims.roles !== 'undefined') raised.roles = ['admin']
  if (typeof claims.sub === 'string') raised.sub = `${claims.sub}0`
  return [
    { name: 'a JWT with alg none', token: `${b64url({ ...header, alg: 'none' })}.${b64url(claims)}.` },
    {
      name: 'a JWT with raised privileges and the original signature',
      token: `${b64url(header)}.${b64url(raised)}.${signature}`,
    },
    {
      name: 'an expired JWT (exp in the past, original signature)',
      token: `${b64url(header)}.${b64url({ ...claims, exp: 946684800 })}.${signature}`,
    },
    ...WEAK_JWT_SECRETS.map((secret) => ({
      name: `a JWT re-signed with the weak secret "${secret}"`,
      token: signHs256(header, raised, secret),
    })),
  ]
}

function without(headers: Record<string, string>, names: readonly string[]): Record<string, string> {
  const drop = new Set(names.map((n) => n.toLowerCase()))
  return Object.fromEntries(Object.entries(headers).filter(([k]) => !drop.has(k.toLowerCase())))
}

/** True when the target's valid request uses one of the setup's captured variables. */
export function usesCaptures(target: Base['target'], names: readonly string[]): boolean {
  if (names.length === 0) return false
  const text = JSON.stringify([
    target.path,
    target.params.map((p) => p.base ?? null),
    target.body?.example ?? null,
  ])
  return names.some((name) =>
    new RegExp(`\\{\\{\\s*${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*\\}\\}`).test(text),
  )
}

/** The probes of a session's targets, in target order. */
export function authzProbes(
  bases: readonly Base[],
  principals: readonly ResolvedPrincipal[],
  seed: number,
  captureNames: readonly string[],
  foreignStatus: readonly number[],
): Probe[] {
  const probes: Probe[] = []
  const other = principals.find((p) => p.name === 'other')?.headers
  // Every principal's credential headers come off a probe's request before its own go on.
  const credentialNames = [...new Set(principals.flatMap((p) => Object.keys(p.headers)))]
  bases.forEach((base, t) => {
    const sender = base.credentials
    if (!base.target.auth || Object.keys(sender).length === 0) return
    const make = (
      headers: Record<string, string>,
      label: string,
      expected: readonly number[],
      foreign = false,
    ) => {
      const read = foreign ? readBackOf(base, bases) : undefined
      // A foreign write carries a marker in its strings, so reading the resource back shows whether it stuck.
      const marker = `vigil-foreign-${caseSeed(seed, 2_000_000 + t).toString(16)}`
      const marked = read && read.fromAnswer === undefined ? markStrings(base.body, marker) : undefined
      const c = buildCase(
        {
          ...base,
          headers: { ...without(base.headers, credentialNames), ...headers },
          ...(marked?.marked ? { body: marked.body } : {}),
        },
        -1,
      )
      probes.push({
        case: { ...c, kind: 'probe', description: label },
        expected: [...expected],
        label,
        foreign,
        ...(read && marked?.marked ? { readBack: { read, marker } } : {}),
      })
    }
    make({}, 'no credentials', UNAUTHORIZED)
    const variants = malformedVariants(sender)
    const [picked] = fc.sample(
      fc.shuffledSubarray(variants, {
        minLength: Math.min(3, variants.length),
        maxLength: Math.min(3, variants.length),
      }),
      {
        seed: caseSeed(seed, 1_000_000 + t),
        numRuns: 1,
      },
    )
    for (const variant of picked!)
      make(variant.headers, `malformed credentials (${variant.name})`, UNAUTHORIZED)
    for (const forged of forgedJwts(sender))
      make({ authorization: `Bearer ${forged.token}` }, `forged credentials (${forged.name})`, UNAUTHORIZED)
    // An ordinary user on an admin operation: refused, or hidden (404).
    for (const principal of lackingRoles(base.target, principals))
      make(
        principal.headers,
        `${principal.name}'s credentials (roles ${principal.roles!.join(', ') || 'none'}) on an operation for ${base.target.roles!.join(' or ')}`,
        [...UNAUTHORIZED, 404],
      )
    if (other && usesCaptures(base.target, captureNames)) {
      make(other, "another principal's credentials on the owner's resource", foreignStatus, true)
    }
  })
  return probes
}
