/**
 * The adversarial check's run: check the service is healthy, send each target's valid request and the
 * generated cases (bounded by `cases`, `timeBudget` and the check's time), the authorization probes and
 * the plan's suggested cases (phases.ts); with `newOnly`, replay the same requests on the baseline within
 * its own share of the time and drop the failures it shares; check health again; report deduplicated
 * findings — those the replay could not reach marked partial.
 */
import path from 'node:path'
import type { CheckContext, CheckSandboxes } from '../../api/kind.js'
import { loadOpenApi } from '../../api/documents/openapi.js'
import { evidence } from '../../api/evidence.js'
import { parseDuration } from '../../../plans/duration.js'
import { HttpNetworkError } from '../../http/client.js'
import { serviceUrl } from '../../api/sandbox.js'
import { parseRequestLine } from '../../api/vocabulary.js'
import type { Sandbox } from '../../api/sandbox.js'
import type { Case } from './cases.js'
import { rowCount, withoutEchoes } from './content.js'
import { sentBy } from './leaks.js'
import type { Outcome } from './session.js'
import { AdversarialHealthError, AdversarialUsageError } from './errors.js'
import {
  caseTimeoutOf,
  DEFAULT_CASES,
  MAX_BODY_BYTES,
  MAX_CASES,
  ORACLES,
  type AdversarialParams,
  type OracleName,
} from './params.js'
import { PHASE_WORDS, runSide, type SideResult } from './phases.js'
import { dedupe, reportItem, type Item } from './report.js'
import { comparedKey } from './behaviour.js'
import { resolveTargets, type Target } from './targets.js'

type Ctx = CheckContext<AdversarialParams, 'http'>

const DEFAULT_BUDGET_MS = 60_000

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
  timeoutMs: number,
): Promise<{ ok: boolean; status: string }> {
  try {
    const exchange = await ctx.clients.http.request({
      method: request.method,
      url: serviceUrl(sandbox, ctx.params.service, request.path),
      headers: { ...sandbox.headers },
      timeoutMs,
      signal: ctx.signal,
    })
    const { status } = exchange.response
    return { ok: status >= 200 && status < 300, status: String(status) }
  } catch (error) {
    if (!(error instanceof HttpNetworkError) || ctx.signal.aborted) throw error
    return { ok: false, status: `no response (${error.message})` }
  }
}

/**
 * How the check's time is shared: the candidate's generated cases may start during the first 60% of it
 * when a `newOnly` replay follows (90% without; `timeBudget` can only shorten that), its probes and
 * suggested cases follow; the replay on the baseline may start requests until 90%; the last 10% stays for
 * requests in flight (they time out at 95%), the health check, resets and the report. A phase that reaches
 * its deadline starts nothing new; what it found is kept.
 */
export const TIME_SHARES = { cases: 0.6, casesAlone: 0.9, replay: 0.3, requestsEnd: 0.95 } as const

/**
 * Runs the check. `started` is when its time began (epoch ms: when the kind's `run` was called, before this
 * module loaded): the time shares are measured from it, so the time loading the runtime took does not push
 * the phases' deadlines past the check's timeout.
 */
