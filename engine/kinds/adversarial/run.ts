/**
 * The adversarial check's run: check the service is healthy, open a session per sandbox, send each
 * target's valid request and the generated cases (bounded by `cases` and `timeBudget`), the
 * authorization probes and the plan's suggested cases; with `newOnly`, replay the same requests on the
 * baseline and drop the failures it shares; check health again; report deduplicated findings.
 */
import pLimit from 'p-limit'
import path from 'node:path'
import type { CheckContext } from '../../api/kind.js'
import { loadOpenApi } from '../../api/documents/openapi.js'
import { parseDuration } from '../../../plans/duration.js'
import { HttpNetworkError } from '../../http/client.js'
import { serviceUrl } from '../../api/sandbox.js'
import { parseRequestLine } from '../../api/vocabulary.js'
import type { Sandbox } from '../../api/sandbox.js'
import { buildCase, CaseGenerator, type Case } from './cases.js'
import { AdversarialHealthError, AdversarialUsageError } from './errors.js'
import { MAX_BODY_BYTES, MAX_CASES, ORACLES, type AdversarialParams, type OracleName } from './params.js'
import { authzProbes, type Probe } from './probes.js'
import { dedupe, reportItem, type Item } from './report.js'
import { judge, openSession, send, type Outcome, type Session } from './session.js'
import { suggestedCases, type Suggested } from './suggested.js'
import { resolveTargets, type Target } from './targets.js'

type Ctx = CheckContext<AdversarialParams, 'http'>

export const DEFAULT_CASES = 200
const DEFAULT_BUDGET_MS = 60_000

interface Plan {
  outcomes: Outcome[]
  probes: Array<{ probe: Probe; outcome: Outcome }>
  suggested: Array<{ suggested: Suggested; outcome: Outcome }>
  sent: number
}

async function healthRequest(
  ctx: Ctx,
  targets: readonly Target[],
): Promise<{ method: string; path: string } | undefined> {
  const { health, openapi } = ctx.params
  if (health === false) return undefined
  if (typeof health === 'string') {
    const parsed = parseRequestLine(health)
    return { method: parsed.method, path: parsed.path }
  }
  if (!openapi)
    return targets.some((t) => t.method === 'GET' && t.path === '/health')
      ? { method: 'GET', path: '/health' }
      : undefined
  const doc = await loadOpenApi(path.resolve(ctx.plan.dir, openapi), openapi, ctx.plan.fileRoots)
  const op = doc.operations.find(
    (o) => o.method === 'GET' && /^\/(health|healthz|livez|readyz)$/.test(o.path),
  )
  return op ? { method: 'GET', path: op.path } : undefined
}

async function healthy(
  ctx: Ctx,
  sandbox: Sandbox,
  request: { method: string; path: string },
): Promise<{ ok: boolean; status: string }> {
  try {
    const exchange = await ctx.clients.http.request({
      method: request.method,
      url: serviceUrl(sandbox, ctx.params.service, request.path),
      headers: { ...sandbox.headers },
      timeoutMs: 5000,
      signal: ctx.signal,
    })
    const { status } = exchange.response
    return { ok: status >= 200 && status < 300, status: String(status) }
  } catch (error) {
    if (!(error instanceof HttpNetworkError) || ctx.signal.aborted) throw error
    return { ok: false, status: `no response (${error.message})` }
  }
}

