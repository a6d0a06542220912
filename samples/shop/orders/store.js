// In-memory order storage; each stored order is announced on the bus (events.js). Bounded: past MAX_ORDERS the oldest order is forgotten, so a long
// load test cannot exhaust memory.
import { publishOrderCreated } from './events.js'

const MAX_ORDERS = 100_000

/** @type {Map<string, any>} id → order, insertion-ordered (oldest first) */
const byId = new Map()
/** @type {Map<string, any[]>} owner → that owner's orders, oldest first */
const byOwner = new Map()

export function saveOrder(order) {
  // The rest of the shop hears of it (shipping) once this returns; the answer does not wait for the bus.
  void publishOrderCreated(order)
  byId.set(order.id, order)
  const own = byOwner.get(order.owner) ?? []
  own.push(order)
  byOwner.set(order.owner, own)
  if (byId.size > MAX_ORDERS) {
    const oldest = byId.values().next().value
    byId.delete(oldest.id)
    // The globally oldest order is also the oldest of its owner.
    byOwner.get(oldest.owner).shift()
  }
}

/** The order when `owner` owns it; otherwise undefined, so callers cannot tell "not yours" from "absent". */
export function findOrder(id, owner) {
  const order = byId.get(id)
  return order && order.owner === owner ? order : undefined
}

/** The owner's `limit` newest orders, newest first. */
export function listOrders(owner, limit) {
  const own = byOwner.get(owner) ?? []
  return own.slice(-limit).reverse()
}
