/**
 * The narrow interface vigil needs of a Kubernetes cluster. The provider, readiness, gc, the Job executor
 * and the k6-operator runner only talk to this, so their logic is testable against any implementation;
 * the real one (node-client.ts) wraps @kubernetes/client-node 1.4.
 */
import type { Duplex } from 'node:stream'
import { VigilError } from '../errors.js'

/** Object metadata, as far as vigil reads or writes it. */
export interface KubeMeta {
  name: string
  namespace?: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
  uid?: string
  generation?: number
  creationTimestamp?: string | Date
  deletionTimestamp?: string | Date
  ownerReferences?: Array<{ kind: string; name: string; uid: string }>
}

/** Any Kubernetes object: typed loosely on purpose, the manifests module builds the well-typed ones. */
export interface KubeObject {
  apiVersion: string
  kind: string
  metadata: KubeMeta
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  spec?: any
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  status?: any
  data?: Record<string, string>
}

/** Which object: apiVersion + kind, and its name (and namespace when namespaced). */
export interface KubeRef {
  apiVersion: string
  kind: string
  name: string
  namespace?: string
}

/** How dependents are deleted: `Foreground` waits for them, `Background` lets the garbage collector do it. */
export type Propagation = 'Foreground' | 'Background' | 'Orphan'

/** An open tunnel to one pod port; closing the socket closes the tunnel. */
export interface PodTunnel {
  close(): void
}

export interface KubeClient {
  /** The API server URL (for messages). */
  readonly server: string
  /** The kubeconfig context in use (for messages). */
  readonly context: string
  /** Creates an object; fails with a KubeApiError (status 409 when it exists). */
  create<T extends KubeObject>(object: T): Promise<T>
  /** Reads an object; undefined when it does not exist. */
  get<T extends KubeObject = KubeObject>(ref: KubeRef): Promise<T | undefined>
  /** Lists objects of a kind in a namespace (all namespaces, or cluster-scoped kinds, without one). */
  list<T extends KubeObject = KubeObject>(
    apiVersion: string,
    kind: string,
    options?: { namespace?: string; labelSelector?: string; fieldSelector?: string },
  ): Promise<T[]>
  /** Deletes an object; resolves false when it did not exist. */
  delete(ref: KubeRef, propagation?: Propagation): Promise<boolean>
  /** The log of a pod's container (its last `tailLines` lines). */
  podLog(
    namespace: string,
    pod: string,
    options?: { container?: string; tailLines?: number },
  ): Promise<string>
  /** Tunnels `socket` to `port` of a pod (the API server's port-forward, WebSocket channel protocol). */
  portForward(namespace: string, pod: string, port: number, socket: Duplex): Promise<PodTunnel>
}

/** An API call failed: `status` is the HTTP status (0 for a network error), `reason` the Status reason. */
export class KubeApiError extends VigilError {
  constructor(
    message: string,
    readonly status: number,
    readonly reason?: string,
    options?: { cause?: unknown },
  ) {
    super('VIGIL_K8S_REQUEST', message, { ...options, exitCode: 3 })
  }
}

export function isNotFound(error: unknown): boolean {
  return error instanceof KubeApiError && error.status === 404
}

/** `Kind ns/name` for messages. */
export function describeRef(ref: KubeRef | KubeObject): string {
  const name = 'metadata' in ref ? ref.metadata.name : ref.name
  const namespace = 'metadata' in ref ? ref.metadata.namespace : ref.namespace
  return `${ref.kind} ${namespace ? `${namespace}/` : ''}${name}`
}

export function refOf(object: KubeObject): KubeRef {
  return {
    apiVersion: object.apiVersion,
    kind: object.kind,
    name: object.metadata.name,
    namespace: object.metadata.namespace,
  }
}

/** Where the cluster's credentials come from. */
export interface KubeConnectOptions {
  /** A kubeconfig file. @default $KUBECONFIG, else ~/.kube/config, else the in-cluster service account */
  kubeconfig?: string
  /** A context of that kubeconfig. @default its current context */
  context?: string
}

/**
 * The real client for a kubeconfig. @kubernetes/client-node takes about a second to load, so it is
 * loaded here, when a run first talks to a cluster, not whenever the CLI starts.
 */
export async function connectCluster(options: KubeConnectOptions = {}): Promise<KubeClient> {
  const { connect } = await import('./node-client.js')
  return connect(options)
}

/** The terminated state of the pod's `vigil` container (else its first), if it has terminated. */
export function terminatedState(
  pod: KubeObject,
): { exitCode?: number; reason?: string; message?: string } | undefined {
  const statuses = (pod.status?.containerStatuses ?? []) as Array<{
    name: string
    state?: { terminated?: object }
  }>
  const status = statuses.find((s) => s.name === 'vigil') ?? statuses[0]
  return status?.state?.terminated as { exitCode?: number; reason?: string; message?: string } | undefined
}
