/**
 * `tcp-echo`, a check kind that does not speak HTTP, kept in the tests' support folder to prove the seam:
 * it plugs in with this folder and one registry line, asks for its client by name, and writes evidence
 * of its own transport that every reporter renders without knowing it.
 *
 *   ```tcp-echo
 *   service: echo
 *   send: ping          # the reply must be the same bytes, unless `expect` says otherwise
 *   ```
 */
import { defineCheckKind, evidence, formatElapsed, shellQuote } from '../../../engine/api/index.js'
import type { TcpClients } from './client.js'

export interface TcpEchoParams {
  /** @default the sandbox's default service */
  service?: string
  send: string
  /** @default what was sent */
  expect?: string
}

export default defineCheckKind<TcpEchoParams, 'tcp', TcpClients>({
  meta: {
    description: 'A TCP service echoes what it is sent',
    needs: ['tcp'],
    schema: {
      type: 'object',
      additionalProperties: false,
      required: ['send'],
      properties: {
        service: { type: 'string' },
        send: { type: 'string', minLength: 1 },
        expect: { type: 'string' },
      },
    },
    messages: {
      mismatch: 'Sent {{sent}} to {{service}}, got {{received}} back; expected {{expected}}.',
      echoed: 'Sent {{sent}} to {{service}} and got it back.',
    },
  },
  async run(ctx) {
    const params = ctx.vars.render(ctx.params)
    const sandbox = ctx.sandboxes.candidate
    const service = params.service ?? sandbox.defaultService
    const expected = params.expect ?? params.send
    const reply = await ctx.clients.tcp.exchange(sandbox.url(service), params.send, {
      timeoutMs: Math.min(ctx.timeoutMs, 5_000),
      signal: ctx.signal,
    })
    const ok = reply.received === expected
    const data = {
      service,
      sent: JSON.stringify(reply.sent),
      received: JSON.stringify(reply.received),
      expected: JSON.stringify(expected),
    }
    ctx.report({
      messageId: ok ? 'echoed' : 'mismatch',
      severity: ok ? 'info' : 'error',
      data,
      ...(ok ? {} : { expected, actual: reply.received }),
      evidence: evidence({
        transport: 'tcp',
        sandbox: sandbox.name,
        summary: [
          {
            label: 'sent',
            value: `${JSON.stringify(reply.sent)} to ${reply.host}:${reply.port} (${sandbox.name})`,
          },
          {
            label: 'received',
            value: `${Buffer.byteLength(reply.received)} bytes in ${formatElapsed(reply.durationMs)}`,
          },
        ],
        excerpt: { label: 'reply', text: reply.received },
        reproduce: `printf '%s' ${shellQuote(reply.sent)} | nc ${reply.host} ${reply.port}`,
        details: { host: reply.host, port: reply.port, sent: reply.sent, received: reply.received },
      }),
    })
  },
})
