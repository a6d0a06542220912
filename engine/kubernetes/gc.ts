/**
 * `vigil sandboxes gc`: deletes the namespaces that runs left behind (a killed run cannot tear down):
 * those vigil labelled with a run id whose expiry annotation has passed.
 */
import type { KubeClient, KubeObject } from './client.js'
import { EXPIRES_ANNOTATION, MANAGED_NAMESPACES, RUN_ID_LABEL, SIDE_LABEL } from './labels.js'
import { poll } from './wait.js'

export interface GcOptions {
  /** Only report what would be deleted. @default false */
  dryRun?: boolean
  /** The time expiry is compared with. @default now */
  now?: Date
  /** How long to await each deletion. @default 120000 */
  timeoutMs?: number
  signal?: AbortSignal
}

export type GcAction = 'deleted' | 'would-delete' | 'kept' | 'terminating' | 'timeout'

export interface GcEntry {
  namespace: string
  runId: string
  side?: string
  /** RFC 3339, or undefined when the annotation is missing or invalid (then it counts as expired). */
  expiresAt?: string
  action: GcAction
}

/** The run namespaces of the cluster, sorted by name, each with what gc did (or would do) with it. */
export async function collectGarbage(client: KubeClient, options: GcOptions = {}): Promise<GcEntry[]> {
  const now = options.now ?? new Date()
  const namespaces = await client.list('v1', 'Namespace', { labelSelector: MANAGED_NAMESPACES })
  const entries = namespaces
    .map((ns) => classify(ns, now))
    .sort((a, b) => a.entry.namespace.localeCompare(b.entry.namespace))
  await Promise.all(
    entries.map(async ({ entry, expired }) => {
      if (entry.action === 'terminating' || !expired) return
      if (options.dryRun) {
        entry.action = 'would-delete'
        return
      }
      entry.action = (await deleteNamespace(
        client,
        entry.namespace,
        options.timeoutMs ?? 120_000,
        options.signal,
      ))
        ? 'deleted'
        : 'timeout'
    }),
  )
  return entries.map((e) => e.entry)
}

function classify(ns: KubeObject, now: Date): { entry: GcEntry; expired: boolean } {
  const raw = ns.metadata.annotations?.[EXPIRES_ANNOTATION]
  const expires = raw ? new Date(raw) : undefined
  const valid = expires !== undefined && !Number.isNaN(expires.getTime())
  const entry: GcEntry = {
    namespace: ns.metadata.name,
    runId: ns.metadata.labels?.[RUN_ID_LABEL] ?? '',
    action: ns.metadata.deletionTimestamp || ns.status?.phase === 'Terminating' ? 'terminating' : 'kept',
  }
  const side = ns.metadata.labels?.[SIDE_LABEL]
  if (side) entry.side = side
  if (valid) entry.expiresAt = expires.toISOString()
  return { entry, expired: !valid || expires.getTime() <= now.getTime() }
}

/**
 * Deletes a namespace with foreground propagation and waits until it is gone (its finalizers have run).
 * Resolves false when it still exists at the deadline.
 */
export async function deleteNamespace(
  client: KubeClient,
  name: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<boolean> {
  const ref = { apiVersion: 'v1', kind: 'Namespace', name }
  if (!(await client.delete(ref, 'Foreground'))) return true
  const outcome = await poll(async () => ((await client.get(ref)) ? undefined : true), {
    timeoutMs,
    intervalMs: 250,
    signal,
  })
  return outcome.state === 'done'
}
