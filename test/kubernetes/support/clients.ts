/**
 * The tier's client for the provider: API calls go to the real apiserver; port-forwards, which need a
 * kubelet the tier does not have, go to the local WebSocket stand-in (through the real client-node code).
 */
import type { Duplex } from 'node:stream'
import type { KubeClient } from '../../../engine/kubernetes/client.js'
import { NodeKubeClient } from '../../../engine/kubernetes/node-client.js'
import type { PortForwardStandIn } from './port-forward-standin.js'

export function apiserverWithStandInForwarding(api: NodeKubeClient, standIn: PortForwardStandIn): KubeClient {
  const forwarder = new NodeKubeClient(standIn.kubeConfig)
  return {
    server: api.server,
    context: api.context,
    create: (o) => api.create(o),
    get: (r) => api.get(r),
    list: (v, k, o) => api.list(v, k, o),
    delete: (r, p) => api.delete(r, p),
    podLog: (n, p, o) => api.podLog(n, p, o),
    portForward: (namespace: string, pod: string, port: number, socket: Duplex) =>
      forwarder.portForward(namespace, pod, port, socket),
  }
}
