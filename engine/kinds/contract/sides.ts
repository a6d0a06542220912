/**
 * `sides: both` for contract checks: every request also goes to the baseline (once, unsafe methods
 * included) and the baseline's answer is held to the same expectations. A violation the baseline has too
 * (same message id and pointer) is pre-existing — a warning that says so — and one only the candidate has
 * is new. Setup runs on both sides first, judged the same way.
 */
import type { CheckContext, ReportDescriptor } from '../../api/kind.js'
import { runSetup, type SetupOutcome } from '../../api/setup.js'
import type { Sandbox } from '../../api/sandbox.js'
import type { ContractParams } from './params.js'
import { markPreExisting } from '../../api/comparison/pre-existing.js'

type Ctx = CheckContext<ContractParams, 'http'>

/** What makes a violation on the candidate the same as one on the baseline, whatever the values. */
export function signature(d: Pick<ReportDescriptor, 'messageId' | 'pointer' | 'step'>): string {
  return `${d.step ?? ''}\0${d.messageId ?? ''}\0${d.pointer ?? ''}`
}

/** The candidate's reports, those the baseline shares turned into pre-existing warnings. */
export function judged(
  found: readonly ReportDescriptor[],
  baseline: ReadonlySet<string>,
): ReportDescriptor[] {
  return markPreExisting(found, baseline, signature)
}

/** Setup on both sides at once; the candidate's failures the baseline shares are pre-existing. */
export async function setupBothSides(
  ctx: Ctx,
  candidate: Sandbox,
  baseline: Sandbox,
): Promise<{ candidate: SetupOutcome; baseline: SetupOutcome }> {
  const side = async (sandbox: Sandbox) => {
    const reports: ReportDescriptor[] = []
    const outcome = await runSetup({ ...ctx, report: (d) => void reports.push(d) }, sandbox)
    return { outcome, reports }
  }
  const [c, b] = await Promise.all([side(candidate), side(baseline)])
  const shared = new Set(b.reports.map(signature))
  for (const d of judged(c.reports, shared)) ctx.report(d)
  // A baseline whose setup fails cannot be compared with: a warning (not the change's), unless the
  // candidate fails the same way (then the candidate's pre-existing warning says it).
  for (const d of b.reports)
    if (!c.reports.some((x) => signature(x) === signature(d))) ctx.report({ ...d, severity: 'warning' })
  return { candidate: c.outcome, baseline: b.outcome }
}
