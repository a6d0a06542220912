// Input validation for POST /orders. Strict on purpose: every rule here is written down in
// openapi/orders.yaml (CreateOrderRequest), and the adversarial plan holds the service to it.
import { HttpError, checkObject } from '../lib/http.js'

export const SKU = /^[a-z][a-z0-9-]{0,39}$/
export const MIN_ITEMS = 1
export const MAX_ITEMS = 50
export const MIN_QUANTITY = 1
export const MAX_QUANTITY = 100

/**
 * Returns the order request's items, or throws a 400 listing every problem found (at most 20).
 * @returns {Array<{ sku: string, quantity: number }>}
 */
export function validateCreateOrder(body) {
  const details = checkObject(body, ['items'])
  if (details[0]?.path !== '/') {
    const { items } = body
    if (!Array.isArray(items)) details.push({ path: '/items', message: 'must be an array' })
    else if (items.length < MIN_ITEMS || items.length > MAX_ITEMS) {
      details.push({ path: '/items', message: `must hold ${MIN_ITEMS} to ${MAX_ITEMS} items` })
    } else items.forEach((item, i) => details.push(...validateItem(item, `/items/${i}`)))
  }
  if (details.length > 0) throw new HttpError(400, 'invalid order', { details: details.slice(0, 20) })
  return body.items.map(({ sku, quantity }) => ({ sku, quantity }))
}

function validateItem(item, path) {
  const details = checkObject(item, ['sku', 'quantity'], path)
  if (details[0]?.path === path) return details
  if (typeof item.sku !== 'string' || !SKU.test(item.sku)) {
    details.push({ path: `${path}/sku`, message: 'must be a lowercase SKU such as "tea"' })
  }
  const { quantity } = item
  if (!Number.isInteger(quantity) || quantity < MIN_QUANTITY || quantity > MAX_QUANTITY) {
    details.push({
      path: `${path}/quantity`,
      message: `must be an integer from ${MIN_QUANTITY} to ${MAX_QUANTITY}`,
    })
  }
  return details
}
