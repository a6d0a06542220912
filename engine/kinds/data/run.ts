/** The data kind's run: the steps on the candidate; with a baseline, twice there, then rows compared. */
import { formatValue } from '../../api/assertions.js'
import { diffJson } from '../../api/comparison/diff.js'
import { PointerMatcher } from '../../api/comparison/ignore.js'
import { databaseOf, runDataSteps, type StepsOutcome } from '../../api/data-steps.js'
import type { CheckContext } from '../../api/kind.js'
import type { Sandbox } from '../../api/sandbox.js'
import type { DataParams } from './schema.js'

type DataContext = CheckContext<DataParams, 'http' | 'database'>

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
