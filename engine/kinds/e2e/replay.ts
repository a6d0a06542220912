/**
 * Replaying an e2e finding: the steps up to and including the one that failed (so the captures the later
 * steps use exist), on the candidate and then on the baseline, each with its own services' URLs.
 */
import { ReplayError } from '../../api/replay.js'
import type { CheckContext, Variables } from '../../api/kind.js'
import type { Finding } from '../../verdict.js'
import type { E2eParams } from './schema.js'

type Ctx = CheckContext<E2eParams, 'http'>

export async function replaySteps(
  ctx: Ctx,
  finding: Finding,
  run: (ctx: Ctx) => Promise<void>,
): Promise<void> {
  const steps = ctx.params.steps
  const index =
    finding.step === undefined ? steps.length - 1 : steps.findIndex((s) => s.name === finding.step)
  if (index < 0) {
    throw new ReplayError(
      `step "${finding.step}" is no longer in the check; its steps are ${steps.map((s) => `"${s.name}"`).join(', ')}`,
    )
  }
  const params = { ...ctx.params, steps: steps.slice(0, index + 1) }
  await run({ ...ctx, params })
  const baseline = ctx.sandboxes.baseline
  if (!baseline) return
  const urls = Object.fromEntries(Object.entries(baseline.services).map(([name, s]) => [name, s.url]))
  const scoped = (ctx.vars as Variables & { scoped?(s: Record<string, string>, d?: string): Variables })
    .scoped
  const vars = scoped ? scoped.call(ctx.vars, urls, baseline.defaultService) : ctx.vars
  // Steps that name no sandbox run on the candidate: here the baseline plays it.
  await run({ ...ctx, vars, params, sandboxes: { candidate: baseline } })
}
