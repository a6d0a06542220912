/**
 * Requests released together: every connection is opened first, then each request is written on its own
 * connection in the same tick, so they reach the service as close together as the machine allows. The
 * release order is shuffled by the seed, so a round can be replayed.
 */
import http from 'node:http'
import net from 'node:net'

export interface RaceRequest {
  method: string
  url: string
  headers: Record<string, string>
  body?: string
}

export interface RaceResponse {
  /** 0 when no response came (the error says why). */
  status: number
  body: string
  durationMs: number
  error?: string
}

/** The indexes 0..n-1 in a seeded order. */
export function shuffled(n: number, random: () => number): number[] {
  const order = Array.from({ length: n }, (_, i) => i)
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[order[i], order[j]] = [order[j]!, order[i]!]
  }
  return order
}

const BODY_LIMIT = 2_000

/** Opens one connection per request, then writes them all in `order`; resolves with each one's response. */
export async function release(
  requests: readonly RaceRequest[],
  order: readonly number[],
  timeoutMs: number,
  signal: AbortSignal,
): Promise<RaceResponse[]> {
  const sockets = await Promise.all(
    requests.map(
      (r) =>
        new Promise<net.Socket>((resolve, reject) => {
          const url = new URL(r.url)
          const socket = net.connect(Number(url.port || 80), url.hostname)
          socket.once('connect', () => resolve(socket))
          socket.once('error', reject)
        }),
    ),
  )
  const outcomes: Array<Promise<RaceResponse>> = []
  const pending: Array<{ req: http.ClientRequest; body: string | undefined }> = []
  for (const i of order) {
    const r = requests[i]!
    const socket = sockets[i]!
    const url = new URL(r.url)
    const begin = performance.now()
    const req = http.request({
      method: r.method,
      host: url.hostname,
      port: url.port,
      path: url.pathname + url.search,
      headers: { ...r.headers, connection: 'close' },
      createConnection: () => socket,
      timeout: timeoutMs,
      signal,
    })
    pending.push({ req, body: r.body })
    outcomes[i] = new Promise<RaceResponse>((resolve) => {
      const done = (response: Omit<RaceResponse, 'durationMs'>) =>
        resolve({ ...response, durationMs: Math.round(performance.now() - begin) })
      req.once('timeout', () => req.destroy(new Error(`no response within ${timeoutMs} ms`)))
      req.once('error', (error) => done({ status: 0, body: '', error: error.message }))
      req.once('response', (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          if (body.length < BODY_LIMIT) body += chunk
        })
        res.once('end', () => done({ status: res.statusCode ?? 0, body: body.slice(0, BODY_LIMIT) }))
        res.once('error', (error) => done({ status: res.statusCode ?? 0, body, error: error.message }))
      })
    })
  }
  // All released in one tick: each end() flushes its request on its open connection.
  for (const { req, body } of pending) req.end(body)
  const responses = await Promise.all(outcomes)
  for (const socket of sockets) socket.destroy()
  return responses
}
