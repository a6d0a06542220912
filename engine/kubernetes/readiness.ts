/**
 * Readiness by kubectl's rollout rules (`kubectl rollout status deployment|statefulset|daemonset`): the
 * controller has observed the latest generation, every replica is updated, no old replica is left, and
 * the updated ones are ready or available; a Job is ready when it has completed. On a deadline, the
 * error carries the pods' container statuses and the namespace's events.
 */
import type { KubeClient, KubeObject } from './client.js'
import { InfrastructureError } from '../errors.js'
import { RolloutError } from './errors.js'
import { poll } from './wait.js'

export type RolloutState = { done: true } | { done: false; reason: string; fatal?: boolean }

/** kubectl's rule for one Deployment (k8s.io/kubectl/pkg/polymorphichelpers/rollout_status.go). */
export function deploymentRollout(deployment: KubeObject): RolloutState {
  const name = deployment.metadata.name
  const spec = deployment.spec ?? {}
  const status = deployment.status ?? {}
  const generation = deployment.metadata.generation ?? 0
  if (generation > (status.observedGeneration ?? 0)) {
    return { done: false, reason: `waiting for deployment "${name}" spec update to be observed` }
  }
  const progressing = (status.conditions ?? []).find((c: { type: string }) => c.type === 'Progressing')
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    return { done: false, fatal: true, reason: `deployment "${name}" exceeded its progress deadline` }
  }
  const wanted = spec.replicas ?? 1
  const updated = status.updatedReplicas ?? 0
  const replicas = status.replicas ?? 0
  const available = status.availableReplicas ?? 0
  if (updated < wanted) {
    return {
      done: false,
      reason: `deployment "${name}": ${updated} of ${wanted} updated replicas are available`,
    }
  }
  if (replicas > updated) {
    return {
      done: false,
      reason: `deployment "${name}": ${replicas - updated} old replicas are pending termination`,
    }
  }
  if (available < updated) {
    return {
      done: false,
      reason: `deployment "${name}": ${available} of ${updated} updated replicas are available`,
    }
  }
  return { done: true }
}

/** kubectl's rule for one StatefulSet (a partitioned rolling update is done when its partition is). */
export function statefulSetRollout(set: KubeObject): RolloutState {
  const name = set.metadata.name
  const spec = set.spec ?? {}
  const status = set.status ?? {}
  const generation = set.metadata.generation ?? 0
  if (!status.observedGeneration || generation > status.observedGeneration) {
    return { done: false, reason: `waiting for statefulset "${name}" spec update to be observed` }
  }
  const wanted = spec.replicas ?? 1
  const ready = status.readyReplicas ?? 0
  if (ready < wanted) {
    return { done: false, reason: `statefulset "${name}": ${ready} of ${wanted} pods are ready` }
  }
  const strategy = spec.updateStrategy ?? {}
  // OnDelete: pods are replaced only when someone deletes them, so ready pods are all there is to wait for.
  if (strategy.type === 'OnDelete') return { done: true }
  const partition = strategy.rollingUpdate?.partition
  if (partition !== undefined && partition > 0) {
    const updated = status.updatedReplicas ?? 0
    const due = Math.max(0, wanted - partition)
    return updated < due
      ? { done: false, reason: `statefulset "${name}": ${updated} of ${due} partitioned pods are updated` }
      : { done: true }
  }
  if (status.updateRevision !== status.currentRevision) {
    return {
      done: false,
      reason: `statefulset "${name}": rolling update to revision ${status.updateRevision} is not complete (${status.updatedReplicas ?? 0} of ${wanted} pods updated)`,
    }
  }
  return { done: true }
}

