/**
 * Reaching a Service from the machine running vigil, like `kubectl port-forward svc/NAME`: a loopback
 * listener whose every connection is tunnelled to a ready pod behind the Service. Each connection picks
 * its pod anew (round robin over the ready ones) and is retried on another pod when the tunnel cannot open,
 * so a pod restarting during a run costs a retry, not the run.
 */
import net from 'node:net'
import type { KubeClient, KubeObject } from './client.js'
import { KubeApiError } from './client.js'
import { sleep } from './wait.js'

export interface ServiceForwardOptions {
  namespace: string
  service: string
  /** The Service port to reach (its `port`, not `targetPort`). @default the Service's first port */
  port?: number
  /** Attempts per connection. @default 3 */
  attempts?: number
  /** Progress and problems. */
  log?(line: string): void
}

export interface ServiceForward {
  /** `http://127.0.0.1:<local port>` */
  url: string
  localPort: number
  close(): Promise<void>
}

/** Starts listening on 127.0.0.1 (a free port) and forwards each connection to the Service's pods. */
export async function forwardService(
  client: KubeClient,
  options: ServiceForwardOptions,
): Promise<ServiceForward> {
  const target = await resolveTarget(client, options)
  const attempts = Math.max(1, options.attempts ?? 3)
  let next = 0
  const sockets = new Set<net.Socket>()
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    void (async () => {
      let lastError: unknown
      for (let attempt = 0; attempt < attempts; attempt++) {
        if (socket.destroyed) return
        try {
          const pods = await readyPods(client, options.namespace, target.selector)
          if (pods.length === 0) throw new KubeApiError(`service ${options.service}: no ready pod`, 0)
          const pod = pods[next++ % pods.length]!
          await client.portForward(
            options.namespace,
            pod.metadata.name,
            podPort(pod, target.targetPort),
            socket,
          )
          return
        } catch (error) {
          lastError = error
          await sleep(100 * (attempt + 1))
        }
      }
      options.log?.(
        `port-forward ${options.namespace}/${options.service}: connection dropped after ${attempts} attempts: ${(lastError as Error)?.message ?? lastError}`,
      )
      socket.destroy()
    })()
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const localPort = (server.address() as net.AddressInfo).port
  return {
    url: `http://127.0.0.1:${localPort}`,
    localPort,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}

interface Target {
  selector: Record<string, string>
  targetPort: number | string
}

async function resolveTarget(client: KubeClient, options: ServiceForwardOptions): Promise<Target> {
  const service = await client.get({
    apiVersion: 'v1',
    kind: 'Service',
    namespace: options.namespace,
    name: options.service,
  })
  if (!service) throw new KubeApiError(`Service ${options.namespace}/${options.service} does not exist`, 404)
  const ports = (service.spec?.ports ?? []) as Array<{
    port: number
    targetPort?: number | string
    name?: string
  }>
  const port = options.port === undefined ? ports[0] : ports.find((p) => p.port === options.port)
  if (!port) {
    throw new KubeApiError(
      `Service ${options.namespace}/${options.service} has no port ${options.port ?? ''}; it has ${ports.map((p) => p.port).join(', ') || 'none'}`,
      0,
    )
  }
  const selector = (service.spec?.selector ?? {}) as Record<string, string>
  if (Object.keys(selector).length === 0) {
    throw new KubeApiError(
      `Service ${options.namespace}/${options.service} has no selector: there is no pod to forward to`,
      0,
    )
  }
  return { selector, targetPort: port.targetPort ?? port.port }
}

/** Running pods whose Ready condition is True, by name. */
export async function readyPods(
  client: KubeClient,
  namespace: string,
  selector: Record<string, string>,
): Promise<KubeObject[]> {
  const labelSelector = Object.entries(selector)
    .map(([k, v]) => `${k}=${v}`)
    .join(',')
  const pods = await client.list('v1', 'Pod', { namespace, labelSelector })
  return pods
    .filter(
      (p) =>
        p.status?.phase === 'Running' &&
        !p.metadata.deletionTimestamp &&
        (p.status?.conditions ?? []).some(
          (c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True',
        ),
    )
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
}

/** A named target port resolved against the pod's container ports. */
function podPort(pod: KubeObject, targetPort: number | string): number {
  if (typeof targetPort === 'number') return targetPort
  if (/^\d+$/.test(targetPort)) return Number(targetPort)
  for (const c of pod.spec?.containers ?? []) {
    const found = (c.ports ?? []).find((p: { name?: string }) => p.name === targetPort)
    if (found) return found.containerPort as number
  }
  throw new KubeApiError(
    `Pod ${pod.metadata.name} has no container port named ${JSON.stringify(targetPort)}`,
    0,
  )
}
