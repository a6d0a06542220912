/**
 * A local WebSocket stand-in for the API server's port-forward endpoint: the tier has no kubelet, so the
 * real apiserver cannot forward. It speaks the same protocol as the kubelet behind
 * `/api/v1/namespaces/NS/pods/POD/portforward?ports=N` (channel protocol v4: per port a data channel 0
 * and an error channel 1, each opened with the port as two little-endian bytes; every message is one
 * channel byte then data), and connects each tunnel to a loopback port chosen per pod — a real HTTP
 * server playing the pod. The real @kubernetes/client-node PortForward talks to it.
 */
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { KubeConfig } from '@kubernetes/client-node'
import { WebSocketServer } from 'ws'

export interface PortForwardStandIn {
  /** A kubeconfig whose server is this stand-in (for the client's PortForward). */
  kubeConfig: KubeConfig
  /** Tunnels opened, as `namespace/pod:port`, in order. */
  readonly tunnels: string[]
  /** Pods whose tunnel was refused (not routed: 404). */
  readonly refused: string[]
  /** Where tunnels to pods whose name starts with `podPrefix` go: a loopback port (other pods do not exist). */
  route(podPrefix: string, localPort: number): void
  close(): Promise<void>
}

const PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/portforward\?ports=(\d+)$/

export async function startPortForwardStandIn(): Promise<PortForwardStandIn> {
  const routes = new Map<string, number>()
  const tunnels: string[] = []
  const refused: string[] = []
  const routeOf = (pod: string): number | undefined =>
    [...routes].find(([prefix]) => pod.startsWith(prefix))?.[1]
  const server = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    handleProtocols: (protocols) => (protocols.has('v4.channel.k8s.io') ? 'v4.channel.k8s.io' : false),
    // A pod nothing is routed to does not exist: the upgrade is refused with 404, as the apiserver does.
    verifyClient: ({ req }, done) => {
      const pod = PATH.exec(req.url ?? '')?.[2] ?? ''
      if (routeOf(pod) === undefined) {
        refused.push(pod)
        return done(false, 404, `pods "${pod}" not found`)
      }
      done(true)
    },
  })
  await new Promise<void>((resolve) => server.once('listening', resolve))
  server.on('connection', (ws, request) => {
    const m = PATH.exec(request.url ?? '')
    if (!m) return ws.close(1008)
    const [, namespace, pod, portText] = m as unknown as [string, string, string, string]
    const port = Number(portText)
    tunnels.push(`${namespace}/${pod}:${port}`)
    const portBytes = Buffer.from([port & 0xff, port >> 8])
    ws.send(Buffer.concat([Buffer.from([0]), portBytes]))
    ws.send(Buffer.concat([Buffer.from([1]), portBytes]))
    const upstream = net.connect(routeOf(pod)!, '127.0.0.1')
    // Nothing listening in the pod: the kubelet reports it on the error channel and ends the stream.
    upstream.on('error', (error) => {
      ws.send(
        Buffer.concat([
          Buffer.from([1]),
          Buffer.from(`error forwarding port ${port} to pod ${pod}: ${error.message}`),
        ]),
      )
      ws.close()
    })
    upstream.on('data', (chunk: Buffer) => ws.send(Buffer.concat([Buffer.from([0]), chunk])))
    upstream.on('end', () => ws.close())
    ws.on('message', (data: Buffer) => {
      if (data[0] === 0 && data.length > 1) upstream.write(data.subarray(1))
    })
    ws.on('close', () => upstream.destroy())
  })
  const kubeConfig = new KubeConfig()
  kubeConfig.loadFromOptions({
    clusters: [
      {
        name: 'stand-in',
        server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        skipTLSVerify: true,
      },
    ],
    users: [{ name: 'stand-in', token: 'stand-in' }],
    contexts: [{ name: 'stand-in', cluster: 'stand-in', user: 'stand-in' }],
    currentContext: 'stand-in',
  })
  return {
    kubeConfig,
    tunnels,
    refused,
    route: (pod, localPort) => routes.set(pod, localPort),
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of server.clients) c.close()
        server.close(() => resolve())
      }),
  }
}
