/**
 * Readiness by kubectl's rollout rule (`kubectl rollout status deployment`): the controller has observed
 * the latest generation, every replica is updated, no old replica is left, and the updated ones are
 * available. On a deadline, the error carries the pods' container statuses and the namespace's events.
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

export interface WaitRolloutOptions {
  namespace: string
  /** Deployment names to wait for. */
  deployments: readonly string[]
  timeoutMs: number
  signal?: AbortSignal
  /** @default 500 */
  intervalMs?: number
  /** Prefix of error messages, e.g. `candidate sandbox`. */
  what: string
}

/** Waits until every Deployment is rolled out; throws a RolloutError with the evidence otherwise. */
export async function waitForRollout(client: KubeClient, options: WaitRolloutOptions): Promise<void> {
  let pending: string[] = []
  let fatal: string | undefined
  const outcome = await poll(
    async () => {
      const states = await Promise.all(
        options.deployments.map(async (name) => {
          const d = await client.get({
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            namespace: options.namespace,
            name,
          })
          return d
            ? deploymentRollout(d)
            : { done: false as const, reason: `deployment "${name}" does not exist` }
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
