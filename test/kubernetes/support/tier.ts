/**
 * The real-apiserver tier: its tests need a kube-apiserver + kube-controller-manager + etcd started by
 * `bash test/kubernetes/apiserver.sh start`, found through VIGIL_K8S_TEST_KUBECONFIG. CI always sets it.
 */
import { randomBytes } from 'node:crypto'
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node'
import { connect, type NodeKubeClient } from '../../../engine/kubernetes/node-client.js'

export const TIER_KUBECONFIG = process.env.VIGIL_K8S_TEST_KUBECONFIG ?? ''

/** Name suffix of `describe.skipIf(!TIER_KUBECONFIG)` blocks: says how to run them when skipped. */
export const TIER_NOTE = TIER_KUBECONFIG
  ? 'against the real apiserver tier'
  : 'against the real apiserver tier (skipped: VIGIL_K8S_TEST_KUBECONFIG is unset; run `bash test/kubernetes/apiserver.sh start` and export what it prints)'

export function tierClient(): NodeKubeClient {
  return connect({ kubeconfig: TIER_KUBECONFIG })
}

export function tierKubeConfig(): KubeConfig {
  const kc = new KubeConfig()
  kc.loadFromFile(TIER_KUBECONFIG)
  return kc
}

export function tierCore(): CoreV1Api {
  return tierKubeConfig().makeApiClient(CoreV1Api)
}

/** A short random suffix, so parallel test files never share a name. */
export function uniqueSuffix(): string {
  return randomBytes(3).toString('hex')
}

/** Namespaces whose names start with `prefix` (to assert none is left). */
export async function namespacesWithPrefix(prefix: string): Promise<string[]> {
  const list = await tierCore().listNamespace()
  return list.items
    .map((ns) => ns.metadata?.name ?? '')
    .filter((name) => name.startsWith(prefix))
    .sort()
}
