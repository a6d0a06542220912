/** The data kind's run: the steps on the candidate; with a baseline, twice there, then rows compared. */
import { CheckSkipped } from '../../errors.js'
import { formatValue } from '../../api/assertions.js'
import { diffJson } from '../../api/comparison/diff.js'
import { PointerMatcher } from '../../api/comparison/ignore.js'
import { runDataSteps, type StepsOutcome } from '../../api/data-steps.js'
import type { CheckContext } from '../../api/kind.js'
import type { Sandbox } from '../../api/sandbox.js'
import type { DependencyEndpoint } from '../../api/dependency.js'
import type { DataParams } from './schema.js'

type DataContext = CheckContext<DataParams, 'http' | 'database'>

/** The database a block queries on one sandbox; none there skips the check. */
export function databaseOf(sandbox: Sandbox, name: string | undefined): DependencyEndpoint {
  const all = Object.values(sandbox.deps ?? {}).filter((d) => d.kind === 'postgres')
  if (name !== undefined) {
    const found = all.find((d) => d.name === name)
    if (!found) {
      throw new CheckSkipped(
        `the ${sandbox.name} sandbox has no postgres dependency "${name}" (it has ${all.map((d) => d.name).join(', ') || 'none'})`,
      )
    }
    return found
  }
  if (all.length === 1) return all[0]!
  if (all.length === 0)
    throw new CheckSkipped(`the ${sandbox.name} sandbox has no database (a postgres dependency)`)
  throw new Error(
    `the ${sandbox.name} sandbox has several databases (${all.map((d) => d.name).join(', ')}); name one with database:`,
  )
}

export async function runData(ctx: DataContext): Promise<void> {
  const { params } = ctx
  const defaults = {
    ...(params.service ? { service: params.service } : {}),
    ...(params.headers ? { headers: params.headers } : {}),
    timeoutMs: Math.max(1_000, ctx.timeoutMs),
  }
  const run = (sandbox: Sandbox, report: DataContext['report']): Promise<StepsOutcome> =>
    runDataSteps({ ...ctx, report }, sandbox, databaseOf(sandbox, params.database), params.steps, defaults)
  const candidate = await run(ctx.sandboxes.candidate, ctx.report)
  const baseline = ctx.sandboxes.baseline
  const compare =
    params.compare === 'baseline' || (typeof params.compare === 'object' && params.compare.baseline !== false)
  if (!candidate.ok || !compare || !baseline) return
  // Twice: what differs between two baseline runs (generated ids, times) is noise, not the change.
  const reasons: string[] = []
  const quiet: DataContext['report'] = (d) => reasons.push(String(d.data?.step ?? d.messageId))
  const primary = await run(baseline, quiet)
  const secondary = primary.ok ? await run(baseline, quiet) : primary
  if (!primary.ok || !secondary.ok) {
    ctx.report({
      messageId: 'baseline-failed',
      severity: 'warning',
      data: { reason: `step ${reasons[0]} failed` },
    })
    return
  }
  const ignore = typeof params.compare === 'object' ? (params.compare.ignore ?? []) : []
  candidate.sql.forEach((got, i) => {
    const base = primary.sql[i]
    if (!base) return
    // Noise excuses a different value only: a value that became null or went missing is still a finding.
    const noise = new Set(diffJson(base.rows, secondary.sql[i]?.rows ?? []).map((g) => g.path))
    const matcher = new PointerMatcher(ignore)
    for (const group of diffJson(base.rows, got.rows, { ignore: matcher })) {
      if (group.kind === 'value' && noise.has(group.path)) continue
      const example = group.examples[0]
      ctx.report({
        messageId: 'differs',
        step: got.step,
        pointer: example?.pointer ?? group.path,
        data: {
          step: got.step,
          path: group.path,
          kind: group.kind,
          baseline: formatValue(example?.baseline),
          candidate: formatValue(example?.candidate),
        },
        expected: example?.baseline,
        actual: example?.candidate,
        evidence: got.evidence,
      })
    }
  })
}
