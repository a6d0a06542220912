// The shop's message bus, chosen by the URL's scheme: mqtt:// (MQTT, e.g. the embedded broker vigil starts)
// or nats:// (NATS). BUS_PREFIX, when set, is put in front of every channel: a shared broker keeps each
// sandbox's messages apart that way. Payloads are JSON.

/**
 * @param {string} url
 * @param {{ prefix?: string, name: string }} options
 * @returns {Promise<{ publish(channel: string, body: unknown): Promise<void>, subscribe(channel: string, handler: (body: any) => void): Promise<void>, close(): Promise<void> }>}
 */
export async function connectBus(url, { prefix = '', name }) {
  const scheme = new URL(url).protocol
  if (scheme === 'mqtt:') {
    const { connectAsync } = await import('mqtt')
    const client = await connectAsync(url, { clientId: `${name}-${process.pid}`, reconnectPeriod: 1000 })
    const handlers = new Map()
    client.on('message', (topic, data) => {
      const handler = handlers.get(topic)
      if (handler) handler(JSON.parse(data.toString('utf8')))
    })
    return {
      publish: async (channel, body) => {
        await client.publishAsync(prefix + channel, JSON.stringify(body), { qos: 1 })
      },
      subscribe: async (channel, handler) => {
        handlers.set(prefix + channel, handler)
        await client.subscribeAsync(prefix + channel, { qos: 1 })
      },
      close: () => client.endAsync(),
    }
  }
  if (scheme === 'nats:') {
    const { connect } = await import('nats')
    const nc = await connect({ servers: url, name })
    return {
      publish: async (channel, body) => {
        nc.publish(prefix + channel, JSON.stringify(body))
        await nc.flush()
      },
      subscribe: async (channel, handler) => {
        nc.subscribe(prefix + channel, {
          callback: (error, msg) => !error && handler(JSON.parse(msg.string())),
        })
        await nc.flush()
      },
      close: () => nc.close(),
    }
  }
  throw new Error(`BUS_URL: unsupported scheme ${scheme}; use mqtt:// or nats://`)
}
