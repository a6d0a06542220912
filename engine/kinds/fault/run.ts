/**
 * The fault check's run, on each side: a fault proxy in front of the callee, a fresh copy of the caller
 * wired to it, the steps under the fault, the attempts the proxy saw, then the fault lifted and the
 * recovery steps. With a baseline both sides run; the candidate's failures the baseline shares are
 * pre-existing.
 */
import { runHttpStep, runStepsInOrder, type HttpStep } from '../../api/http-step.js'
import { isFailure, markPreExisting } from '../../api/comparison/pre-existing.js'
import type { CheckContext, ReportDescriptor, Variables } from '../../api/kind.js'
import type { Sandbox } from '../../api/sandbox.js'
import { describeFault, type Fault, type ProxyCounts } from '../../clients/faults.js'
import type { Variables as RunVariables } from '../../vars.js'
import type { FaultParams } from './schema.js'
import { isTcpFault, parseEdge, toFault } from './spec.js'

type Ctx = CheckContext<FaultParams, 'http' | 'faults'>

/** What makes two failures the same on both sides, whatever the values. */
function signature(d: ReportDescriptor): string {
  return `${d.step ?? ''}\0${d.messageId ?? d.message ?? ''}\0${d.pointer ?? ''}`
}

export async function runFault(ctx: Ctx): Promise<void> {
  const fault = toFault(ctx.params.fault)
  const { candidate, baseline } = ctx.sandboxes
  if (!baseline || ctx.params.sides === 'candidate') {
    for (const d of await runSide(ctx, ctx.vars, candidate, fault)) ctx.report(d)
    return
  }
  const [base, cand] = await Promise.all([
    runSide(ctx, sideVars(ctx, baseline), baseline, fault),
    runSide(ctx, sideVars(ctx, candidate), candidate, fault),
  ])
  const baseFailures = new Set(base.filter(isFailure).map(signature))
  for (const d of markPreExisting(cand, baseFailures, signature)) ctx.report(d)
  // What the baseline's proxy saw is part of the comparison's record.
  for (const d of base) if (d.messageId === 'applied') ctx.report(d)
}

/** The variables of one side: a fork resolving that side's services, with its own captures. */
function sideVars(ctx: Ctx, side: Sandbox): Variables {
  const vars = ctx.vars as Variables & Partial<Pick<RunVariables, 'fork'>>
  if (!vars.fork) return ctx.vars
  return vars.fork(
    Object.fromEntries(Object.entries(side.services).map(([k, v]) => [k, v.url])),
    side.defaultService,
  )
}

/** Where the edge goes on one side, and whether the proxy speaks HTTP or TCP to it. */
function edgeTarget(ctx: Ctx, side: Sandbox, fault: Fault): { from: string; to: string; url: string } {
  const { from, to } = parseEdge(ctx.params.edge)
  const where = `edge "${ctx.params.edge}" on the ${side.name} sandbox`
  if (!side.services[from])
    throw new Error(`${where}: no service "${from}"; it has ${Object.keys(side.services).join(', ')}`)
  const service = side.services[to]
  if (service) {
    const calls = side.dependencies?.[from]
    if (calls && !calls.includes(to))
      throw new Error(
        `${where}: ${from} does not call ${to} (its command and env refer to ${calls.join(', ') || 'no service'})`,
      )
    return { from, to, url: service.url }
  }
  const dep = side.deps?.[to]
  if (!dep) {
    const known = [...Object.keys(side.services), ...Object.keys(side.deps ?? {})].sort()
    throw new Error(`${where}: no service or dependency "${to}"; it has ${known.join(', ')}`)
  }
  if (!isTcpFault(fault))
    throw new Error(
      `${where}: ${to} is a ${dep.kind} dependency, faulted at the TCP level: use hang, reset or latency`,
    )
  return { from, to, url: dep.url }
}

async function runSide(ctx: Ctx, vars: Variables, side: Sandbox, fault: Fault): Promise<ReportDescriptor[]> {
  if (!ctx.isolate)
    throw new Error('the fault kind needs a run that can start copies of services; this one cannot')
  const { from, to, url } = edgeTarget(ctx, side, fault)
  const reports: ReportDescriptor[] = []
  const proxy = await ctx.clients.faults.start(url)
  try {
    ctx.progress(`${side.name}: starting ${from} with ${to} behind a fault proxy`)
    const copy = await ctx.isolate(side, [from], { edges: { [to]: { host: proxy.host, port: proxy.port } } })
    proxy.resetCounts()
    proxy.setFault(fault)
    const stepCtx = { ...ctx, report: (d: ReportDescriptor) => void reports.push(d) }
    await runSteps(stepCtx, vars, copy, ctx.params.steps, from)
    const counts = proxy.counts()
    proxy.setFault(undefined)
    const faultLine = {
      label: 'fault',
      value: `${ctx.params.edge}: ${describeFault(fault)}; the proxy saw ${counts.attempts} attempts (${counts.faulted} faulted)`,
    }
    const during = reports.splice(0).map((d) => withLine(d, faultLine))
    reports.push(...during, ...attemptReports(ctx, side, fault, counts))
    if (ctx.params.recovery) await runSteps(stepCtx, vars, copy, ctx.params.recovery, from)
    reports.push({
      severity: 'info',
      messageId: 'applied',
      data: {
        side: side.name,
        fault: describeFault(fault),
        edge: ctx.params.edge,
        attempts: counts.attempts,
        faulted: counts.faulted,
      },
    })
    return reports
  } finally {
    await proxy.close()
  }
}

/** Runs the steps in order until one fails; those after it are reported as not run. */
async function runSteps(
  ctx: Ctx,
  vars: Variables,
  side: Sandbox,
  steps: HttpStep[],
  caller: string,
): Promise<void> {
  await runStepsInOrder(ctx, steps, (step) =>
    runHttpStep({ ctx, vars, side }, { ...step, service: step.service ?? caller }),
  )
}

function attemptReports(ctx: Ctx, side: Sandbox, fault: Fault, counts: ProxyCounts): ReportDescriptor[] {
  const { min, max } = ctx.params.attempts ?? {}
  const data = { edge: ctx.params.edge, fault: describeFault(fault), actual: counts.attempts }
  const evidence = {
    transport: 'fault',
    sandbox: side.name,
    summary: [
      { label: 'edge', value: `${ctx.params.edge} (${side.name})` },
      { label: 'fault', value: describeFault(fault) },
      {
        label: 'proxy',
        value: `${counts.attempts} attempts, ${counts.faulted} faulted, ${counts.forwarded} forwarded`,
      },
    ],
    details: { fault, counts },
  }
  const out: ReportDescriptor[] = []
  if (max !== undefined && counts.attempts > max)
    out.push({
      messageId: 'attempts-max',
      data: { ...data, expected: max },
      expected: max,
      actual: counts.attempts,
      evidence,
    })
  if (min !== undefined && counts.attempts < min)
    out.push({
      messageId: 'attempts-min',
      data: { ...data, expected: min },
      expected: min,
      actual: counts.attempts,
      evidence,
    })
  return out
}

function withLine(d: ReportDescriptor, line: { label: string; value: string }): ReportDescriptor {
  return d.evidence ? { ...d, evidence: { ...d.evidence, summary: [...d.evidence.summary, line] } } : d
}