export async function runAdversarial(ctx: Ctx, started: number): Promise<void> {
  const p = ctx.params
  const oracles = new Set<OracleName>(p.oracles ?? ORACLES)
  const seed = p.seed ?? ctx.seed
  const count = Math.min(p.cases ?? DEFAULT_CASES, MAX_CASES)
  const maxBodyBytes = Math.min(p.maxBodyBytes ?? MAX_BODY_BYTES, MAX_BODY_BYTES)
  const budget = p.timeBudget === undefined ? DEFAULT_BUDGET_MS : parseDuration(p.timeBudget)
  const replaying = p.newOnly === true && ctx.sandboxes.baseline !== undefined
  const total = ctx.timeoutMs
  const casesShare = replaying ? TIME_SHARES.cases : TIME_SHARES.casesAlone
  const casesEnd = started + Math.max(0, Math.min(budget, total * casesShare))
  const requestEnd = started + total * TIME_SHARES.requestsEnd
  const targets = await resolveTargets(p, ctx.plan.dir, ctx.plan.fileRoots)
  if (targets.length === 0)
    throw new AdversarialUsageError(`${p.openapi ?? 'the block'}: no operation to attack`)
  const { candidate, baseline } = await sides(ctx, targets, replaying)
  const health = oracles.has('healthy') ? await healthRequest(ctx, targets) : undefined
  const healthTimeout = () => Math.max(1000, Math.min(5000, started + total - 500 - Date.now()))
  if (health) {
    const before = await healthy(ctx, candidate, health, healthTimeout())
    if (!before.ok)
      throw new AdversarialHealthError(
        `${health.method} ${health.path} on the candidate answered ${before.status} before any case was sent`,
      )
  }
  const checkHealth = async (after: string) => {
    if (!health) return
    const now = await healthy(ctx, candidate, health, healthTimeout())
    if (!now.ok)
      ctx.report({
        messageId: 'healthy',
        data: { request: `${health.method} ${health.path}`, status: now.status, after },
      })
  }
  const concurrency = Math.max(1, Math.min(p.concurrency ?? 4, 64))
  const caseTimeoutMs = caseTimeoutOf(p, total)
  const common = {
    targets,
    seed,
    maxBodyBytes,
    oracles,
    concurrency,
    requestEnd,
    planned: count,
    caseTimeoutMs,
  }
  const result = await runSide(ctx, {
    ...common,
    sandbox: candidate,
    count,
    deadline: casesEnd,
    // With a reset hook, health is checked after each phase, before the reset hides what it broke.
    afterPhase: (phase) => checkHealth(PHASE_WORDS[phase]),
  })
  if (!result) return

  let legacy = new Set<string>()
  let replay: SideResult | undefined
  if (replaying && baseline) {
    const indices = result.outcomes.filter((o) => o.case.kind !== 'control').map((o) => o.case.index)
    // At the requests' end the replay stops wherever it is (setup, a request, a reset), keeping what the
    // baseline answered before: a slow baseline makes the result partial, never the check late.
    const stop = new AbortController()
    const timer = setTimeout(
      () => stop.abort(new Error("the baseline replay's share of the check's time ran out")),
      Math.max(0, requestEnd - Date.now()),
    )
    try {
      replay = await runSide(
        {
          ...ctx,
          signal: AbortSignal.any([ctx.signal, stop.signal]),
          // What fails because the stop cut it (a setup request, a login) is not the baseline's failure.
          report: (descriptor) => {
            if (!stop.signal.aborted) ctx.report(descriptor)
          },
        },
        {
          ...common,
          sandbox: baseline,
          indices,
          deadline: started + total * (casesShare + TIME_SHARES.replay),
          strict: true,
          stop: stop.signal,
        },
      )
    } finally {
      clearTimeout(timer)
    }
    if (replay) legacy = new Set(collect(replay, oracles, targets).map(keyOf))
  } else if (p.newOnly) {
    ctx.report({ messageId: 'new-only-without-baseline', severity: 'info' })
  }
  if (!p.reset) await checkHealth('the cases')

  const items = collect(result, oracles, targets)
  const counted = items.filter((item) => !legacy.has(keyOf(item)))
  // A failure whose request the baseline never got (the replay ran out of time) cannot be shown to be old:
  // it counts, marked partial.
  const replayed = replay ? new Set(sentKeys(replay)) : undefined
  const unreplayed = (item: Item) => replayed !== undefined && !replayed.has(sentKey(item))
  for (const { item, count: n, members } of dedupe(counted))
    reportItem(ctx, item, n, seed, 'candidate', members.every(unreplayed), members)
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
  if (replay) reportCutShort(ctx, result, replay, counted.filter(unreplayed).length)
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
      timeouts: result.timedOut
        ? `; ${result.timedOut} requests got no answer within ${caseTimeoutMs} ms and were cut off`
        : '',
      replay: replay
        ? `; replayed ${requestsOf(replay)} of ${requestsOf(result)} requests on the baseline`
        : '',
    },
  })
}

/**
 * The sandboxes the cases go to: the run's, or with `isolation: sandbox` views in which every service the
 * targets use is a fresh copy started for this check (and stopped when it ends).
 */
