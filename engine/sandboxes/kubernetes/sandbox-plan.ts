/**
 * What one side of a run deploys on the cluster, decided before anything is created (pure, so it is
 * unit-tested and its manifests validated offline): the run namespace, its objects, the workloads to
 * wait for, where each service is reached, and the headers every request carries.
 */
import { ConfigError } from '../../errors.js'
import type { KubeObject } from '../../kubernetes/client.js'
import { ROUTING_KEY_LABEL, dnsLabel } from '../../kubernetes/labels.js'
import { generatedObjects, prepareObjects, runLabels, type CandidateOverride } from './manifests.js'
import type { KubernetesSandboxOptions, KubernetesServiceOptions } from './schema.js'
import { isRolloutKind, workloadName, type WorkloadRef } from '../../kubernetes/readiness.js'

export interface ServiceEndpointPlan {
  namespace: string
  /** The Kubernetes Service's name. */
  serviceName: string
  /** The Service port, when known from the config. */
  port?: number
}

export interface SidePlan {
  /** The run namespace to create, or undefined when this side deploys nothing. */
  namespace?: string
  labels: Record<string, string>
  objects: KubeObject[]
  /** Workloads to wait for (Deployments, StatefulSets, DaemonSets), in `namespace`, sorted. */
  workloads: WorkloadRef[]
  endpoints: Record<string, ServiceEndpointPlan>
  headers: Record<string, string>
  /** Services deployed for this side, sorted. */
  deployed: string[]
  routingKey?: string
}

export interface PlanInput {
  options: KubernetesSandboxOptions
  side: string
  runId: string
  /** Objects of each service's manifest files, already read. */
  manifests: Readonly<Record<string, KubeObject[]>>
  where(keyPath: Array<string | number>): string
}

export const DEFAULT_ROUTING_VALUE = 'sd-routing-key={{key}}'

export function planSide(input: PlanInput): SidePlan {
  const { options, side, runId, where } = input
  const names = Object.keys(options.services).sort()
  for (const name of options.touched ?? []) {
    if (!options.services[name]) {
      throw new ConfigError(
        `${where(['touched'])}sandbox.touched: unknown service ${JSON.stringify(name)}; expected one of ${names.join(', ')}`,
      )
    }
  }
  for (const name of names) {
    const s = options.services[name]!
    if (!s.manifests && !s.image) {
      throw new ConfigError(
        `${where(['services', name])}sandbox.services.${name}: needs \`manifests\` or \`image\` + \`port\``,
      )
    }
    if (s.manifests && s.image) {
      throw new ConfigError(
        `${where(['services', name])}sandbox.services.${name}: \`manifests\` and \`image\` exclude each other`,
      )
    }
    if (s.image && s.port === undefined) {
      throw new ConfigError(
        `${where(['services', name])}sandbox.services.${name}: a generated service needs \`port\``,
      )
    }
  }
  const shared = options.baselineNamespace
  if (options.routing && !shared) {
    throw new ConfigError(
      `${where(['routing'])}sandbox.routing: needs \`baselineNamespace\`, the namespace the mesh routes in`,
    )
  }
  const touched = new Set(options.touched ?? names)
  const isCandidate = side === 'candidate'
  // With a shared baseline only the touched services are deployed, and only for the candidate.
  const deployed = shared ? (isCandidate ? names.filter((n) => touched.has(n)) : []) : names
  const prefix = options.namespacePrefix ?? 'vigil'
  const namespace = deployed.length ? dnsLabel(`${prefix}-${side}-${runId}`) : undefined
  const labels = runLabels(runId, side)
  const routingKey = options.routing && isCandidate ? dnsLabel(`${prefix}-${runId}`) : undefined
  const objectLabels = routingKey ? { ...labels, [ROUTING_KEY_LABEL]: routingKey } : labels

  const objects: KubeObject[] = []
  const workloads = new Map<string, WorkloadRef>()
  for (const name of deployed) {
    const s = options.services[name]!
    const override = isCandidate && touched.has(name) ? candidateOverride(s) : undefined
    const own = s.image
      ? generatedObjects(name, namespace!, generated(s, override), objectLabels)
      : prepareObjects(input.manifests[name] ?? [], namespace!, name, objectLabels, override)
    for (const o of own) {
      if (isRolloutKind(o.kind)) {
        const ref = { kind: o.kind, name: o.metadata.name }
        workloads.set(workloadName(ref), ref)
      }
    }
    objects.push(...own)
  }

  const endpoints: Record<string, ServiceEndpointPlan> = {}
  for (const name of names) {
    const s = options.services[name]!
    // Forks are reached through the shared namespace: the mesh sends the routed requests to them.
    const here = deployed.includes(name) && !routingKey
    endpoints[name] = {
      namespace: here ? namespace! : (shared ?? namespace!),
      serviceName: s.serviceName ?? (s.image ? name : serviceNameOf(input.manifests[name] ?? [], name)),
      ...(s.port !== undefined ? { port: s.port } : {}),
    }
  }
  const headers = { ...options.headers }
  if (routingKey && options.routing) {
    headers[options.routing.header] = (options.routing.value ?? DEFAULT_ROUTING_VALUE).replaceAll(
      '{{key}}',
      routingKey,
    )
  }
  return {
    namespace,
    labels,
    objects,
    workloads: [...workloads.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, ref]) => ref),
    endpoints,
    headers,
    deployed,
    routingKey,
  }
}

function candidateOverride(s: KubernetesServiceOptions): CandidateOverride | undefined {
  const c = s.candidate
  if (!c) return undefined
  const out: CandidateOverride = {}
  if (c.image) out.image = c.image
  if (c.env) out.env = stringify(c.env)
  if (c.container) out.container = c.container
  return out
}

function generated(s: KubernetesServiceOptions, override?: CandidateOverride) {
  return {
    image: override?.image ?? s.image!,
    port: s.port!,
    env: { ...stringify(s.env ?? {}), ...override?.env },
    ...(s.replicas !== undefined ? { replicas: s.replicas } : {}),
    ...(s.readyPath !== undefined ? { readyPath: s.readyPath } : {}),
    ...(s.args !== undefined ? { args: s.args } : {}),
  }
}

/** The Service of a manifest-based service: the one named like it, else the only one. */
function serviceNameOf(objects: KubeObject[], name: string): string {
  const services = objects.filter((o) => o.kind === 'Service')
  return (
    (services.find((o) => o.metadata.name === name) ?? (services.length === 1 ? services[0] : undefined))
      ?.metadata.name ?? name
  )
}

function stringify(env: Record<string, string | number | boolean>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)]))
}
