// shipping: prepares a shipment for every order.created it hears on the bus (BUS_URL), insured for the
// order's total, and answers GET /shipments/{orderId}. It reads the bus before it listens, so once it
// answers /health it hears every order.
import { HttpError, listenPort, matchRoute, methodNotAllowed, sendJson, serve } from '../lib/http.js'
import { connectBus } from '../lib/bus.js'

const MAX_SHIPMENTS = 100_000
/** Insurance covers the goods plus a flat handling fee. */
const HANDLING_CENTS = 250

/** @type {Map<string, object>} orderId → shipment, oldest first */
const shipments = new Map()

function onOrderCreated(order) {
  if (typeof order?.orderId !== 'string') return
  // A message without a total insures the goods for nothing: the fault a renamed field causes silently.
  const goods = Number.isInteger(order.totalCents) ? order.totalCents : 0
  shipments.set(order.orderId, {
    orderId: order.orderId,
    status: 'pending',
    items: Array.isArray(order.items) ? order.items.length : 0,
    insuredValueCents: goods + HANDLING_CENTS,
    currency: order.currency ?? 'EUR',
  })
  if (shipments.size > MAX_SHIPMENTS) shipments.delete(shipments.keys().next().value)
}

const url = process.env.BUS_URL
if (url) {
  const bus = await connectBus(url, { prefix: process.env.BUS_PREFIX ?? '', name: 'shipping' })
  await bus.subscribe('order.created', onOrderCreated)
} else {
  console.warn('warning: BUS_URL is not set; shipping hears of no orders')
}

serve({
  name: 'shipping',
  port: listenPort(4003),
  async handle(req, res, url) {
    if (url.pathname === '/health') {
      if (req.method !== 'GET') throw methodNotAllowed(['GET'])
      return sendJson(res, 200, { status: 'ok' })
    }
    const params = matchRoute('/shipments/{orderId}', url.pathname)
    if (params) {
      if (req.method !== 'GET') throw methodNotAllowed(['GET'])
      const shipment = shipments.get(params.orderId)
      if (!shipment) throw new HttpError(404, 'no shipment for this order yet')
      return sendJson(res, 200, shipment)
    }
    throw new HttpError(404, 'not found')
  },
})