async function sides(ctx: Ctx, targets: readonly Target[], replaying: boolean): Promise<CheckSandboxes> {
  const { candidate, baseline } = ctx.sandboxes
  if (ctx.params.isolation !== 'sandbox') return ctx.sandboxes
  if (!ctx.isolate) throw new AdversarialUsageError('isolation: sandbox is not offered where this check runs')
  const isolate = ctx.isolate
  const services = [
    ...new Set(targets.map((t) => t.service ?? ctx.params.service ?? candidate.defaultService)),
  ]
  ctx.progress(`starting isolated copies of ${services.join(', ')}`)
  const [c, b] = await Promise.all([
    isolate(candidate, services),
    replaying && baseline ? isolate(baseline, services) : Promise.resolve(baseline),
  ])
  return b ? { candidate: c, baseline: b } : { candidate: c }
}

/** A behavioural finding's place among its target's requests: after the probes, the same on both sides. */
function behaviourSequence(label: string): number {
  let h = 0
  for (const ch of label) h = (Math.imul(h, 31) + ch.charCodeAt(0)) >>> 0
  return 3e9 + (h % 1e6)
}

/** Requests a side was sent: valid requests, generated cases, probes and suggested cases. */
function requestsOf(side: SideResult): number {
  return side.outcomes.length + side.probes.length + side.suggested.length
}

/** The replay did not get every request the candidate got: its findings are partial, and it says so. */
function reportCutShort(ctx: Ctx, candidate: SideResult, replay: SideResult, unreplayed: number): void {
  const toReplay = requestsOf(candidate)
  const replayed = requestsOf(replay)
  const compared = new Set(replay.behaviourCompared)
  const uncompared = candidate.behaviourCompared.filter((k) => !compared.has(k)).length
  if (replayed >= toReplay && uncompared === 0 && !replay.stopped) return
  ctx.report({
    messageId: 'replay-cut-short',
    severity: 'warning',
    partial: true,
    data: {
      replayed,
      toReplay,
      why: replay.stopped ?? "its share of the check's time ran out",
      unreplayed,
    },
    evidence: evidence({
      transport: 'http',
      sandbox: 'baseline',
      summary: [{ label: 'replayed', value: `${replayed} of ${toReplay} requests` }],
      details: {
        partial: true,
        casesRun: candidate.sent,
        casesReplayed: replay.sent,
        requestsRun: toReplay,
        requestsReplayed: replayed,
        behaviouralProbesRun: candidate.behaviourCompared.length,
        behaviouralProbesReplayed: candidate.behaviourCompared.length - uncompared,
        unreplayedFailures: unreplayed,
      },
    }),
  })
}

/** A failure's identity across sandboxes: the same request (case index or probe) failing the same oracle. */
function keyOf(item: Item): string {
  return `${item.outcome.case.target.id}\0${item.sequence}\0${item.messageId}`
}

/** Which request (or behavioural probe) an item's failure came from: the same on both sides. */
function sentKey(item: Item): string {
  return item.compared ?? `${item.outcome.case.target.id}\0${item.sequence}`
}

/** The keys of every request a side was sent (see `sentKey`). */
function sentKeys(side: SideResult): string[] {
  const key = (c: Case, sequence: number) => `${c.target.id}\0${sequence}`
  return [
    ...side.outcomes.map((o) => key(o.case, o.case.kind === 'control' ? -1 : o.case.index)),
    ...side.probes.map(({ outcome, index }) => key(outcome.case, 1e9 + index)),
    ...side.suggested.map(({ outcome, index }) => key(outcome.case, 2e9 + index)),
    // A behavioural probe that ran to its end on the baseline was compared, whether it found anything or not.
    ...side.behaviourCompared,
  ]
}

/**
 * The differential oracle: at each site, the boolean pair's always-true answer against its always-false
 * one. Echoes are cut out first, so a service that repeats the value back is not taken for one that
 * evaluates it. A difference in status class, in rows, or in size beyond a tenth (and 16 bytes) is a
 * finding on the always-true case.
 */
function differentials(outcomes: readonly Outcome[], index: (c: Case) => number): Item[] {
  const halves = new Map<string, { truthy?: Outcome; falsy?: Outcome }>()
  for (const o of outcomes) {
    const c = o.case
    if (!c.pair || c.site === undefined) continue
    const key = `${c.target.id}\0${c.site}`
    const pair = halves.get(key) ?? {}
    pair[c.pair] = o
    halves.set(key, pair)
  }
  const items: Item[] = []
  for (const { truthy, falsy } of halves.values()) {
    const t = truthy?.exchange?.response
    const f = falsy?.exchange?.response
    if (!truthy || !falsy || !t || !f || t.status < 200 || t.status >= 300) continue
    const difference = compareAnswers(truthy, falsy)
    if (!difference) continue
    const c = truthy.case
    items.push({
      outcome: truthy,
      failure: { oracle: 'differential', status: t.status, data: { match: difference } },
      target: index(c),
      sequence: c.index,
      what: `case ${c.index} (${c.kind}: ${c.description})`,
      messageId: 'differential',
    })
  }
  return items
}