/** Sends controls, cases `0..count-1` (or `indices`), probes and suggested cases to one session. */
async function exercise(
  ctx: Ctx,
  session: Session,
  options: {
    generator: CaseGenerator
    count?: number
    indices?: readonly number[]
    deadline: number
    probes: Probe[]
    suggested: Suggested[]
    oracles: ReadonlySet<OracleName>
    concurrency: number
  },
): Promise<Plan> {
  const limit = pLimit(options.concurrency)
  const timeout = (deadline: number) => Math.max(1000, Math.min(10_000, deadline - Date.now()))
  const run = (c: Case) =>
    send(ctx, session, c, timeout(options.deadline + 10_000)).then((o) => judge(ctx, o, options.oracles))
  const controls = await Promise.all(session.bases.map((base) => limit(() => run(caseOfBase(base)))))
  const outcomes: Outcome[] = [...controls]
  const indices = options.indices ?? Array.from({ length: options.count ?? 0 }, (_, i) => i)
  let sent = 0
  const generated = await Promise.all(
    indices.map((index) =>
      limit(async () => {
        // Past the budget nothing new starts; what is in flight finishes.
        if (options.indices === undefined && Date.now() > options.deadline) return undefined
        ctx.signal.throwIfAborted()
        sent++
        if (sent % 50 === 0) ctx.progress(`${sent}/${indices.length} cases`)
        return run(options.generator.generate(index))
      }),
    ),
  )
  for (const o of generated) if (o) outcomes.push(o)
  const probes = await Promise.all(
    options.probes.map((probe) => limit(async () => ({ probe, outcome: await run(probe.case) }))),
  )
  const suggested = await Promise.all(
    options.suggested.map((s) => limit(async () => ({ suggested: s, outcome: await run(s.case) }))),
  )
  return { outcomes, probes, suggested, sent }
}

function caseOfBase(base: Session['bases'][number]): Case {
  return buildCase(base, -1)
}

export async function runAdversarial(ctx: Ctx): Promise<void> {
  const p = ctx.params
  const oracles = new Set<OracleName>(p.oracles ?? ORACLES)
  const seed = p.seed ?? ctx.seed
  const count = Math.min(p.cases ?? DEFAULT_CASES, MAX_CASES)
  const maxBodyBytes = Math.min(p.maxBodyBytes ?? MAX_BODY_BYTES, MAX_BODY_BYTES)
  const budget = p.timeBudget === undefined ? DEFAULT_BUDGET_MS : parseDuration(p.timeBudget)
  // Leave the check time to replay on the baseline, probe and report after the cases.
  const deadline = Date.now() + Math.max(0, Math.min(budget, ctx.timeoutMs * (p.newOnly ? 0.4 : 0.8)))
  const targets = await resolveTargets(p, ctx.plan.dir, ctx.plan.fileRoots)
  if (targets.length === 0)
    throw new AdversarialUsageError(`${p.openapi ?? 'the block'}: no operation to attack`)
  const health = oracles.has('healthy') ? await healthRequest(ctx, targets) : undefined
  const { candidate, baseline } = ctx.sandboxes
  if (health) {
    const before = await healthy(ctx, candidate, health)
    if (!before.ok)
      throw new AdversarialHealthError(
        `${health.method} ${health.path} on the candidate answered ${before.status} before any case was sent`,
      )
  }
  const captureNames = (p.setup ?? []).flatMap((s) => Object.keys(s.capture ?? {}))
  const session = await openSession(ctx, candidate, targets, seed)
  if (!session) return
  const generator = new CaseGenerator(session.bases, seed, maxBodyBytes)
  const probeList = (s: Session) =>
    oracles.has('authz')
      ? authzProbes(s.bases, s.owner, s.other, seed, captureNames, p.foreignStatus ?? [401, 403, 404])
      : []
  const suggestedList = (s: Session) => suggestedCases(p.suggested ?? [], s, targets)
  const concurrency = Math.max(1, Math.min(p.concurrency ?? 4, 64))
  const common = { oracles, concurrency }
  const result = await exercise(ctx, session, {
    ...common,
    generator,
    count,
    deadline,
    probes: probeList(session),
    suggested: suggestedList(session),
  })

  let legacy = new Set<string>()
  if (p.newOnly && baseline) {
    const base = await openSession(ctx, baseline, targets, seed)
    if (base) {
      const indices = result.outcomes.filter((o) => o.case.kind !== 'control').map((o) => o.case.index)
      const replay = await exercise(ctx, base, {
        ...common,
        generator: new CaseGenerator(base.bases, seed, maxBodyBytes),
        indices,
        deadline: Number.POSITIVE_INFINITY,
        probes: probeList(base),
        suggested: suggestedList(base),
      })
      legacy = new Set(collect(replay, oracles, targets).map(keyOf))
    }
  } else if (p.newOnly) {
    ctx.report({ messageId: 'new-only-without-baseline', severity: 'info' })
  }

  if (health) {
    const after = await healthy(ctx, candidate, health)
    if (!after.ok)
      ctx.report({
        messageId: 'healthy',
        data: { request: `${health.method} ${health.path}`, status: after.status },
      })
  }
  const items = collect(result, oracles, targets)
  const counted = items.filter((item) => !legacy.has(keyOf(item)))
  for (const { item, count: n } of dedupe(counted)) reportItem(ctx, item, n, seed, 'candidate')
  const shared = items.length - counted.length
  if (shared > 0) {
    const oraclesShared = [
      ...new Set(items.filter((i) => legacy.has(keyOf(i))).map((i) => i.messageId)),
    ].sort()
    ctx.report({
      messageId: 'legacy',
      severity: 'info',
      data: { count: shared, oracles: oraclesShared.join(', ') },
    })
  }
  ctx.report({
    messageId: 'summary',
    severity: 'info',
    data: {
      cases: result.sent,
      planned: count,
      probes: result.probes.length,
      suggested: result.suggested.length,
      targets: targets.length,
      seed,
      budget:
        result.sent < count ? `; the time budget stopped it after ${result.sent} of ${count} cases` : '',
    },
  })
}

