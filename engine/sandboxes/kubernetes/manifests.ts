/**
 * The objects the kubernetes provider deploys: generated Deployment + Service for `image` + `port`
 * services, or the objects of the service's own manifest files, moved into the run's namespace, with the
 * candidate's image/env override applied and vigil's labels added.
 */
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { parseAllDocuments } from 'yaml'
import { LineIndex } from '../../../plans/text.js'
import { yamlDepthProblem } from '../../../plans/yaml.js'
import type { KubeObject } from '../../kubernetes/client.js'
import { ManifestError } from '../../kubernetes/errors.js'
import {
  EXPIRES_ANNOTATION,
  MANAGED_BY,
  OWNER_ANNOTATION,
  RUN_ID_LABEL,
  SERVICE_LABEL,
  SIDE_LABEL,
} from '../../kubernetes/labels.js'

/** A container image, port and environment: what a generated Deployment + Service is made of. */
export interface GeneratedWorkload {
  image: string
  port: number
  env?: Record<string, string>
  /** @default 1 */
  replicas?: number
  /** HTTP path of the readiness probe. @default a TCP probe of the port */
  readyPath?: string
  /** Container arguments. @default the image's */
  args?: string[]
}

/** What makes the candidate differ from the baseline, applied to the touched services only. */
export interface CandidateOverride {
  /** Replaces the image of the container. */
  image?: string
  /** Set on the container (added or replaced). */
  env?: Record<string, string>
  /** Which container of each Deployment. @default the first */
  container?: string
}

export function namespaceObject(
  name: string,
  labels: Record<string, string>,
  expiresAt: Date,
  owner: string,
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name,
      labels: { ...MANAGED_BY, ...labels },
      annotations: { [EXPIRES_ANNOTATION]: expiresAt.toISOString(), [OWNER_ANNOTATION]: owner },
    },
  }
}

/** A Deployment and a Service named after the service, selecting its pods by vigil's service label. */
export function generatedObjects(
  service: string,
  namespace: string,
  workload: GeneratedWorkload,
  labels: Record<string, string>,
): KubeObject[] {
  const selector = { [SERVICE_LABEL]: service }
  const podLabels = { ...MANAGED_BY, ...labels, ...selector }
  const probe = workload.readyPath
    ? { httpGet: { path: workload.readyPath, port: workload.port } }
    : { tcpSocket: { port: workload.port } }
  const container: Record<string, unknown> = {
    name: service,
    image: workload.image,
    ports: [{ name: 'http', containerPort: workload.port }],
    env: Object.entries(workload.env ?? {})
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, value]) => ({ name, value })),
    readinessProbe: { ...probe, periodSeconds: 2 },
  }
  if (workload.args) container.args = workload.args
  return [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: service, namespace, labels: podLabels },
      spec: {
        replicas: workload.replicas ?? 1,
        selector: { matchLabels: selector },
        template: { metadata: { labels: podLabels }, spec: { containers: [container] } },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: service, namespace, labels: podLabels },
      spec: { selector, ports: [{ name: 'http', port: workload.port, targetPort: workload.port }] },
    },
  ]
}

/** Reads the objects of manifest files (multi-document YAML), relative to `dir`, in file order. */
export async function readManifests(
  files: readonly string[],
  dir: string,
  where: string,
): Promise<KubeObject[]> {
  const out: KubeObject[] = []
  for (const file of files) {
    const full = path.resolve(dir, file)
    let text: string
    try {
      text = await readFile(full, 'utf8')
    } catch (error) {
      throw new ManifestError(`${where}${file}: cannot be read (${(error as Error).message})`, {
        cause: error,
      })
    }
    // yaml composes recursively: past the depth limit it overflows the stack, or aborts inside V8.
    const tooDeep = yamlDepthProblem(text)
    if (tooDeep) {
      const { line, column } = new LineIndex(text).position(tooDeep.offset)
      throw new ManifestError(`${file}:${line}:${column}: ${tooDeep.message}`)
    }
    for (const [index, doc] of parseAllDocuments(text).entries()) {
      if (doc.errors.length) {
        throw new ManifestError(`${file}: document ${index + 1}: ${doc.errors[0]!.message}`)
      }
      const value = doc.toJS() as unknown
      if (value === null || value === undefined) continue
      const object = value as Partial<KubeObject>
      if (
        typeof object.apiVersion !== 'string' ||
        typeof object.kind !== 'string' ||
        !object.metadata?.name
      ) {
        throw new ManifestError(
          `${file}: document ${index + 1}: expected a Kubernetes object with apiVersion, kind and metadata.name`,
        )
      }
      if (object.kind === 'Namespace') {
        throw new ManifestError(
          `${file}: document ${index + 1}: a Namespace; vigil creates the run's namespace itself`,
        )
      }
      out.push(object as KubeObject)
    }
  }
  return out
}

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job'])

