/**
 * The fault proxies on real loopback servers: each HTTP fault (a status with Retry-After, latency, no
 * answer, a reset, a slow body), each TCP fault (a reset, no answer, latency), the counts, lifting a
 * fault, and the refusal of an address that is not the sandbox's.
 */
import http from 'node:http'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SandboxAddresses } from '../../../engine/clients/addresses.js'
import { FaultProxies, type FaultProxy } from '../../../engine/clients/faults.js'

let upstream: http.Server
let echo: net.Server
let upstreamUrl: string
let echoUrl: string
let proxies: FaultProxies

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => (body += c.toString()))
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'yes' })
      res.end(JSON.stringify({ method: req.method, path: req.url, body, pad: 'x'.repeat(400) }))
    })
  })
  echo = net.createServer((socket) => socket.pipe(socket))
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r))
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r))
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`
  echoUrl = `redis://127.0.0.1:${(echo.address() as AddressInfo).port}`
  proxies = new FaultProxies(new SandboxAddresses([upstreamUrl, echoUrl]))
})

afterAll(async () => {
  await proxies.close()
  upstream.closeAllConnections()
  await new Promise((r) => upstream.close(r))
  await new Promise((r) => echo.close(r))
})

async function get(proxy: FaultProxy, path = '/x', timeoutMs = 5_000): Promise<Response> {
  return fetch(`http://${proxy.host}:${proxy.port}${path}`, {
    method: 'POST',
    body: 'hello',
    signal: AbortSignal.timeout(timeoutMs),
  })
}

describe('HTTP fault proxy', () => {
  it('forwards method, path, body and headers without a fault, and counts the attempt', async () => {
    const proxy = await proxies.start(upstreamUrl)
    const res = await get(proxy, '/orders?x=1')
    expect(res.status).toBe(200)
    expect(res.headers.get('x-upstream')).toBe('yes')
    expect(await res.json()).toMatchObject({ method: 'POST', path: '/orders?x=1', body: 'hello' })
    expect(proxy.counts()).toEqual({ attempts: 1, faulted: 0, forwarded: 1, upstreamErrors: 0 })
    await proxy.close()
  })

  it('answers a status with Retry-After for the first `times` requests, then forwards', async () => {
    const proxy = await proxies.start(upstreamUrl)
    proxy.setFault({ type: 'status', status: 429, retryAfter: 2, times: 2 })
    const first = await get(proxy)
    expect(first.status).toBe(429)
    expect(first.headers.get('retry-after')).toBe('2')
    expect((await get(proxy)).status).toBe(429)
    expect((await get(proxy)).status).toBe(200)
    expect(proxy.counts()).toEqual({ attempts: 3, faulted: 2, forwarded: 1, upstreamErrors: 0 })
    await proxy.close()
  })

  it('adds latency before forwarding', async () => {
    const proxy = await proxies.start(upstreamUrl)
    proxy.setFault({ type: 'latency', ms: 300 })
    const begin = performance.now()
    expect((await get(proxy)).status).toBe(200)
    expect(performance.now() - begin).toBeGreaterThanOrEqual(290)
    await proxy.close()
  })

  it('never answers while hanging, and drops the request when the fault is lifted', async () => {
    const proxy = await proxies.start(upstreamUrl)
    proxy.setFault({ type: 'hang' })
    await expect(get(proxy, '/x', 400)).rejects.toThrow()
    const pending = get(proxy, '/x', 10_000)
    await new Promise((r) => setTimeout(r, 100))
    proxy.setFault(undefined)
    await expect(pending).rejects.toThrow()
    expect((await get(proxy)).status).toBe(200)
    expect(proxy.counts()).toMatchObject({ attempts: 3, faulted: 2, forwarded: 1 })
    await proxy.close()
  })

  it('resets the connection', async () => {
    const proxy = await proxies.start(upstreamUrl)
    proxy.setFault({ type: 'reset' })
    await expect(get(proxy)).rejects.toThrow()
    await proxy.close()
  })

  it('sends the body slowly but whole', async () => {
    const proxy = await proxies.start(upstreamUrl)
    proxy.setFault({ type: 'slow-body', bytesPerSecond: 1000 })
    const begin = performance.now()
    const res = await get(proxy)
    expect(res.status).toBe(200)
    expect(((await res.json()) as { pad: string }).pad).toHaveLength(400)
    // About half a second of body at 1000 bytes/s.
    expect(performance.now() - begin).toBeGreaterThanOrEqual(300)
    await proxy.close()
  })

  it('refuses a target that is not a sandbox address', async () => {
    await expect(proxies.start('http://127.0.0.1:1')).rejects.toThrow(/not a sandbox address/)
  })
})

function exchange(proxy: FaultProxy, timeoutMs = 3_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(proxy.port, proxy.host)
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error('timed out'))
    }, timeoutMs)
    socket.once('connect', () => socket.write('ping'))
    socket.once('data', (data) => {
      clearTimeout(timer)
      socket.end()
      resolve(data.toString())
    })
    socket.once('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    socket.once('close', () => {
      clearTimeout(timer)
      reject(new Error('closed'))
    })
  })
}

describe('TCP fault proxy', () => {
  it('relays bytes without a fault and with latency', async () => {
    const proxy = await proxies.start(echoUrl)
    expect(proxy.protocol).toBe('tcp')
    expect(await exchange(proxy)).toBe('ping')
    proxy.setFault({ type: 'latency', ms: 200 })
    const begin = performance.now()
    expect(await exchange(proxy)).toBe('ping')
    expect(performance.now() - begin).toBeGreaterThanOrEqual(350)
    expect(proxy.counts()).toMatchObject({ attempts: 2, faulted: 1, forwarded: 2 })
    await proxy.close()
  })

  it('resets connections and hangs them until the fault is lifted', async () => {
    const proxy = await proxies.start(echoUrl)
    proxy.setFault({ type: 'reset' })
    await expect(exchange(proxy)).rejects.toThrow()
    proxy.setFault({ type: 'hang' })
    await expect(exchange(proxy, 300)).rejects.toThrow('timed out')
    proxy.setFault(undefined)
    expect(await exchange(proxy)).toBe('ping')
    await proxy.close()
  })
})
