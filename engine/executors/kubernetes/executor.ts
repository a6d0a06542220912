/**
 * `--executor kubernetes`: each plan runs as a `batch/v1` Job of vigil's own image in the candidate's
 * namespace (backoffLimit 0, a deadline, a TTL, labels), against the sandboxes' in-cluster URLs. The
 * Jobs' verdicts merge into the one verdict; the Jobs (background propagation), their ConfigMap and
 * Secret are deleted afterwards, also when the run is cancelled.
 */
import pLimit from 'p-limit'
import type { Plan } from '../../../plans/types.js'
import { InfrastructureError } from '../../errors.js'
import type { ExecuteResult, ExecutorReporter } from '../../api/executor.js'
import type { Sandbox } from '../../api/sandbox.js'
import type { PlanResult } from '../../verdict.js'
import { describeRef, refOf, type KubeClient, type KubeObject } from '../../kubernetes/client.js'
import { clusterOf } from '../../kubernetes/cluster-info.js'
import { poll } from '../../kubernetes/wait.js'
import {
  configMapObject,
  innerConfig,
  jobObject,
  secretObject,
  type RunObjectsInput,
  type SideUrls,
} from './manifest.js'
import type { ResolvedJobOptions } from './options.js'
import { extractVerdict, jobOutcome, planErrored, planFromVerdict, terminatedState } from './result.js'

export interface JobExecuteOptions {
  plans: readonly Plan[]
  sandboxes: { candidate: Sandbox; baseline?: Sandbox }
  options: ResolvedJobOptions
  /** The run's id: names and labels of what is created. */
  runId: string
  seed: number
  /** What the Jobs' config carries over from the run's config. */
  config: {
    plans: readonly string[]
    concurrency: number
    checkTimeoutMs: number
    timeoutMs: number
    env: readonly string[]
    redactHeaders: readonly string[]
    allowHosts: readonly string[]
  }
  /** Secret values by name (already resolved from the config). */
  secrets: Readonly<Record<string, string>>
  /** Values of the allow-listed environment variables. */
  env: Readonly<Record<string, string>>
  /** Deadline of the whole execution, from now. */
  deadlineMs: number
  signal?: AbortSignal
  reporter?: ExecutorReporter
  log?(line: string): void
  /** @default 1000 */
  pollIntervalMs?: number
}

export async function executeAsJobs(o: JobExecuteOptions): Promise<ExecuteResult> {
  const cluster = clusterOf(o.sandboxes.candidate)
  if (!cluster) {
    throw new InfrastructureError(
      '--executor kubernetes: the candidate sandbox is not on Kubernetes; use `sandbox.provider: kubernetes`',
      [],
      { code: 'VIGIL_K8S_EXECUTOR' },
    )
  }
  const baselineCluster = o.sandboxes.baseline ? clusterOf(o.sandboxes.baseline) : undefined
  if (o.sandboxes.baseline && !baselineCluster) {
    throw new InfrastructureError('--executor kubernetes: the baseline sandbox is not on Kubernetes', [], {
      code: 'VIGIL_K8S_EXECUTOR',
    })
  }
  const { client, namespace } = cluster
  const side = (sandbox: Sandbox, urls: Readonly<Record<string, string>>): SideUrls => ({
    default: sandbox.defaultService,
    services: { ...urls },
    headers: { ...sandbox.headers },
  })
  const input: RunObjectsInput = {
    runId: o.runId,
    namespace,
    options: o.options,
    secrets: o.secrets,
    env: o.env,
    config: innerConfig({
      ...o.config,
      workdir: o.options.workdir,
      secretNames: Object.keys(o.secrets).sort(),
      candidate: side(o.sandboxes.candidate, cluster.inClusterUrls),
      ...(o.sandboxes.baseline && baselineCluster
        ? { baseline: side(o.sandboxes.baseline, baselineCluster.inClusterUrls) }
        : {}),
    }),
  }
  const created: KubeObject[] = []
  const controller = new AbortController()
  const onAbort = (): void => controller.abort()
  o.signal?.addEventListener('abort', onAbort, { once: true })
  const deadline = setTimeout(() => controller.abort(), Math.max(1, o.deadlineMs))
  const spans: Record<string, number> = {}
  try {
    for (const object of [
      configMapObject(input),
      ...(Object.keys(o.secrets).length ? [secretObject(input)] : []),
    ]) {
      created.push(await client.create(object))
    }
    const limit = pLimit(o.options.parallelism)
    const plans = await Promise.all(
      o.plans.map((plan) =>
        limit(async () => {
          const begin = performance.now()
          const result = await runPlanJob(client, plan, input, o, controller.signal, created)
          spans[plan.name] = performance.now() - begin
          for (const check of result.checks) await safely(() => o.reporter?.onCheckEnd?.(check))
          return result
        }),
      ),
    )
    return {
      plans,
      cancelled: controller.signal.aborted,
      timings: plans.map((p) => ({ phase: `plan:${p.name}`, durationMs: Math.round(spans[p.name] ?? 0) })),
    }
  } finally {
    clearTimeout(deadline)
    o.signal?.removeEventListener('abort', onAbort)
    // Background: the Job goes now and the garbage collector removes its pods.
    await Promise.allSettled(created.map((object) => client.delete(refOf(object), 'Background')))
  }
}

