/** The HTTP client's log of recent exchanges, against a real server on loopback. */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HttpClient } from '../../../engine/http/client.js'

let server: Server
let base: string
beforeAll(async () => {
  server = createServer((req, res) => {
    const wait = Number(new URL(req.url!, 'http://x').searchParams.get('wait') ?? 0)
    setTimeout(
      () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":"ord_12345678"}'),
      wait,
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

describe('ExchangeLog', () => {
  it('keeps what was answered, and waits for requests in flight before a moment', async () => {
    const client = new HttpClient()
    try {
      const since = performance.now()
      const quick = await client.request({ method: 'GET', url: `${base}/a` })
      const slow = client.request({ method: 'GET', url: `${base}/b?wait=300` })
      await new Promise((resolve) => setTimeout(resolve, 20))
      const before = performance.now()
      expect(client.log.answeredSince(since).map((e) => e.exchange)).toEqual([quick])
      // Not answered within 50 ms; then, once it is, settled.
      expect(await client.log.settled(before, 50)).toBe(false)
      expect(await client.log.settled(before, 2_000)).toBe(true)
      const answered = await slow
      expect(client.log.answeredSince(since).map((e) => e.exchange)).toEqual([quick, answered])
      // A request sent after the moment is not waited for.
      const later = client.request({ method: 'GET', url: `${base}/c?wait=300` })
      expect(await client.log.settled(before, 50)).toBe(true)
      await later
      expect(client.log.covers(since)).toBe(true)
    } finally {
      await client.close()
    }
  })

  it('does not wait for a request that failed', async () => {
    const client = new HttpClient()
    try {
      await expect(client.request({ method: 'GET', url: 'http://127.0.0.1:1/' })).rejects.toThrow()
      expect(await client.log.settled(performance.now(), 50)).toBe(true)
    } finally {
      await client.close()
    }
  })
})
