// In-memory order storage, for orders started without a database. Bounded: past MAX_ORDERS the oldest order
// is forgotten, so a long load test cannot exhaust memory.
const MAX_ORDERS = 100_000

/** @type {Map<string, any>} id → order, insertion-ordered (oldest first) */
const byId = new Map()
/** @type {Map<string, any[]>} owner → that owner's orders, oldest first */
const byOwner = new Map()

export async function saveOrder(order) {
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

export async function findOrder(id, owner) {
  const order = byId.get(id)
  return order && order.owner === owner ? order : undefined
}

export async function listOrders(owner, limit) {
  const own = byOwner.get(owner) ?? []
  return own.slice(-limit).reverse()
}

export async function close() {}
