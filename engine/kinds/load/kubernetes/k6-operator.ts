/**
 * Distributed load through the k6-operator: the generated k6 script in a ConfigMap, a `TestRun`
 * (`k6.io/v1alpha1`) with `parallelism`, watched until its stage is `finished` or `error`. Pass or fail
 * comes from the runner Jobs' outcome — k6 exits 99 when thresholds fail, and a `finished` stage alone
 * does not mean passed. The TestRun and ConfigMap are deleted afterwards, whatever happened.
 */
import {
  describeRef,
  refOf,
  terminatedState,
  type KubeClient,
  type KubeObject,
} from '../../../kubernetes/client.js'
import { ClusterJobError } from '../../../kubernetes/errors.js'
import { MANAGED_BY, RUN_ID_LABEL, dnsLabel } from '../../../kubernetes/labels.js'
import { poll } from '../../../kubernetes/wait.js'

/** k6's exit code when thresholds failed. */
export const K6_THRESHOLDS_EXIT = 99
/** The label the k6-operator puts on the runner Jobs (and their pods): the TestRun's name. */
export const K6_CR_LABEL = 'k6_cr'

export interface TestRunOptions {
  client: KubeClient
  namespace: string
  /** Names the ConfigMap and TestRun (with the run id). */
  name: string
  runId: string
  /** The k6 script (from ../k6/script.ts). */
  script: string
  /** k6 runner pods. @default 1 */
  parallelism?: number
  /** Extra `k6 run` arguments, e.g. `-e VIGIL_BASE_URL=http://svc.ns.svc:8080`. */
  arguments?: string
  /** The runner image. @default the operator's (grafana/k6) */
  runnerImage?: string
  timeoutMs: number
  signal?: AbortSignal
  /** @default 1000 */
  pollIntervalMs?: number
  /** Progress notes. */
  progress?(note: string): void
}

export type RunnerOutcome = 'passed' | 'thresholds-failed' | 'failed' | 'unknown'

export interface RunnerResult {
  job: string
  outcome: RunnerOutcome
  exitCode?: number
}

export interface TestRunResult {
  testRun: string
  stage: 'finished' | 'error'
  runners: RunnerResult[]
  /** Every runner exited 0 and the stage is `finished`. */
  passed: boolean
  thresholdsFailed: boolean
}

export function testRunObjects(o: TestRunOptions): { configMap: KubeObject; testRun: KubeObject } {
  const name = dnsLabel(`vigil-k6-${o.runId}-${o.name}`, 52)
  const labels = { ...MANAGED_BY, [RUN_ID_LABEL]: o.runId }
  return {
    configMap: {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, namespace: o.namespace, labels },
      data: { 'script.js': o.script },
    },
    testRun: {
      apiVersion: 'k6.io/v1alpha1',
      kind: 'TestRun',
      metadata: { name, namespace: o.namespace, labels },
      spec: {
        parallelism: o.parallelism ?? 1,
        script: { configMap: { name, file: 'script.js' } },
        ...(o.arguments ? { arguments: o.arguments } : {}),
        ...(o.runnerImage ? { runner: { image: o.runnerImage } } : {}),
      },
    },
  }
}

export async function runTestRun(o: TestRunOptions): Promise<TestRunResult> {
  const { client } = o
  const { configMap, testRun } = testRunObjects(o)
  const created: KubeObject[] = []
  try {
    created.push(await client.create(configMap))
    created.push(await client.create(testRun))
    o.progress?.(`k6-operator: TestRun ${describeRef(testRun)} created (parallelism ${o.parallelism ?? 1})`)
    let lastStage = ''
    const outcome = await poll(
      async () => {
        const current = await client.get(refOf(testRun))
        const stage = String(current?.status?.stage ?? '')
        if (stage && stage !== lastStage) o.progress?.(`k6-operator: stage ${stage}`)
        lastStage = stage
        return stage === 'finished' || stage === 'error' ? stage : undefined
      },
      { timeoutMs: o.timeoutMs, intervalMs: o.pollIntervalMs ?? 1000, signal: o.signal },
    )
    if (outcome.state !== 'done') {
      throw new ClusterJobError(
        `k6-operator: TestRun ${describeRef(testRun)} ${outcome.state === 'cancelled' ? 'was cancelled' : `did not finish within ${Math.round(o.timeoutMs / 1000)}s (last stage ${lastStage || 'none'})`}`,
      )
    }
    const runners = await runnerResults(client, o.namespace, testRun.metadata.name)
    const stage = outcome.value as 'finished' | 'error'
    return {
      testRun: testRun.metadata.name,
      stage,
      runners,
      passed: stage === 'finished' && runners.length > 0 && runners.every((r) => r.outcome === 'passed'),
      thresholdsFailed: runners.some((r) => r.outcome === 'thresholds-failed'),
    }
  } finally {
    await Promise.allSettled(created.reverse().map((object) => client.delete(refOf(object), 'Background')))
  }
}

/** Each runner Job's outcome, from its pod's exit code when known, else from the Job's status. */
async function runnerResults(
  client: KubeClient,
  namespace: string,
  testRun: string,
): Promise<RunnerResult[]> {
  const selector = `${K6_CR_LABEL}=${testRun},runner=true`
  const [jobs, pods] = await Promise.all([
    client.list('batch/v1', 'Job', { namespace, labelSelector: selector }),
    client.list('v1', 'Pod', { namespace, labelSelector: selector }),
  ])
  return jobs
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
    .map((job) => {
      const pod = pods.find((p) => p.metadata.labels?.['job-name'] === job.metadata.name)
      const exitCode = pod ? terminatedState(pod)?.exitCode : undefined
      let outcome: RunnerOutcome
      if (exitCode === 0) outcome = 'passed'
      else if (exitCode === K6_THRESHOLDS_EXIT) outcome = 'thresholds-failed'
      else if (exitCode !== undefined) outcome = 'failed'
      else if ((job.status?.succeeded ?? 0) > 0) outcome = 'passed'
      else if ((job.status?.failed ?? 0) > 0) outcome = 'failed'
      else outcome = 'unknown'
      return { job: job.metadata.name, outcome, ...(exitCode !== undefined ? { exitCode } : {}) }
    })
}
