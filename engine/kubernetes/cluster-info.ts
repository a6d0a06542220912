/**
 * What a kubernetes sandbox knows about its cluster, for the parts that run inside it (the Job executor,
 * the k6-operator): the client, and each service's in-cluster URL. Kept beside the Sandbox object rather
 * than in it, so the Sandbox interface stays the same for every provider.
 */
import type { KubeClient } from './client.js'

export interface ClusterSandbox {
  client: KubeClient
  /** The run's own namespace, or the shared baseline namespace when nothing was deployed. */
  namespace: string
  /** `http://NAME.NAMESPACE.svc:PORT` per service: how pods reach it. */
  inClusterUrls: Readonly<Record<string, string>>
}

// Keyed by the Sandbox object (any object: this module sits below the sandbox interface it serves).
const clusters = new WeakMap<object, ClusterSandbox>()

export function attachCluster(sandbox: object, info: ClusterSandbox): void {
  clusters.set(sandbox, info)
}

/** The cluster of a sandbox started by the kubernetes provider; undefined for other providers. */
export function clusterOf(sandbox: object): ClusterSandbox | undefined {
  return clusters.get(sandbox)
}
