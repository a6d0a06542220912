/** A tiny orders API on 127.0.0.1 (port 0) for engine tests. */
import http from 'node:http'
import type { AddressInfo } from 'node:net'

export interface TestServer {
  url: string
  /** Requests seen, as `METHOD /path`. */
  seen: string[]
  close(): Promise<void>
}

export async function startOrdersServer(): Promise<TestServer> {
  const seen: string[] = []
  const server = http.createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => (body += c.toString()))
    req.on('end', () => {
      seen.push(`${req.method} ${req.url}`)
      const url = new URL(req.url ?? '/', 'http://x')
      const send = (status: number, value: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers })
        res.end(JSON.stringify(value))
      }
      if (req.method === 'POST' && url.pathname === '/orders') {
        const input = JSON.parse(body || '{}') as { items?: unknown[] }
        return send(
          201,
          {
            id: 'o-1',
            totalCents: 0,
            paid: false,
            note: null,
            items: input.items ?? [],
            region: url.searchParams.get('region'),
          },
          { location: '/orders/o-1' },
        )
      }
      if (req.method === 'GET' && url.pathname === '/orders/o-1') {
        return send(200, {
          id: 'o-1',
          totalCents: 0,
          paid: false,
          note: null,
          items: [{ sku: 'tea', quantity: 2 }],
        })
      }
      if (url.pathname === '/whoami') return send(200, { authorization: req.headers.authorization ?? null })
      if (url.pathname === '/slow') return setTimeout(() => send(200, { ok: true }), 80)
      if (url.pathname === '/text') {
        res.writeHead(200, { 'content-type': 'text/plain' })
        return res.end('hello plain world')
      }
      if (url.pathname === '/boom') return send(500, { error: 'internal', stack: 'at thing (x.js:1)' })
      send(404, { error: 'not found', path: url.pathname })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
