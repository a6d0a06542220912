/**
 * The race check's run on each side: for each round the setup steps, the racing requests released
 * together, then the invariant steps; one finding for the rounds that broke an invariant, with the first
 * broken round as evidence. The sides run one after the other: a race is sensitive to what else the
 * machine does.
 */
import { runHttpStep, type HttpStep } from '../../api/http-step.js'
import { evidence, shellQuote } from '../../api/evidence.js'
import { isFailure, markPreExisting } from '../../api/comparison/pre-existing.js'
import type { CheckContext, ReportDescriptor, Variables } from '../../api/kind.js'
import { serviceUrl, type Sandbox } from '../../api/sandbox.js'
import { parseRequestLine } from '../../api/vocabulary.js'
import type { Variables as RunVariables } from '../../vars.js'
import { seededRandom } from '../../api/random.js'
import { release, shuffled, type RaceRequest, type RaceResponse } from './release.js'
import type { RaceParams } from './schema.js'

type Ctx = CheckContext<RaceParams, 'http'>

interface BrokenRound {
  round: number
  order: number[]
  requests: RaceRequest[]
  responses: RaceResponse[]
  failures: ReportDescriptor[]
}

const signature = (d: ReportDescriptor): string => `${d.step ?? ''}\0${d.messageId ?? ''}`

export async function runRace(ctx: Ctx): Promise<void> {
  const { candidate, baseline } = ctx.sandboxes
  const both = baseline !== undefined && ctx.params.sides !== 'candidate'
  const cand = await runSide(ctx, both ? sideVars(ctx, candidate) : ctx.vars, candidate)
  if (!both) {
    for (const d of cand) ctx.report(d)
    return
  }
  const base = await runSide(ctx, sideVars(ctx, baseline), baseline)
  const baseFailures = new Set(base.filter(isFailure).map(signature))
  for (const d of markPreExisting(cand, baseFailures, signature)) ctx.report(d)
  for (const d of base) if (d.messageId === 'rounds') ctx.report(d)
}

function sideVars(ctx: Ctx, side: Sandbox): Variables {
  const vars = ctx.vars as Variables & Partial<Pick<RunVariables, 'fork'>>
  if (!vars.fork) return ctx.vars
  const services = Object.fromEntries(Object.entries(side.services).map(([k, v]) => [k, v.url]))
  return vars.fork(services, side.defaultService)
}

/** The racing requests of one round, rendered with `{{round}}` and `{{index}}` set. */
function racingRequests(
  ctx: Ctx,
  vars: Variables,
  side: Sandbox,
  service: string,
  round: number,
): RaceRequest[] {
  vars.set('round', round)
  return Array.from({ length: ctx.params.concurrency }, (_, index) => {
    vars.set('index', index)
    const request = vars.render(parseRequestLine(ctx.params.request))
    const query = new URLSearchParams()
    for (const [k, v] of Object.entries(request.query ?? {}))
      for (const item of Array.isArray(v) ? v : [v]) query.append(k, String(item))
    const search = query.size ? `?${query}` : ''
    const headers: Record<string, string> = {
      ...side.headers,
      ...request.headers,
      ...vars.render(ctx.params.headers ?? {}),
    }
    let body = request.body
    if (request.json !== undefined) {
      body = JSON.stringify(request.json)
      headers['content-type'] ??= 'application/json'
    }
    return {
      method: request.method,
      url: serviceUrl(side, service, request.path + search),
      headers,
      ...(body !== undefined ? { body } : {}),
    }
  })
}

/** Runs steps with their reports collected; true when none failed. */
async function steps(ctx: Ctx, vars: Variables, side: Sandbox, list: HttpStep[], service: string) {
  const reports: ReportDescriptor[] = []
  const stepCtx = { ...ctx, report: (d: ReportDescriptor) => void reports.push(d) }
  for (const step of list)
    await runHttpStep({ ctx: stepCtx, vars, side }, { ...step, service: step.service ?? service })
  return reports
}

