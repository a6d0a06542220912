/** MQTT adapter (3.1.1, QoS 1 subscriptions), on `mqtt`. */
import { shellQuote } from '../../http/curl.js'
import type { BrokerAdapter } from './types.js'

export const mqtt: BrokerAdapter = {
  wildcard: '#',
  async connect(endpoint) {
    const { connectAsync } = await import('mqtt')
    const client = await connectAsync(endpoint.url, {
      clientId: `vigil-${process.pid}-${Math.random().toString(16).slice(2, 10)}`,
      reconnectPeriod: 0,
      connectTimeout: 5_000,
    })
    const handlers = new Map<string, (topic: string, data: Uint8Array) => void>()
    client.on('message', (topic, data) => {
      for (const [filter, handler] of handlers) if (matches(filter, topic)) handler(topic, data)
    })
    return {
      async subscribe(topic, onMessage) {
        handlers.set(topic, (t, data) => onMessage({ channel: t, data, headers: {}, key: t }))
        await client.subscribeAsync(topic, { qos: 1 })
        return async () => {
          handlers.delete(topic)
          await client.unsubscribeAsync(topic).catch(() => undefined)
        }
      },
      async publish(topic, data) {
        await client.publishAsync(topic, Buffer.from(data), { qos: 1 })
      },
      close: () => client.endAsync(true).catch(() => undefined),
    }
  },
  subscribeCommand: (endpoint, channel) =>
    `mosquitto_sub -h ${endpoint.host} -p ${endpoint.port} -t ${shellQuote(channel)} -v`,
  publishCommand: (endpoint, channel, payload) =>
    `mosquitto_pub -h ${endpoint.host} -p ${endpoint.port} -t ${shellQuote(channel)} -m ${shellQuote(payload)}`,
}

/** MQTT topic filter matching: `+` one level, `#` the rest. */
export function matches(filter: string, topic: string): boolean {
  const f = filter.split('/')
  const t = topic.split('/')
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true
    if (i >= t.length || (f[i] !== '+' && f[i] !== t[i])) return false
  }
  return f.length === t.length
}