/**
 * Places objects in `namespace` with vigil's labels (on the objects and on their pod templates, so that
 * pods can be found), and applies the candidate's override to their containers.
 */
export function prepareObjects(
  objects: readonly KubeObject[],
  namespace: string,
  service: string,
  labels: Record<string, string>,
  override?: CandidateOverride,
): KubeObject[] {
  const marks = { ...MANAGED_BY, ...labels, [SERVICE_LABEL]: service }
  const prepared = objects.map((original) => {
    const object = structuredClone(original)
    object.metadata = { ...object.metadata, namespace, labels: { ...object.metadata.labels, ...marks } }
    delete object.metadata.uid
    delete (object.metadata as { resourceVersion?: string }).resourceVersion
    if (WORKLOAD_KINDS.has(object.kind) && object.spec?.template) {
      const template = object.spec.template
      template.metadata = { ...template.metadata, labels: { ...template.metadata?.labels, ...marks } }
    }
    return object
  })
  if (override) overrideWorkloads(prepared, override, service)
  return prepared
}

type Container = { name: string; image?: string; env?: Array<{ name: string; value?: string }> }

function containersOf(object: KubeObject): Container[] {
  return (object.spec.template.spec?.containers ?? []) as Container[]
}

/**
 * The candidate's image and env go to the named container, in every workload that has one; without a
 * name, to the first container of the service's only workload. A service of several workloads must name
 * the container: overriding the first container of each would give a cache the API's image.
 */
function overrideWorkloads(objects: KubeObject[], override: CandidateOverride, service: string): void {
  const workloads = objects.filter((o) => WORKLOAD_KINDS.has(o.kind) && o.spec?.template)
  const describe = (o: KubeObject) =>
    `${o.kind} ${o.metadata.name} (${containersOf(o)
      .map((c) => c.name)
      .join(', ')})`
  if (override.container === undefined) {
    if (workloads.length !== 1) {
      throw new ManifestError(
        workloads.length === 0
          ? `service ${service}: no Deployment, StatefulSet, DaemonSet or Job to apply the candidate's image or env to`
          : `service ${service}: the candidate's image or env must name its container (candidate.container), as the service has several workloads: ${workloads.map(describe).join('; ')}`,
      )
    }
    const first = containersOf(workloads[0]!)[0]
    if (!first)
      throw new ManifestError(`${describe(workloads[0]!)} (service ${service}): no container to override`)
    applyOverride(first, override)
    return
  }
  const named = workloads.flatMap((o) => containersOf(o).filter((c) => c.name === override.container))
  if (named.length === 0) {
    throw new ManifestError(
      `service ${service}: no container ${JSON.stringify(override.container)} to override; the workloads have ${workloads.map(describe).join('; ') || 'none'}`,
    )
  }
  for (const container of named) applyOverride(container, override)
}

function applyOverride(container: Container, override: CandidateOverride): void {
  if (override.image) container.image = override.image
  if (override.env) {
    const env = (container.env ?? []).filter((e) => !(e.name in override.env!))
    for (const [name, value] of Object.entries(override.env).sort(([a], [b]) => a.localeCompare(b))) {
      env.push({ name, value })
    }
    container.env = env
  }
}

/** The labels a namespace of this run carries. */
export function runLabels(runId: string, side: string): Record<string, string> {
  return { [RUN_ID_LABEL]: runId, [SIDE_LABEL]: side }
}
