/** Loopback JSON servers for contract tests: each answers from a handler that may change per call. */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { AnyCheckKind, ReportDescriptor } from '../../../../engine/api/kind.js'
import { createCheckContext } from '../../../support/check-context.js'

export interface Reply {
  status?: number
  headers?: Record<string, string>
  /** Serialised as JSON unless a string (sent as is). */
  body?: unknown
}

export type Handler = (request: {
  method: string
  path: string
  call: number
  headers: IncomingMessage['headers']
  body: string
}) => Reply

/** A loopback JSON server, usable as a KindTester target (its one service is `services[name]`). */
export interface TestServer {
  url: string
  services: Record<string, string>
  /** Requests received, in order. */
  calls: Array<{ method: string; path: string }>
  close(): Promise<void>
}

export async function startServer(handler: Handler, service = 'api'): Promise<TestServer> {
  const calls: TestServer['calls'] = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const method = req.method ?? 'GET'
      const path = req.url ?? '/'
      calls.push({ method, path })
      const reply = handler({
        method,
        path,
        call: calls.length,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      })
      const text =
        typeof reply.body === 'string'
          ? reply.body
          : reply.body === undefined
            ? ''
            : JSON.stringify(reply.body)
      const headers: Record<string, string> = {
        ...(typeof reply.body === 'string' || reply.body === undefined
          ? {}
          : { 'content-type': 'application/json' }),
        'x-request-id': `req-${calls.length}`,
        ...reply.headers,
      }
      res.writeHead(reply.status ?? 200, headers)
      res.end(text)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const url = `http://127.0.0.1:${port}`
  return {
    url,
    services: { [service]: url },
    calls,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

/**
 * Runs one check of `kind` with the candidate (and, when given, the baseline) served by handlers on fresh
 * loopback servers, closed once the check is done; their calls stay readable afterwards.
 */
export async function runOnServers<P>(
  kind: AnyCheckKind,
  params: P,
  candidate: Handler,
  baseline?: Handler,
): Promise<{ findings: ReportDescriptor[]; candidate: TestServer; baseline: TestServer | undefined }> {
  const c = await startServer(candidate)
  const b = baseline ? await startServer(baseline) : undefined
  const t = createCheckContext<P>({
    kind,
    params,
    candidate: { services: { api: c.url } },
    ...(b ? { baseline: { services: { api: b.url } } } : {}),
  })
  try {
    await t.run()
  } finally {
    await Promise.all([t.close(), c.close(), b?.close()])
  }
  return { findings: t.findings, candidate: c, baseline: b }
}