async function runPlanJob(
  client: KubeClient,
  plan: Plan,
  input: RunObjectsInput,
  o: JobExecuteOptions,
  signal: AbortSignal,
  created: KubeObject[],
): Promise<PlanResult> {
  const begin = performance.now()
  const elapsed = (): number => performance.now() - begin
  if (signal.aborted) return planErrored(plan, 'in-cluster run: cancelled before its Job started', [], 0)
  const checksMs = o.config.checkTimeoutMs * Math.max(1, plan.checks.length)
  const deadlineMs = o.options.deadlineMs ?? Math.min(o.deadlineMs, (plan.timeoutMs ?? checksMs) + 60_000)
  const job = jobObject({
    ...input,
    plan: plan.name,
    seed: o.seed,
    baseline: Boolean(o.sandboxes.baseline),
    deadlineSeconds: Math.max(1, Math.ceil(deadlineMs / 1000)),
  })
  for (const check of plan.checks) {
    await safely(() => o.reporter?.onCheckStart?.({ plan: plan.name, check: check.name, kind: check.kind }))
  }
  try {
    created.push(await client.create(job))
  } catch (error) {
    return planErrored(plan, `in-cluster run: ${(error as Error).message}`, [], elapsed())
  }
  o.log?.(`plan ${plan.name}: Job ${describeRef(job)} created`)
  const finished = await poll(
    async () => {
      const current = await client.get(refOf(job))
      return current && jobOutcome(current) ? current : undefined
    },
    { timeoutMs: deadlineMs + 30_000, intervalMs: o.pollIntervalMs ?? 1000, signal },
  )
  if (finished.state !== 'done') {
    const why =
      finished.state === 'cancelled' ? 'cancelled' : `no outcome within ${Math.round(deadlineMs / 1000)}s`
    return planErrored(plan, `in-cluster run: Job ${job.metadata.name}: ${why}`, [], elapsed())
  }
  const pods = await client.list('v1', 'Pod', {
    namespace: input.namespace,
    labelSelector: `job-name=${job.metadata.name}`,
  })
  const pod = pods.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name)).at(-1)
  const terminated = pod ? terminatedState(pod) : undefined
  let verdict = extractVerdict(terminated?.message)
  let log = ''
  if (!verdict && pod) {
    log = await client
      .podLog(input.namespace, pod.metadata.name, { container: 'vigil', tailLines: 5000 })
      .catch(() => '')
    verdict = extractVerdict(log)
  }
  if (verdict) return planFromVerdict(plan, verdict, elapsed())
  const outcome = jobOutcome(finished.value)
  const conditions = (
    (finished.value.status?.conditions ?? []) as Array<{ type: string; reason?: string; message?: string }>
  )
    .map((c) => `${c.type}${c.reason ? ` (${c.reason}${c.message ? `: ${c.message}` : ''})` : ''}`)
    .join(', ')
  const exit = terminated
    ? `, container exit ${terminated.exitCode ?? '?'}${terminated.reason ? ` ${terminated.reason}` : ''}`
    : ''
  return planErrored(
    plan,
    `in-cluster run: Job ${job.metadata.name} ${outcome === 'Complete' ? 'completed' : 'failed'} without a verdict (${conditions || 'no conditions'}${exit}${pod ? '' : ', no pod'})`,
    log.split('\n').filter(Boolean).slice(-50),
    elapsed(),
  )
}

async function safely(hook: () => unknown): Promise<void> {
  try {
    await hook()
  } catch {
    // A reporter's failure never stops the run.
  }
}
