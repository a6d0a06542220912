import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { NodeKubeClient } from '../../engine/kubernetes/node-client.js'
import { forwardService } from '../../engine/kubernetes/port-forward.js'
import { MemoryKubeClient, readyPod } from './support/memory-client.js'
import { startPortForwardStandIn, type PortForwardStandIn } from './support/port-forward-standin.js'

const labels = { app: 'orders' }
const service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'orders', namespace: 'shop' },
  spec: { selector: labels, ports: [{ port: 80, targetPort: 'http' }] },
}

describe('port-forward through the real client-node PortForward, against a local WebSocket stand-in of the v4 channel protocol', () => {
  let standIn: PortForwardStandIn
  let server: http.Server
  let forwarder: NodeKubeClient

  beforeAll(async () => {
    standIn = await startPortForwardStandIn()
    forwarder = new NodeKubeClient(standIn.kubeConfig)
    server = http.createServer((req, res) => {
      let body = ''
      req.on('data', (c: Buffer) => (body += c.toString()))
      req.on('end', () => res.end(JSON.stringify({ method: req.method, url: req.url, body })))
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  })

  afterAll(async () => {
    await standIn.close()
    await new Promise((r) => server.close(r))
  })

  const port = (): number => (server.address() as AddressInfo).port

  it('carries requests and bodies both ways, one tunnel per connection, spread over the ready pods only', async () => {
    standIn.route('orders-a', port())
    standIn.route('orders-b', port())
    standIn.route('orders-c', port())
    const client = new MemoryKubeClient(
      [
        service,
        readyPod('shop', 'orders-a', labels),
        readyPod('shop', 'orders-b', labels),
        readyPod('shop', 'orders-c', labels, false),
      ],
      (ns, pod, p, socket) => forwarder.portForward(ns, pod, p, socket),
    )
    const forward = await forwardService(client, { namespace: 'shop', service: 'orders' })
    try {
      const big = 'x'.repeat(200_000)
      for (let i = 0; i < 4; i++) {
        const res = await fetch(`${forward.url}/orders/${i}`, {
          method: 'POST',
          body: i === 3 ? big : `n=${i}`,
          headers: { connection: 'close' },
        })
        expect(await res.json()).toEqual({
          method: 'POST',
          url: `/orders/${i}`,
          body: i === 3 ? big : `n=${i}`,
        })
      }
      expect(standIn.tunnels.slice(-4)).toEqual([
        'shop/orders-a:8080',
        'shop/orders-b:8080',
        'shop/orders-a:8080',
        'shop/orders-b:8080',
      ])
    } finally {
      await forward.close()
    }
  })

  it('retries a connection on another pod when the tunnel cannot open (the pod is gone: 404)', async () => {
    standIn.route('orders-b', port())
    const client = new MemoryKubeClient(
      [service, readyPod('shop', 'orders-0gone', labels), readyPod('shop', 'orders-b', labels)],
      (ns, pod, p, socket) => forwarder.portForward(ns, pod, p, socket),
    )
    const logs: string[] = []
    const forward = await forwardService(client, {
      namespace: 'shop',
      service: 'orders',
      log: (l) => logs.push(l),
    })
    try {
      const res = await fetch(`${forward.url}/health`, { headers: { connection: 'close' } })
      expect(res.status).toBe(200)
      expect(standIn.refused).toContain('orders-0gone')
      expect(logs).toEqual([])
    } finally {
      await forward.close()
    }
  })

  it('drops a connection after its attempts when no pod can be reached, and says why', async () => {
    const client = new MemoryKubeClient(
      [service, readyPod('shop', 'nowhere', labels)],
      (ns, pod, p, socket) => forwarder.portForward(ns, pod, p, socket),
    )
    const logs: string[] = []
    const forward = await forwardService(client, {
      namespace: 'shop',
      service: 'orders',
      attempts: 2,
      log: (l) => logs.push(l),
    })
    try {
      await expect(fetch(`${forward.url}/health`)).rejects.toThrow()
      expect(logs.join('\n')).toMatch(
        /port-forward shop\/orders: connection dropped after 2 attempts: port-forward to Pod shop\/nowhere:8080: .*404/,
      )
    } finally {
      await forward.close()
    }
  })

  it('refuses a Service without a selector or without the asked port', async () => {
    const headless = { ...service, spec: { ports: [{ port: 80 }] } }
    await expect(
      forwardService(new MemoryKubeClient([headless]), { namespace: 'shop', service: 'orders' }),
    ).rejects.toThrow('Service shop/orders has no selector: there is no pod to forward to')
    await expect(
      forwardService(new MemoryKubeClient([service]), { namespace: 'shop', service: 'orders', port: 81 }),
    ).rejects.toThrow('Service shop/orders has no port 81; it has 80')
  })
})
