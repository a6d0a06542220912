/**
 * The principals of an adversarial block, resolved for one sandbox: each one's credentials as request
 * headers — given (a token, an Authorization value, headers) or obtained by logging in through a request
 * (the session cookie it sets, or a token read from its answer) — and the roles it holds. An operation
 * that names the roles it needs is sent by a principal holding one of them; every principal with declared
 * roles that holds none of them becomes an authorization probe.
 */
import type { CheckContext } from '../../api/kind.js'
import { runSetup, type SetupEntry, type SetupParams } from '../../api/setup.js'
import type { Sandbox } from '../../api/sandbox.js'
import { splitCookies } from './content.js'
import type { AdversarialParams, Credential, Principal } from './params.js'
import type { Target } from './targets.js'

type Ctx = CheckContext<AdversarialParams, 'http'>

export interface ResolvedPrincipal {
  name: string
  headers: Record<string, string>
  /** Undefined: the plan did not say, and the principal is never judged by its roles. */
  roles?: string[]
}

/** Credentials as request headers: a bare token becomes a bearer token. */
export function credentialHeaders(
  credential: Credential | undefined,
  render: <T>(v: T) => T,
): Record<string, string> | undefined {
  if (credential === undefined) return undefined
  if (typeof credential === 'object') return render(credential.headers)
  const value = String(render(credential))
  return { authorization: /\s/.test(value.trim()) ? value.trim() : `Bearer ${value}` }
}

/** `a=1; Path=/; HttpOnly, b=2` (a joined `set-cookie`) → the `cookie` header that sends them back. */
export function cookieHeader(setCookie: string): string {
  return splitCookies(setCookie)
    .map((c) => c.split(';')[0]!.trim())
    .filter((c) => c.includes('='))
    .join('; ')
}

/** The login request of a principal as a setup step capturing its cookie (or its token). */
function loginStep(name: string, principal: Exclude<Principal, string>): SetupEntry {
  const login = principal.login!
  return {
    name: `log in as ${name}`,
    request: login.request,
    ...(login.service ? { service: login.service } : {}),
    ...(login.headers ? { headers: login.headers } : {}),
    ...(login.expect ? { expect: login.expect } : {}),
    capture: login.token ? { token: login.token } : { cookie: 'header:set-cookie' },
  }
}

/**
 * Every principal of the block for one sandbox, in the order the plan lists them; undefined when a login
 * failed (reported as a setup failure).
 */
export async function resolvePrincipals(
  ctx: Ctx,
  sandbox: Sandbox,
  render: <T>(v: T) => T,
): Promise<ResolvedPrincipal[] | undefined> {
  const out: ResolvedPrincipal[] = []
  for (const [name, principal] of Object.entries(ctx.params.principals ?? {})) {
    if (principal === undefined) continue
    if (typeof principal === 'string') {
      out.push({ name, headers: credentialHeaders(principal, render)! })
      continue
    }
    const headers: Record<string, string> = {}
    if (principal.token !== undefined) Object.assign(headers, credentialHeaders(principal.token, render))
    if (principal.headers) Object.assign(headers, render(principal.headers))
    if (principal.login) {
      const setupCtx = {
        ...ctx,
        params: {
          setup: [loginStep(name, principal)],
          service: ctx.params.service,
          headers: { ...ctx.params.headers },
        } satisfies SetupParams,
      }
      const outcome = await runSetup(setupCtx, sandbox)
      if (!outcome.ok) return undefined
      const token = outcome.captures.get('token')
      if (token !== undefined) headers.authorization = `Bearer ${String(token)}`
      const cookie = outcome.captures.get('cookie')
      if (typeof cookie === 'string') headers.cookie = cookieHeader(cookie)
    }
    out.push({ name, headers, ...(principal.roles ? { roles: [...principal.roles] } : {}) })
  }
  return out
}

/** True when the principal may call an operation needing one of `needed` (or nothing in particular). */
export function mayCall(principal: ResolvedPrincipal, needed: readonly string[] | undefined): boolean {
  if (!needed?.length || principal.roles === undefined) return true
  return principal.roles.some((role) => needed.includes(role))
}

/**
 * Who sends a target's valid request and its cases: the owner when it may call it, else the first
 * principal (in the plan's order) that may. Undefined when the block has no principal.
 */
export function senderOf(
  target: Target,
  principals: readonly ResolvedPrincipal[],
): ResolvedPrincipal | undefined {
  const owner = principals.find((p) => p.name === 'owner')
  if (owner && mayCall(owner, target.roles)) return owner
  return principals.find((p) => mayCall(p, target.roles)) ?? owner ?? principals[0]
}

/** Principals with declared roles, none of which the target needs: each is a probe that must be refused. */
export function lackingRoles(target: Target, principals: readonly ResolvedPrincipal[]): ResolvedPrincipal[] {
  if (!target.roles?.length) return []
  return principals.filter((p) => p.roles !== undefined && !mayCall(p, target.roles))
}