/** kubectl's rule for one DaemonSet: every scheduled pod updated and available. */
export function daemonSetRollout(set: KubeObject): RolloutState {
  const name = set.metadata.name
  const status = set.status ?? {}
  const generation = set.metadata.generation ?? 0
  if (generation > (status.observedGeneration ?? 0)) {
    return { done: false, reason: `waiting for daemonset "${name}" spec update to be observed` }
  }
  const desired = status.desiredNumberScheduled ?? 0
  const updated = status.updatedNumberScheduled ?? 0
  const available = status.numberAvailable ?? 0
  if (updated < desired) {
    return { done: false, reason: `daemonset "${name}": ${updated} of ${desired} pods are updated` }
  }
  if (available < desired) {
    return {
      done: false,
      reason: `daemonset "${name}": ${available} of ${desired} updated pods are available`,
    }
  }
  return { done: true }
}

/**
 * A Job (a migration, a seed) is ready when it has completed; a failed Job fails the wait at once, as its
 * services would start against a database it never migrated.
 */
export function jobCompletion(job: KubeObject): RolloutState {
  const name = job.metadata.name
  const conditions = (job.status?.conditions ?? []) as Array<{
    type: string
    status: string
    reason?: string
    message?: string
  }>
  const failed = conditions.find((c) => c.type === 'Failed' && c.status === 'True')
  if (failed) {
    const why = [failed.reason, failed.message].filter(Boolean).join(': ')
    return { done: false, fatal: true, reason: `job "${name}" failed${why ? ` (${why})` : ''}` }
  }
  if (conditions.some((c) => c.type === 'Complete' && c.status === 'True')) return { done: true }
  const wanted = job.spec?.completions ?? 1
  return { done: false, reason: `job "${name}": ${job.status?.succeeded ?? 0} of ${wanted} completions` }
}

/** The workloads vigil waits for, their API group and their rules. */
export const ROLLOUT_RULES = {
  Deployment: { apiVersion: 'apps/v1', state: deploymentRollout },
  StatefulSet: { apiVersion: 'apps/v1', state: statefulSetRollout },
  DaemonSet: { apiVersion: 'apps/v1', state: daemonSetRollout },
  Job: { apiVersion: 'batch/v1', state: jobCompletion },
} as const

export type WorkloadKind = keyof typeof ROLLOUT_RULES

/** One workload to wait for, in the namespace being waited on. */
export interface WorkloadRef {
  kind: WorkloadKind
  name: string
}

export function isRolloutKind(kind: string): kind is WorkloadKind {
  return Object.hasOwn(ROLLOUT_RULES, kind)
}

/** `deployment/orders`, as kubectl names it. */
export function workloadName(workload: WorkloadRef): string {
  return `${workload.kind.toLowerCase()}/${workload.name}`
}

export interface WaitRolloutOptions {
  namespace: string
  /** Workloads to wait for. */
  workloads: readonly WorkloadRef[]
  timeoutMs: number
  signal?: AbortSignal
  /** @default 500 */
  intervalMs?: number
  /** Prefix of error messages, e.g. `candidate sandbox`. */
  what: string
}

/** Waits until every workload is rolled out; throws a RolloutError with the evidence otherwise. */
export async function waitForRollout(client: KubeClient, options: WaitRolloutOptions): Promise<void> {
  let pending: string[] = []
  let fatal: string | undefined
  const outcome = await poll(
    async () => {
      const states = await Promise.all(
        options.workloads.map(async ({ kind, name }): Promise<RolloutState> => {
          const rule = ROLLOUT_RULES[kind]
          const object = await client.get({
            apiVersion: rule.apiVersion,
            kind,
            namespace: options.namespace,
            name,
          })
          return object
            ? rule.state(object)
            : { done: false, reason: `${kind.toLowerCase()} "${name}" does not exist` }
        }),
      )
      pending = states.flatMap((s) => (s.done ? [] : [s.reason]))
      fatal = states.flatMap((s) => (!s.done && s.fatal ? [s.reason] : []))[0]
      return pending.length === 0 || fatal ? true : undefined
    },
    { timeoutMs: options.timeoutMs, intervalMs: options.intervalMs, signal: options.signal },
  )
  if (outcome.state === 'done' && !fatal) return
  if (outcome.state === 'cancelled') {
    throw new InfrastructureError(
      `${options.what}: cancelled while waiting for the rollout in namespace ${options.namespace}`,
      [],
      { code: 'VIGIL_CANCELLED' },
    )
  }
  const evidence = await describeNamespace(client, options.namespace).catch((error: unknown) => [
    `(the pods and events could not be read: ${(error as Error).message})`,
  ])
  const why = fatal ?? pending.join('; ')
  throw new RolloutError(
    `${options.what}: not ready within ${Math.round(options.timeoutMs / 1000)}s in namespace ${options.namespace}: ${why}`,
    evidence,
  )
}