async function runSide(ctx: Ctx, vars: Variables, side: Sandbox): Promise<ReportDescriptor[]> {
  const { concurrency } = ctx.params
  const rounds = ctx.params.rounds ?? 5
  const service = ctx.params.service ?? side.defaultService
  const random = seededRandom(ctx.seed)
  const broken: BrokenRound[] = []
  for (let round = 1; round <= rounds; round++) {
    if (ctx.signal.aborted) throw ctx.signal.reason
    ctx.progress(`${side.name}: round ${round} of ${rounds}`)
    const setup = await steps(ctx, vars, side, ctx.params.setup ?? [], service)
    const setupFailure = setup.find(isFailure)
    if (setupFailure) return [...setup.filter(isFailure)]
    const requests = racingRequests(ctx, vars, side, service, round)
    const order = shuffled(concurrency, random)
    const responses = await release(requests, order, Math.max(1, ctx.timeoutMs), ctx.signal)
    const failures = (await steps(ctx, vars, side, ctx.params.invariants, service)).filter(isFailure)
    if (failures.length) broken.push({ round, order, requests, responses, failures })
  }
  const out: ReportDescriptor[] = [
    {
      severity: 'info',
      messageId: 'rounds',
      data: { side: side.name, broken: broken.length, rounds, concurrency },
    },
  ]
  const first = broken[0]
  if (first) out.unshift(brokenReport(ctx, side, first, broken.length, rounds))
  return out
}

/** One sentence for an invariant step's failure: its step, where and what. */
function describeFailure(d: ReportDescriptor): string {
  const what = d.data?.detail ?? `expected ${JSON.stringify(d.expected)}, got ${JSON.stringify(d.actual)}`
  return `step "${d.step}"${d.pointer ? ` ${d.pointer}` : ''}: ${String(what)}`
}

function brokenReport(
  ctx: Ctx,
  side: Sandbox,
  round: BrokenRound,
  broken: number,
  rounds: number,
): ReportDescriptor {
  const first = round.requests[0]!
  const label = `${first.method} ${new URL(first.url).pathname}`
  const tally = new Map<string, number>()
  for (const r of round.responses) {
    const key = r.status ? String(r.status) : 'no response'
    tally.set(key, (tally.get(key) ?? 0) + 1)
  }
  const curl = ['curl', '-sS', '-X', first.method, shellQuote(first.url)]
  for (const [k, v] of Object.entries(first.headers)) curl.push('-H', shellQuote(`${k}: ${v}`))
  if (first.body !== undefined) curl.push('--data-binary', shellQuote(first.body))
  const detail = round.failures.map(describeFailure).join('; ')
  return {
    messageId: 'broken',
    data: {
      broken,
      rounds,
      concurrency: ctx.params.concurrency,
      request: label,
      round: round.round,
      seed: ctx.seed,
      detail,
    },
    ...(round.failures[0]?.step !== undefined ? { step: round.failures[0].step } : {}),
    expected: 'every invariant holds after every round',
    actual: `${broken} of ${rounds} rounds broke one`,
    evidence: evidence({
      transport: 'race',
      sandbox: side.name,
      summary: [
        {
          label: 'round',
          value: `${round.round} of ${rounds} (seed ${ctx.seed}, release order ${round.order.join(' ')})`,
        },
        {
          label: 'requests',
          value: `${round.requests.length} × ${first.method} ${first.url} (${side.name})`,
        },
        { label: 'responses', value: [...tally].map(([status, n]) => `${status} ×${n}`).join(', ') },
        { label: 'invariant', value: detail },
      ],
      excerpt: {
        label: 'responses in release order',
        text: round.order
          .map((i) => {
            const r = round.responses[i]!
            return `#${i} ${r.status || r.error} ${r.body.replace(/\s+/g, ' ').slice(0, 160)}`
          })
          .join('\n'),
      },
      reproduce: `for i in $(seq ${round.requests.length}); do ${curl.join(' ')} & done; wait`,
      details: {
        round: round.round,
        seed: ctx.seed,
        order: round.order,
        requests: round.requests,
        responses: round.responses,
        invariants: round.failures.map((f) => ({
          step: f.step,
          messageId: f.messageId,
          expected: f.expected,
          actual: f.actual,
        })),
      },
    }),
  }
}
