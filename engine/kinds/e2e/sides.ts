/**
 * `sides: both`: the steps run on the baseline and on the candidate, each side with its own variables
 * and captures, at the same time. A failure is then judged against the baseline's: the same step failing
 * the same way there (same message id and pointer, header or variable; the values may differ) is
 * pre-existing — a warning that says so — and a failure only the candidate has is new, an error. A step the
 * baseline never reached (it stopped earlier) cannot be compared and counts as new.
 */
import type { CheckContext, ReportDescriptor, Variables } from '../../api/kind.js'
import type { Sandbox } from '../../api/sandbox.js'
import type { Variables as RunVariables } from '../../vars.js'
import type { E2eParams } from './schema.js'
import { isFailure, markPreExisting } from '../../api/comparison/pre-existing.js'

type Ctx = CheckContext<E2eParams, 'http'>
type RunSteps = (ctx: Ctx, vars: Variables, side: Sandbox) => Promise<void>

/** What makes two failures of a step the same failure, whatever the values. */
function signature(d: ReportDescriptor): string {
  const where = d.pointer ?? d.data?.header ?? d.data?.variable ?? ''
  return `${d.step ?? ''}\0${d.messageId ?? d.message ?? ''}\0${String(where)}`
}

/** The variables of one side: a fork resolving that side's services, with its own captures. */
function sideVars(ctx: Ctx, side: Sandbox): Variables {
  const vars = ctx.vars as Variables & Partial<Pick<RunVariables, 'fork'>>
  if (!vars.fork) throw new Error('sides: both needs variables that can be forked per sandbox')
  const services = Object.fromEntries(Object.entries(side.services).map(([k, v]) => [k, v.url]))
  return vars.fork(services, side.defaultService)
}

export async function runOnBothSides(ctx: Ctx, runSteps: RunSteps): Promise<void> {
  const { candidate, baseline } = ctx.sandboxes
  if (!baseline) {
    ctx.report({ messageId: 'sides-without-baseline', severity: 'info' })
    return runSteps(ctx, ctx.vars, candidate)
  }
  // One side failing to run (a thrown error) stops the other: the check is errored either way.
  const stop = new AbortController()
  const signal = AbortSignal.any([ctx.signal, stop.signal])
  const onSide = async (side: Sandbox): Promise<ReportDescriptor[]> => {
    const reports: ReportDescriptor[] = []
    const sideCtx: Ctx = { ...ctx, signal, report: (d) => void reports.push(d) }
    try {
      await runSteps(sideCtx, sideVars(ctx, side), side)
    } catch (error) {
      stop.abort(error)
      throw error
    }
    return reports
  }
  const [base, cand] = await Promise.all([onSide(baseline), onSide(candidate)])
  for (const d of judge(base, cand)) ctx.report(d)
}

/** The candidate's reports judged against the baseline's, then what only the baseline failed. */
export function judge(base: ReportDescriptor[], cand: ReportDescriptor[]): ReportDescriptor[] {
  const baseFailures = new Set(base.filter(isFailure).map(signature))
  const baseNotRun = new Map(
    base.filter((d) => d.messageId === 'not-run').map((d) => [d.step, String(d.data?.failed ?? '')]),
  )
  const out: ReportDescriptor[] = []
  const uncompared = new Set<string>()
  for (const d of markPreExisting(cand, baseFailures, signature)) {
    out.push(d)
    if (!isFailure(d)) continue
    const stoppedAt = d.step !== undefined ? baseNotRun.get(d.step) : undefined
    if (stoppedAt !== undefined && !uncompared.has(d.step!)) {
      uncompared.add(d.step!)
      out.push({
        messageId: 'baseline-stopped',
        severity: 'info',
        step: d.step,
        data: { step: d.step, failed: stoppedAt },
      })
    }
  }
  const candFailures = new Set(cand.filter(isFailure).map(signature))
  const candNotRun = new Set(cand.filter((d) => d.messageId === 'not-run').map((d) => d.step))
  for (const d of base) {
    if (!isFailure(d) || candFailures.has(signature(d)) || candNotRun.has(d.step)) continue
    out.push({
      messageId: 'baseline-only',
      severity: 'info',
      step: d.step,
      data: { step: d.step, what: d.messageId ?? 'failed' },
      ...(d.evidence ? { evidence: d.evidence } : {}),
    })
  }
  return out
}
