/**
 * A `load` check with `engine: k6-operator`: the same generated k6 script as the local k6 engine, run
 * in the candidate's cluster by the k6-operator against the service's in-cluster URL. k6 judges the
 * plan's thresholds on every runner; vigil reports each runner's outcome.
 */
import { randomBytes } from 'node:crypto'
import { httpEvidence } from '../../../api/evidence.js'
import type { CheckContext } from '../../../api/kind.js'
import { LoadSafetyError } from '../errors.js'
import { generateK6Script } from '../k6/script.js'
import type { LoadParams, LoadSpec } from '../spec.js'
import { clusterOf } from '../../../kubernetes/cluster-info.js'
import { ClusterJobError } from '../../../kubernetes/errors.js'
import { runTestRun } from './k6-operator.js'

export async function runLoadOnOperator(
  ctx: CheckContext<LoadParams, 'http'>,
  spec: LoadSpec,
): Promise<void> {
  const candidate = ctx.sandboxes.candidate
  const cluster = clusterOf(candidate)
  if (!cluster) {
    throw new LoadSafetyError(
      'engine: k6-operator runs load inside the cluster; it needs `sandbox.provider: kubernetes`',
    )
  }
  if (spec.script)
    throw new LoadSafetyError('engine: k6-operator runs the generated script; remove `k6.script`')
  if (spec.thresholds.length === 0) {
    throw new LoadSafetyError(
      'engine: k6-operator judges the run by k6 thresholds (k6 exits 99 when they fail); add `thresholds:`',
    )
  }
  const baseUrl = cluster.inClusterUrls[spec.service]
  if (!baseUrl) throw new LoadSafetyError(`engine: k6-operator: the sandbox has no service "${spec.service}"`)
  if (spec.regression?.explicit && ctx.sandboxes.baseline) {
    ctx.report({
      severity: 'info',
      message: 'Regression against the baseline is not measured with the k6-operator; only thresholds are.',
    })
  }
  const parallelism = spec.k6Operator?.parallelism ?? 1
  const result = await runTestRun({
    client: cluster.client,
    namespace: cluster.namespace,
    runId: randomBytes(4).toString('hex'),
    name: ctx.check.id,
    script: generateK6Script(spec, { durationMs: spec.durationMs, sandboxHeaders: candidate.headers }),
    parallelism,
    arguments: `-e VIGIL_BASE_URL=${baseUrl} -e VIGIL_SIDE=candidate`,
    ...(spec.k6Operator?.image ? { runnerImage: spec.k6Operator.image } : {}),
    timeoutMs: ctx.timeoutMs,
    signal: ctx.signal,
    progress: (note) => ctx.progress(note),
  })
  const runners = result.runners.map(
    (r) => `${r.job}: ${r.outcome}${r.exitCode !== undefined ? ` (exit ${r.exitCode})` : ''}`,
  )
  const evidence = httpEvidence({
    sandbox: 'candidate',
    more: [{ label: 'test run', value: `${result.testRun} (${result.stage})` }],
    details: { testRun: result.testRun, stage: result.stage, runners: result.runners },
  })
  if (result.passed) {
    ctx.report({
      severity: 'info',
      message: `k6-operator: TestRun ${result.testRun} finished; ${runners.length} of ${parallelism} runners passed the thresholds.`,
      evidence,
    })
    return
  }
  if (
    result.thresholdsFailed &&
    result.runners.every((r) => r.outcome === 'passed' || r.outcome === 'thresholds-failed')
  ) {
    ctx.report({
      message: `k6 thresholds failed on the k6-operator runners (${spec.thresholds.map((t) => `${t.metric} ${t.source}`).join(', ')}): ${runners.join('; ')}.`,
      expected: spec.thresholds.map((t) => `${t.metric} ${t.source}`),
      actual: runners,
      evidence,
    })
    return
  }
  throw new ClusterJobError(
    `k6-operator: TestRun ${result.testRun} ended in stage ${result.stage}: ${runners.join('; ') || 'no runner Job'}`,
  )
}