/** How two answers differ, in a phrase, or undefined when they do not (echoes of the requests cut out). */
function compareAnswers(a: Outcome, b: Outcome): string | undefined {
  const ra = a.exchange!.response
  const rb = b.exchange!.response
  if (Math.floor(ra.status / 100) !== Math.floor(rb.status / 100))
    return `always true got ${ra.status}, always false ${rb.status}`
  const rowsA = rowCount(ra.body)
  const rowsB = rowCount(rb.body)
  if (rowsA !== undefined && rowsB !== undefined && rowsA !== rowsB) return `${rowsA} rows against ${rowsB}`
  const cut = (o: Outcome) => withoutEchoes(o.exchange!.response.body, sentBy(o.case.request))
  const la = Buffer.byteLength(cut(a))
  const lb = Buffer.byteLength(cut(b))
  if (Math.abs(la - lb) > Math.max(16, Math.max(la, lb) / 10)) return `${la} bytes against ${lb}`
  return undefined
}

function collect(plan: SideResult, oracles: ReadonlySet<OracleName>, targets: readonly Target[]): Item[] {
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
  if (oracles.has('differential')) items.push(...differentials(plan.outcomes, index))
  for (const { probe, outcome, index: i } of plan.probes) {
    const sequence = 1e9 + i
    const what = `probe: ${probe.label}`
    for (const failure of outcome.failures)
      items.push({ outcome, failure, target: index(outcome.case), sequence, what, messageId: failure.oracle })
    const status = outcome.exchange?.response.status ?? 0
    if (!oracles.has('authz') || probe.expected.includes(status)) continue
    // Another principal's 404 means nothing if the owner cannot read the resource either.
    const control = controls.get(outcome.case.target.id)?.exchange?.response.status
    if (probe.foreign && (control === undefined || control < 200 || control >= 300)) continue
    items.push({
      outcome,
      failure: { oracle: 'authz', status },
      target: index(outcome.case),
      sequence,
      what,
      expected: probe.expected.join(' or '),
      messageId: 'authz',
    })
  }
  for (const { probe, outcome, stuck, index: i } of plan.probes) {
    if (!stuck || !probe.readBack) continue
    items.push({
      outcome,
      failure: {
        oracle: 'read-back',
        status: outcome.exchange?.response.status ?? 0,
        data: {
          leak: `${stuck.case.request.method} ${stuck.case.request.path.split('?')[0]}`,
          match: `the value it wrote ("${probe.readBack.marker}")`,
        },
      },
      target: index(outcome.case),
      sequence: 1e9 + i,
      what: `probe: ${probe.label}`,
      messageId: 'foreign-write',
    })
  }
  for (const b of plan.behaviour)
    items.push({
      outcome: b.outcome,
      failure: { oracle: b.oracle, status: b.outcome.exchange?.response.status ?? 0, data: b.data },
      target: index(b.outcome.case),
      sequence: behaviourSequence(b.key ?? b.label),
      what: `probe: ${b.label}`,
      messageId: b.messageId,
      compared: comparedKey(b.outcome.case.target.id, b.oracle),
      probe: b.key ?? b.label,
    })
  for (const crash of plan.crashed ?? []) {
    const c = crash.by.case
    const others = crash.alongside.length ? `; in flight with ${crash.alongside.length} other requests` : ''
    items.push({
      outcome: crash.by,
      failure: {
        oracle: 'no-server-error',
        status: 0,
        data: {
          match: `${crash.by.error?.message ?? 'no response'}${others}`,
          leak: String(crash.skipped),
        },
      },
      target: index(c),
      sequence: c.index,
      what:
        c.kind === 'control'
          ? 'the valid request'
          : c.kind === 'probe'
            ? `probe: ${c.description}`
            : `case ${c.index} (${c.kind}: ${c.description})`,
      messageId: 'crashed',
    })
  }
  for (const { suggested, outcome, index: i } of plan.suggested) {
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
  }
  return items
}
