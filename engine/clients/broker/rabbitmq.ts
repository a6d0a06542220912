/**
 * RabbitMQ adapter (AMQP 0-9-1), on `amqplib`: a channel is a routing key on the endpoint's exchange
 * (`amq.topic` unless the dependency names another). A capture binds an exclusive, auto-deleted queue.
 */
import { shellQuote } from '../../http/curl.js'
import type { BrokerAdapter } from './types.js'

export const rabbitmq: BrokerAdapter = {
  wildcard: '#',
  async connect(endpoint) {
    const amqp = await import('amqplib')
    const exchange = String(endpoint.settings?.exchange ?? 'amq.topic')
    const connection = await amqp.connect(endpoint.url, { timeout: 5_000 })
    connection.on('error', () => undefined)
    const channel = await connection.createChannel()
    channel.on('error', () => undefined)
    return {
      async subscribe(routingKey, onMessage) {
        const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true })
        await channel.bindQueue(queue, exchange, routingKey)
        const { consumerTag } = await channel.consume(
          queue,
          (msg) => {
            if (!msg) return
            const headers: Record<string, string> = {}
            for (const [k, v] of Object.entries(msg.properties.headers ?? {})) headers[k] = String(v)
            if (msg.properties.contentType) headers['content-type'] = String(msg.properties.contentType)
            if (msg.properties.messageId) headers['message-id'] = String(msg.properties.messageId)
            const key = msg.fields.routingKey
            onMessage({ channel: key, data: msg.content, headers, key })
          },
          { noAck: true },
        )
        return async () => {
          await channel.cancel(consumerTag).catch(() => undefined)
          await channel.deleteQueue(queue).catch(() => undefined)
        }
      },
      async publish(routingKey, data, headers) {
        channel.publish(exchange, routingKey, Buffer.from(data), {
          headers,
          contentType: headers['content-type'] ?? 'application/json',
        })
        // A publish is only sent with the next frames; a round trip makes sure it has left.
        await channel.checkExchange(exchange)
      },
      async close() {
        await channel.close().catch(() => undefined)
        await connection.close().catch(() => undefined)
      },
    }
  },
  subscribeCommand: (endpoint, channel) =>
    `amqp-consume --url ${shellQuote(endpoint.url)} -e ${shellQuote(String(endpoint.settings?.exchange ?? 'amq.topic'))} -r ${shellQuote(channel)} cat`,
  publishCommand: (endpoint, channel, payload) =>
    `amqp-publish --url ${shellQuote(endpoint.url)} -e ${shellQuote(String(endpoint.settings?.exchange ?? 'amq.topic'))} -r ${shellQuote(channel)} -b ${shellQuote(payload)}`,
}
