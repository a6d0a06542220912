/**
 * An HTTP proxy in front of one sandbox service, applying faults at the HTTP level (a status, added
 * latency, no answer, a reset, a slow body). It forwards with undici, only ever to the one address it was
 * made for, which the caller checked against the run's sandbox addresses.
 */
import http from 'node:http'
import type { Socket } from 'node:net'
import { Agent, request as undiciRequest } from 'undici'
import { FaultSwitch, listenProxy, type Fault, type FaultProxy } from './types.js'

/** Hop-by-hop headers (RFC 9110 §7.6.1) and the ones undici sets itself: never forwarded. */
const HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'host',
  'content-length',
])

/** Starts an HTTP fault proxy forwarding to `target` (a base URL such as `http://127.0.0.1:4001`). */
export async function startHttpProxy(target: string): Promise<FaultProxy> {
  const base = new URL(target)
  const origin = base.origin
  const faults = new FaultSwitch()
  const sockets = new Set<Socket>()
  // Its own pool: closing the proxy closes its upstream connections too.
  const agent = new Agent({ keepAliveTimeout: 1_000 })
  const server = http.createServer((req, res) => {
    const fault = faults.next()
    void handle(req, res, fault).catch(() => res.destroy())
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, fault: Fault | undefined) {
    if (fault?.type === 'status') {
      req.resume()
      const body = fault.body ?? JSON.stringify({ error: `fault injected: HTTP ${fault.status}` })
      res.writeHead(fault.status, {
        'content-type': fault.body === undefined ? 'application/json' : 'text/plain',
        'content-length': Buffer.byteLength(body),
        ...(fault.retryAfter !== undefined ? { 'retry-after': String(fault.retryAfter) } : {}),
      })
      res.end(body)
      return
    }
    if (fault?.type === 'reset') {
      req.socket.resetAndDestroy()
      return
    }
    if (fault?.type === 'hang') {
      req.resume()
      const forget = faults.onLift(() => req.socket.destroy())
      req.socket.once('close', forget)
      return
    }
    if (fault?.type === 'latency') {
      await new Promise((resolve) => setTimeout(resolve, fault.ms))
      if (req.socket.destroyed) return
    }
    const headers: Record<string, string | string[]> = {}
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined && !HOP.has(name)) headers[name] = value
    }
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD'
    let upstream: Awaited<ReturnType<typeof undiciRequest>>
    try {
      upstream = await undiciRequest(origin + (req.url ?? '/'), {
        method: req.method as 'GET',
        headers,
        body: hasBody ? req : null,
        dispatcher: agent,
      })
    } catch {
      faults.tally.upstreamErrors++
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' })
      res.end('fault proxy: the dependency did not answer')
      return
    }
    if (fault === undefined || fault.type === 'latency') faults.tally.forwarded++
    const out: Record<string, string | string[]> = {}
    for (const [name, value] of Object.entries(upstream.headers)) {
      if (value !== undefined && !HOP.has(name)) out[name] = value
    }
    res.writeHead(upstream.statusCode, out)
    if (fault?.type !== 'slow-body') {
      for await (const chunk of upstream.body) res.write(chunk)
      res.end()
      return
    }
    // A slow body: the bytes trickle at the fault's rate, in slices of at most a tenth of a second's worth.
    const slice = Math.max(1, Math.floor(fault.bytesPerSecond / 10))
    for await (const chunk of upstream.body) {
      const bytes = chunk as Buffer
      for (let i = 0; i < bytes.length; i += slice) {
        if (res.destroyed) return
        res.write(bytes.subarray(i, i + slice))
        await new Promise((resolve) => setTimeout(resolve, (slice / fault.bytesPerSecond) * 1000))
      }
    }
    res.end()
  }

  return listenProxy({
    server,
    faults,
    sockets,
    protocol: 'http',
    target: origin,
    release: () => agent.close(),
  })
}
