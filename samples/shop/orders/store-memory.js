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

/** Stock of the limited SKUs, as db/migrations/002_stock.sql seeds it: sku → { available, sold }. */
const stock = new Map([['kyusu', { available: 3, sold: 0 }]])

export async function reserveStock(wanted) {
  const limited = [...wanted].filter(([sku]) => stock.has(sku))
  const short = limited
    .filter(([sku, quantity]) => stock.get(sku).available < quantity)
    .map(([sku]) => ({ sku, available: stock.get(sku).available }))
  if (short.length > 0) return { short }
  // Checked and taken in the same turn of the event loop: nothing can run in between.
  for (const [sku, quantity] of limited) {
    stock.get(sku).available -= quantity
    stock.get(sku).sold += quantity
  }
  return { short: [] }
}

export async function releaseStock(wanted) {
  for (const [sku, quantity] of wanted) {
    const entry = stock.get(sku)
    if (!entry) continue
    entry.available += quantity
    entry.sold -= quantity
  }
}

export async function readStock(sku) {
  const entry = stock.get(sku)
  return entry && { sku, ...entry }
}

export async function setStock(sku, available) {
  if (!stock.has(sku)) return undefined
  stock.set(sku, { available, sold: 0 })
  return { sku, available, sold: 0 }
}
