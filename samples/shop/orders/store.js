// Order storage: PostgreSQL when DATABASE_URL is set (vigil gives each sandbox a database of its own, migrated
// from db/migrations; its driver loads only then), else in memory for a quick start by hand. Each stored order
// is announced on the bus (events.js).
import { publishOrderCreated } from './events.js'
import * as memory from './store-memory.js'
const postgres = process.env.DATABASE_URL ? await import('./store-pg.js') : undefined

const store = process.env.DATABASE_URL ? postgres : memory

export async function saveOrder(order) {
  await store.saveOrder(order)
  // The rest of the shop hears of it (shipping) once it is stored; the answer does not wait for the bus.
  void publishOrderCreated(order)
}

/** The order when `owner` owns it; otherwise undefined, so callers cannot tell "not yours" from "absent". */
export function findOrder(id, owner) {
  return store.findOrder(id, owner)
}

/** The owner's `limit` newest orders, newest first. */
export function listOrders(owner, limit) {
  return store.listOrders(owner, limit)
}

/**
 * Reserves `wanted` (sku → quantity) of the limited SKUs, all or nothing; other SKUs are not counted here.
 * @returns {Promise<{ short: Array<{ sku: string, available: number }> }>} what was short when nothing was taken
 */
export function reserveStock(wanted) {
  return store.reserveStock(wanted)
}

/** Gives back a reservation whose order was not placed. */
export function releaseStock(wanted) {
  return store.releaseStock(wanted)
}

/** `{ sku, available, sold }` of a limited SKU; undefined for any other. */
export function readStock(sku) {
  return store.readStock(sku)
}

/** Sets a limited SKU's stock to `available`, with nothing sold yet; undefined for any other SKU. */
export function setStock(sku, available) {
  return store.setStock(sku, available)
}

export function closeStore() {
  return store.close()
}
