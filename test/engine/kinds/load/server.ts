/** A loopback HTTP server whose latency can be set, for load tests. */
import http from 'node:http'
import type { AddressInfo } from 'node:net'

export interface SlowServer {
  url: string
  /** Requests answered so far, by path. */
  hits: Map<string, number>
  close(): Promise<void>
}

/** Answers 200 (201 for POST) after `delayMs`; `/fail` answers 500. */
export async function startServer(delayMs = 0): Promise<SlowServer> {
  const hits = new Map<string, number>()
  const server = http.createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0]!
      hits.set(path, (hits.get(path) ?? 0) + 1)
      const answer = () => {
        res.writeHead(path === '/fail' ? 500 : req.method === 'POST' ? 201 : 200, {
          'content-type': 'application/json',
        })
        res.end('{"ok":true}')
      }
      if (delayMs > 0) setTimeout(answer, delayMs)
      else answer()
    })
  })
  server.keepAliveTimeout = 10_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