/** A failure's identity across sandboxes: the same request (case index or probe) failing the same oracle. */
function keyOf(item: Item): string {
  return `${item.outcome.case.target.id}\0${item.sequence}\0${item.messageId}`
}

function collect(plan: Plan, oracles: ReadonlySet<OracleName>, targets: readonly Target[]): Item[] {
  const items: Item[] = []
  const index = (c: Case) => targets.indexOf(c.target)
  for (const outcome of plan.outcomes) {
    const c = outcome.case
    const what = c.kind === 'control' ? 'the valid request' : `case ${c.index} (${c.kind}: ${c.description})`
    for (const failure of outcome.failures)
      items.push({
        outcome,
        failure,
        target: index(c),
        sequence: c.kind === 'control' ? -1 : c.index,
        what,
        messageId: failure.oracle,
      })
  }
  const controls = new Map(
    plan.outcomes.filter((o) => o.case.kind === 'control').map((o) => [o.case.target.id, o]),
  )
  plan.probes.forEach(({ probe, outcome }, i) => {
    const sequence = 1e9 + i
    const what = `probe: ${probe.label}`
    for (const failure of outcome.failures)
      items.push({ outcome, failure, target: index(outcome.case), sequence, what, messageId: failure.oracle })
    const status = outcome.exchange?.response.status ?? 0
    if (!oracles.has('authz') || probe.expected.includes(status)) return
    // Another principal's 404 means nothing if the owner cannot read the resource either.
    const control = controls.get(outcome.case.target.id)?.exchange?.response.status
    if (probe.foreign && (control === undefined || control < 200 || control >= 300)) return
    items.push({
      outcome,
      failure: { oracle: 'authz', status },
      target: index(outcome.case),
      sequence,
      what,
      expected: probe.expected.join(' or '),
      messageId: 'authz',
    })
  })
  plan.suggested.forEach(({ suggested, outcome }, i) => {
    const sequence = 2e9 + i
    const what = `suggested case "${suggested.name}"`
    for (const failure of outcome.failures)
      items.push({ outcome, failure, target: index(outcome.case), sequence, what, messageId: failure.oracle })
    const status = outcome.exchange?.response.status ?? 0
    if (!suggested.accepts(status))
      items.push({
        outcome,
        failure: { oracle: 'rejects-invalid', status },
        target: index(outcome.case),
        sequence,
        what,
        expected: suggested.expected,
        messageId: 'suggested',
      })
  })
  return items
}
