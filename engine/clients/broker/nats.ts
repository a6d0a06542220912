/** NATS adapter (core subjects; JetStream subjects are delivered to core subscribers too), on `nats`. */
import { shellQuote } from '../../http/curl.js'
import type { BrokerAdapter } from './types.js'

export const nats: BrokerAdapter = {
  wildcard: '>',
  async connect(endpoint) {
    const { connect, headers: makeHeaders } = await import('nats')
    const nc = await connect({ servers: endpoint.url, name: 'vigil', reconnect: false, timeout: 5_000 })
    return {
      async subscribe(subject, onMessage) {
        const sub = nc.subscribe(subject, {
          callback: (error, msg) => {
            if (error) return
            const headers: Record<string, string> = {}
            if (msg.headers) for (const [k, v] of msg.headers) headers[k] = v.join(', ')
            onMessage({ channel: msg.subject, data: msg.data, headers, key: msg.subject })
          },
        })
        // The server has the subscription once a round trip after it has completed.
        await nc.flush()
        return async () => {
          sub.unsubscribe()
          await nc.flush().catch(() => undefined)
        }
      },
      async publish(subject, data, headers) {
        const h = Object.keys(headers).length ? makeHeaders() : undefined
        for (const [k, v] of Object.entries(headers)) h!.set(k, v)
        nc.publish(subject, data, h ? { headers: h } : {})
        await nc.flush()
      },
      close: () => nc.close().catch(() => undefined),
    }
  },
  subscribeCommand: (endpoint, channel) =>
    `nats sub --server ${shellQuote(endpoint.url)} ${shellQuote(channel)}`,
  publishCommand: (endpoint, channel, payload) =>
    `nats pub --server ${shellQuote(endpoint.url)} ${shellQuote(channel)} ${shellQuote(payload)}`,
}
