/**
 * One sandbox's side of an adversarial run: setup as the owner (captures become variables), the
 * principals' credentials, each target's valid request, and sending a case with its outcome judged by
 * the per-response oracles.
 */
import type { CheckContext } from '../../api/kind.js'
import { rendererFor, runSetup, type SetupParams } from '../../api/setup.js'
import { HttpNetworkError, type HttpExchange } from '../../http/client.js'
import { serviceUrl } from '../../api/sandbox.js'
import type { Sandbox } from '../../api/sandbox.js'
import { prepareBase, type Base, type Case } from './cases.js'
import { headerHygiene, injectionEvidence, offSandboxRedirect } from './content.js'
import { findLeak, sentBy } from './leaks.js'
import type { AdversarialParams, OracleName } from './params.js'
import { resolvePrincipals, senderOf, type ResolvedPrincipal } from './principals.js'

type Ctx = CheckContext<AdversarialParams, 'http'>

/** Why an outcome fails: an oracle, or the control request of a target not being accepted. */
export type FailureReason = OracleName | 'control-rejected'

export interface Failure {
  oracle: FailureReason
  /** 0 when no response came. */
  status: number
  /** Extra message data (`leak`, `match`, `reason`). */
  data?: Record<string, string>
}

export interface Outcome {
  case: Case
  exchange?: HttpExchange
  error?: HttpNetworkError
  failures: Failure[]
}

export interface Session {
  sandbox: Sandbox
  bases: Base[]
  /** Header sets: the owner's and the other principal's credentials (empty when not configured). */
  owner: Record<string, string>
  other?: Record<string, string>
  /** Every principal, in the plan's order, credentials resolved (logins done) for this sandbox. */
  principals: ResolvedPrincipal[]
  render: <T>(value: T) => T
}

/** Setup and bases for one sandbox; undefined when setup failed (it reported why). */
export async function openSession(
  ctx: Ctx,
  sandbox: Sandbox,
  targets: Base['target'][],
  seed: number,
): Promise<Session | undefined> {
  const plain = <T>(value: T): T => ctx.vars.render(value)
  // Logins come first: setup runs as the owner, who may be a cookie session.
  const principals = await resolvePrincipals(ctx, sandbox, plain)
  if (!principals) return undefined
  const owner = principals.find((p) => p.name === 'owner')?.headers ?? {}
  const other = principals.find((p) => p.name === 'other')?.headers
  let captures = new Map<string, unknown>()
  if (ctx.params.setup?.length) {
    const setupCtx = {
      ...ctx,
      params: {
        setup: ctx.params.setup,
        service: ctx.params.service,
        headers: { ...ctx.params.headers, ...owner },
      } satisfies SetupParams,
    }
    const outcome = await runSetup(setupCtx, sandbox)
    if (!outcome.ok) return undefined
    captures = outcome.captures
  }
  const render = rendererFor(ctx.vars, captures)
  const bases = targets.map((target) =>
    prepareBase(target, render, seed, senderOf(target, principals)?.headers ?? {}),
  )
  return { sandbox, bases, owner, ...(other ? { other } : {}), principals, render }
}

/** Sends one request of a case to the session's sandbox. */
export async function send(ctx: Ctx, session: Session, c: Case, timeoutMs: number): Promise<Outcome> {
  const { sandbox } = session
  try {
    const exchange = await ctx.clients.http.request({
      method: c.request.method,
      url: serviceUrl(sandbox, c.target.service, c.request.path),
      headers: { ...sandbox.headers, ...c.request.headers },
      ...(c.request.body !== undefined ? { body: c.request.body } : {}),
      timeoutMs,
      signal: ctx.signal,
    })
    return { case: c, exchange, failures: [] }
  } catch (error) {
    if (!(error instanceof HttpNetworkError) || ctx.signal.aborted) throw error
    return { case: c, error, failures: [] }
  }
}

/** True when an outcome got no answer because its time ran out (undici's headers or body timeout). */
export function timedOut(outcome: Outcome): boolean {
  return !outcome.exchange && /TIMEOUT|timed? ?out/i.test(outcome.error?.message ?? '')
}

/**
 * Applies the per-response oracles to an outcome (authz, health and the differential are judged
 * elsewhere). `control` is the target's valid answer with its echoes cut: what it shows is no evidence.
 */
export function judge(
  ctx: Ctx,
  outcome: Outcome,
  oracles: ReadonlySet<OracleName>,
  control?: string,
): Outcome {
  const c = outcome.case
  const failures: Failure[] = []
  if (!outcome.exchange) {
    // A server may cut an oversized upload short; any other request deserves an answer.
    if (!c.oversized && oracles.has('no-server-error')) {
      failures.push({
        oracle: 'no-server-error',
        status: 0,
        data: { reason: outcome.error?.message ?? 'no response' },
      })
    }
    return { ...outcome, failures }
  }
  const { status } = outcome.exchange.response
  if (status >= 500 && oracles.has('no-server-error')) failures.push({ oracle: 'no-server-error', status })
  if (c.invalid === true && (status < 400 || status >= 500) && oracles.has('rejects-invalid'))
    failures.push({ oracle: 'rejects-invalid', status })
  // A redirect is a valid answer too (a login's `next`, a moved resource).
  if (c.kind === 'control' && (status < 200 || status >= 400))
    failures.push({ oracle: 'control-rejected', status })
  if (oracles.has('no-leak')) {
    const leak = findLeak(outcome.exchange.response, () => sentBy(c.request), ctx.clients.http.redactor)
    if (leak)
      failures.push({
        oracle: 'no-leak',
        status,
        data: { leak: leak.what, match: ctx.clients.http.redactor.text(leak.match) },
      })
  }
  const { response } = outcome.exchange
  const redact = (text: string) => ctx.clients.http.redactor.text(text)
  if (oracles.has('injection-evidence') && (c.kind === 'injection' || c.kind === 'xml-entity')) {
    const found = injectionEvidence(response, sentBy(c.request), control)
    if (found)
      failures.push({
        oracle: 'injection-evidence',
        status,
        data: { leak: found.what, match: redact(found.match) },
      })
  }
  if (oracles.has('redirect')) {
    const found = offSandboxRedirect(response, outcome.exchange.url)
    if (found)
      failures.push({ oracle: 'redirect', status, data: { leak: found.what, match: redact(found.match) } })
  }
  if (oracles.has('security-headers'))
    for (const found of headerHygiene(response))
      failures.push({
        oracle: 'security-headers',
        status,
        data: { leak: found.what, match: redact(found.match) },
      })
  return { ...outcome, failures }
}
