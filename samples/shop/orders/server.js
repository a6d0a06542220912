// orders: authenticated order creation and lookup. Creating an order validates the request,
// prices it through catalog, authorizes the total with payments and stores the order.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { config } from './config.js'
import {
  HttpError,
  checkObject,
  matchRoute,
  methodNotAllowed,
  readJson,
  sendJson,
  serve,
} from '../lib/http.js'
import { findOrder, listOrders, readStock, releaseStock, reserveStock, saveOrder, setStock } from './store.js'
import { authorizePayment, lookupProducts } from './upstream.js'
import { validateCreateOrder } from './validate.js'

const MAX_BODY_BYTES = 64 * 1024
const DEFAULT_LIST_LIMIT = 20
const MAX_LIST_LIMIT = 100

const digest = (text) => createHash('sha256').update(text).digest()
const principals = [...config.tokens].map(([token, name]) => ({ hash: digest(token), name }))

/** The caller's principal name; compares digests in constant time so tokens cannot be guessed by timing. */
function authenticate(req) {
  const match = /^Bearer[ \t]+([^\s,]+)[ \t]*$/i.exec(String(req.headers.authorization ?? ''))
  const presented = match ? digest(match[1]) : undefined
  let name
  for (const principal of principals) {
    if (presented && timingSafeEqual(presented, principal.hash)) name = principal.name
  }
  if (!name) {
    throw new HttpError(401, 'missing or invalid bearer token', {
      headers: { 'www-authenticate': 'Bearer realm="orders"' },
    })
  }
  return name
}

async function createOrder(req, res, owner) {
  const items = validateCreateOrder(await readJson(req, MAX_BODY_BYTES))
  const products = await lookupProducts(items.map((item) => item.sku))

  const unknown = []
  items.forEach((item, i) => {
    if (!products.has(item.sku))
      unknown.push({ path: `/items/${i}/sku`, message: `unknown SKU "${item.sku}"` })
  })
  if (unknown.length > 0) throw new HttpError(422, 'unknown product', { details: unknown.slice(0, 20) })

  const wanted = new Map()
  for (const { sku, quantity } of items) wanted.set(sku, (wanted.get(sku) ?? 0) + quantity)
  const short = [...wanted].filter(([sku, quantity]) => quantity > products.get(sku).stock)
  if (short.length > 0) {
    throw new HttpError(409, 'insufficient stock', {
      details: short.map(([sku]) => ({
        path: `/items/${items.findIndex((item) => item.sku === sku)}/quantity`,
        message: `only ${products.get(sku).stock} of "${sku}" in stock`,
      })),
    })
  }

  const lines = items.map(({ sku, quantity }) => {
    const product = products.get(sku)
    return {
      sku,
      name: product.name,
      quantity,
      unitPriceCents: product.priceCents,
      lineTotalCents: product.priceCents * quantity,
    }
  })
  const currencies = new Set(items.map(({ sku }) => products.get(sku).currency))
  if (currencies.size !== 1) throw new HttpError(422, 'items are priced in different currencies')
  const [currency] = currencies
  const totalCents = lines.reduce((sum, line) => sum + line.lineTotalCents, 0)

  const reservation = await reserveStock(wanted)
  if (reservation.short.length > 0) {
    throw new HttpError(409, 'insufficient stock', {
      details: reservation.short.map(({ sku, available }) => ({
        path: `/items/${items.findIndex((item) => item.sku === sku)}/quantity`,
        message: `only ${available} of "${sku}" left`,
      })),
    })
  }
  try {
    await placeOrder(res, owner, lines, totalCents, currency)
  } catch (error) {
    // No order, no sale: what was reserved goes back on the shelf.
    await releaseStock(wanted).catch((failure) => console.error(`stock not released: ${failure.message}`))
    throw error
  }
}

/** Pays for an order whose stock is reserved, stores it and answers it. */
async function placeOrder(res, owner, lines, totalCents, currency) {
  const id = `ord_${randomBytes(8).toString('hex')}`
  const payment = await authorizePayment(id, totalCents, currency)
  const order = {
    id,
    status: 'confirmed',
    owner,
    items: lines,
    totalCents,
    currency,
    paymentId: payment.id,
    createdAt: new Date().toISOString(),
  }
  await saveOrder(order)
  sendJson(res, 201, order, { location: `/orders/${id}` })
}

const MAX_STOCK = 1_000_000

/** `PUT /stock/{sku}` `{"available": n}`: staff restock a limited SKU, which starts its count of sales again. */
async function putStock(req, res, sku, principal) {
  if (!config.staff.has(principal)) throw new HttpError(403, 'only staff may set stock')
  const body = await readJson(req, MAX_BODY_BYTES)
  const details = checkObject(body, ['available'])
  if (
    details.length === 0 &&
    !(Number.isInteger(body.available) && body.available >= 0 && body.available <= MAX_STOCK)
  )
    details.push({ path: '/available', message: `must be an integer from 0 to ${MAX_STOCK}` })
  if (details.length > 0) throw new HttpError(400, 'invalid stock', { details })
  const stock = await setStock(sku, body.available)
  if (!stock) throw new HttpError(404, `no limited stock of "${sku}"`)
  sendJson(res, 200, stock)
}

function listLimit(url) {
  const raw = url.searchParams.get('limit')
  if (raw === null) return DEFAULT_LIST_LIMIT
  const limit = /^\d{1,3}$/.test(raw) ? Number(raw) : NaN
  if (limit >= 1 && limit <= MAX_LIST_LIMIT) return limit
  throw new HttpError(400, 'invalid limit', {
    details: [{ path: 'query.limit', message: `must be an integer from 1 to ${MAX_LIST_LIMIT}` }],
  })
}

serve({
  name: 'orders',
  port: config.port,
  async handle(req, res, url) {
    const { pathname } = url
    if (pathname === '/health') {
      if (req.method !== 'GET') throw methodNotAllowed(['GET'])
      return sendJson(res, 200, { status: 'ok' })
    }
    if (pathname === '/orders') {
      if (req.method === 'POST') return createOrder(req, res, authenticate(req))
      if (req.method !== 'GET') throw methodNotAllowed(['GET', 'POST'])
      const owner = authenticate(req)
      return sendJson(res, 200, { orders: await listOrders(owner, listLimit(url)) })
    }
    const stock = matchRoute('/stock/{sku}', pathname)
    if (stock) {
      if (req.method === 'PUT') return putStock(req, res, stock.sku, authenticate(req))
      if (req.method !== 'GET') throw methodNotAllowed(['GET', 'PUT'])
      authenticate(req)
      const found = await readStock(stock.sku)
      if (!found) throw new HttpError(404, `no limited stock of "${stock.sku}"`)
      return sendJson(res, 200, found)
    }
    const params = matchRoute('/orders/{id}', pathname)
    if (params) {
      if (req.method !== 'GET') throw methodNotAllowed(['GET'])
      const order = await findOrder(params.id, authenticate(req))
      // 404 for someone else's order too: a 403 would confirm that the id exists.
      if (!order) throw new HttpError(404, 'order not found')
      return sendJson(res, 200, order)
    }
    throw new HttpError(404, 'not found')
  },
})
