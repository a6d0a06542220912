/**
 * `tcp`: a client for a transport vigil has no client for — bytes over a TCP connection. It is opened like
 * any client (`defineClient`) and keeps to the sandboxes' addresses like any client: the destination is
 * checked before connecting.
 */
import net from 'node:net'
import { defineClient, type ClientContext } from '../../../engine/api/index.js'

export interface TcpExchange {
  host: string
  port: number
  sent: string
  received: string
  durationMs: number
}

export class TcpClient {
  constructor(private readonly ctx: ClientContext) {}

  /**
   * Connects to the host and port of `url` (a sandbox service's base URL, whatever its scheme), writes
   * `payload`, half-closes, and reads the reply until the service closes its side.
   */
  async exchange(
    url: string,
    payload: string,
    options: { timeoutMs: number; signal: AbortSignal },
  ): Promise<TcpExchange> {
    const target = new URL(url)
    this.ctx.addresses.check(target)
    const host = target.hostname
    const port = Number(target.port)
    const started = performance.now()
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = []
      const socket = net.connect({ host, port })
      const fail = (error: unknown) => {
        socket.destroy()
        reject(error)
      }
      const onAbort = () => fail(options.signal.reason)
      options.signal.addEventListener('abort', onAbort, { once: true })
      socket.setTimeout(options.timeoutMs, () =>
        fail(new Error(`no reply from ${host}:${port} in ${options.timeoutMs} ms`)),
      )
      socket.on('connect', () => socket.end(payload))
      socket.on('data', (chunk) => chunks.push(chunk))
      socket.on('error', fail)
      socket.on('close', () => {
        options.signal.removeEventListener('abort', onAbort)
        const received = Buffer.concat(chunks).toString('utf8')
        resolve({ host, port, sent: payload, received, durationMs: performance.now() - started })
      })
    })
  }
}

export const tcp = defineClient({ open: (ctx) => new TcpClient(ctx), close: async () => undefined })

/** The client types this kind's folder brings, for `defineCheckKind`'s third type parameter. */
export interface TcpClients {
  tcp: TcpClient
}