/** The pods' phases and container statuses, then the namespace's events in time order, as lines. */
export async function describeNamespace(client: KubeClient, namespace: string): Promise<string[]> {
  const [pods, events] = await Promise.all([
    client.list('v1', 'Pod', { namespace }),
    client.list('v1', 'Event', { namespace }),
  ])
  const lines: string[] = []
  for (const pod of pods.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))) {
    lines.push(`pod ${pod.metadata.name}: ${pod.status?.phase ?? 'Unknown'}${podConditions(pod)}`)
    for (const c of [
      ...(pod.status?.initContainerStatuses ?? []),
      ...(pod.status?.containerStatuses ?? []),
    ]) {
      lines.push(
        `  container ${c.name}: ${containerState(c)}${c.restartCount ? ` (${c.restartCount} restarts)` : ''}`,
      )
    }
  }
  if (pods.length === 0) lines.push('no pods in the namespace')
  const sorted = events.sort(
    (a, b) => eventTime(a).localeCompare(eventTime(b)) || a.metadata.name.localeCompare(b.metadata.name),
  )
  for (const e of sorted.slice(-40)) {
    const obj = e as unknown as EventFields
    const count = obj.count && obj.count > 1 ? ` (x${obj.count})` : ''
    lines.push(
      `event ${obj.type ?? 'Normal'} ${obj.reason ?? ''} ${obj.involvedObject?.kind ?? ''}/${obj.involvedObject?.name ?? ''}: ${obj.message ?? ''}${count}`.replace(
        /\s+/g,
        ' ',
      ),
    )
  }
  if (events.length === 0) lines.push('no events in the namespace')
  return lines
}

interface EventFields {
  type?: string
  reason?: string
  message?: string
  count?: number
  involvedObject?: { kind?: string; name?: string }
  lastTimestamp?: string
  eventTime?: string
  firstTimestamp?: string
  metadata: { creationTimestamp?: string }
}

function eventTime(e: KubeObject): string {
  const f = e as unknown as EventFields
  return String(f.lastTimestamp ?? f.eventTime ?? f.firstTimestamp ?? f.metadata.creationTimestamp ?? '')
}

function podConditions(pod: KubeObject): string {
  const failing = (pod.status?.conditions ?? []).filter((c: { status: string }) => c.status !== 'True')
  return failing.length
    ? `; ${failing.map((c: { type: string; reason?: string; message?: string }) => `${c.type}=False${c.reason ? ` (${c.reason}${c.message ? `: ${c.message}` : ''})` : ''}`).join(', ')}`
    : ''
}

function containerState(c: {
  ready?: boolean
  state?: {
    waiting?: { reason?: string; message?: string }
    running?: unknown
    terminated?: { reason?: string; exitCode?: number; message?: string }
  }
}): string {
  const s = c.state ?? {}
  if (s.waiting)
    return `waiting: ${s.waiting.reason ?? ''}${s.waiting.message ? ` ${s.waiting.message}` : ''}`.trim()
  if (s.terminated) {
    return `terminated: ${s.terminated.reason ?? ''} exit ${s.terminated.exitCode ?? '?'}${s.terminated.message ? ` ${s.terminated.message}` : ''}`
  }
  if (s.running) return c.ready ? 'running, ready' : 'running, not ready'
  return 'unknown'
}
