// What orders tells the rest of the shop, on the bus (BUS_URL; none: nothing is published):
//   order.created  after an order is stored: { orderId, owner, totalCents, currency, items, createdAt }
import { connectBus } from '../lib/bus.js'

const url = process.env.BUS_URL
const bus = url
  ? connectBus(url, { prefix: process.env.BUS_PREFIX ?? '', name: 'orders' }).catch((error) => {
      console.error(`orders: cannot reach the bus at ${url}: ${error.message}`)
      return undefined
    })
  : Promise.resolve(undefined)

/** The order.created message of a stored order. */
export function orderCreated(order) {
  return {
    orderId: order.id,
    owner: order.owner,
    totalCents: order.totalCents,
    currency: order.currency,
    items: order.items.map(({ sku, quantity }) => ({ sku, quantity })),
    createdAt: order.createdAt,
  }
}

/** Publishes order.created; a bus that is down is logged, never fails the request that stored the order. */
export async function publishOrderCreated(order) {
  const connected = await bus
  if (!connected) return
  await connected.publish('order.created', orderCreated(order)).catch((error) => {
    console.error(`orders: order.created for ${order.id} not published: ${error.message}`)
  })
}
