/**
 * Redis Streams adapter, on `ioredis`: a channel is a stream key. A capture reads the entries added after
 * it started (from the stream's last id then) with blocking XREAD on a connection of its own. An entry's
 * payload is its `data`, `payload`, `json`, `body` or `message` field (else all its fields as an object);
 * its other fields are its headers. Publishing adds `data` with the payload.
 */
import { shellQuote } from '../../http/curl.js'
import type { BrokerAdapter } from './types.js'

const PAYLOAD_FIELDS = ['data', 'payload', 'json', 'body', 'message']

export const redis: BrokerAdapter = {
  async connect(endpoint) {
    const { Redis } = await import('ioredis')
    const options = { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 5_000 }
    const main = new Redis(endpoint.url, options)
    main.on('error', () => undefined)
    await main.connect()
    const readers = new Set<InstanceType<typeof Redis>>()
    return {
      async subscribe(stream, onMessage) {
        const last = (await main.xrevrange(stream, '+', '-', 'COUNT', 1))[0]?.[0] ?? '0-0'
        const reader = main.duplicate()
        reader.on('error', () => undefined)
        readers.add(reader)
        let open = true
        let cursor = last
        const loop = (async () => {
          while (open) {
            const result = await reader.xread('BLOCK', 100, 'STREAMS', stream, cursor).catch(() => null)
            for (const [, entries] of result ?? []) {
              for (const [id, fields] of entries) {
                cursor = id
                const map: Record<string, string> = {}
                for (let i = 0; i + 1 < fields.length; i += 2) map[fields[i]!] = fields[i + 1]!
                const field = PAYLOAD_FIELDS.find((f) => f in map)
                const text = field ? map[field]! : JSON.stringify(map)
                const headers = { ...map }
                if (field) delete headers[field]
                onMessage({ channel: stream, data: Buffer.from(text), headers, key: id })
              }
            }
          }
        })()
        return async () => {
          open = false
          await loop
          readers.delete(reader)
          reader.disconnect()
        }
      },
      async publish(stream, data, headers) {
        const fields = Object.entries(headers).flat()
        await main.xadd(stream, '*', 'data', Buffer.from(data).toString('utf8'), ...fields)
      },
      async close() {
        for (const reader of readers) reader.disconnect()
        main.disconnect()
      },
    }
  },
  subscribeCommand: (endpoint, channel) =>
    `redis-cli -u ${shellQuote(endpoint.url)} XREAD BLOCK 0 STREAMS ${shellQuote(channel)} '$'`,
  publishCommand: (endpoint, channel, payload) =>
    `redis-cli -u ${shellQuote(endpoint.url)} XADD ${shellQuote(channel)} '*' data ${shellQuote(payload)}`,
}
