// payments: authorizes an amount for an order. A stand-in for a card processor: deterministic,
// in memory, declining amounts above PAYMENTS_DECLINE_ABOVE_CENTS so the 402 path is reachable.
import { randomBytes } from 'node:crypto'
import {
  HttpError,
  checkObject,
  listenPort,
  matchRoute,
  methodNotAllowed,
  readJson,
  sendJson,
  serve,
} from '../lib/http.js'

const CURRENCIES = ['EUR', 'USD', 'GBP']
const ORDER_REF = /^[A-Za-z0-9_-]{1,64}$/
/** Oldest authorizations are forgotten past this many, so a long load test cannot exhaust memory. */
const MAX_KEPT = 100_000

const declineAbove = Number(process.env.PAYMENTS_DECLINE_ABOVE_CENTS || 5_000_000)
if (!Number.isSafeInteger(declineAbove) || declineAbove < 1) {
  console.error('PAYMENTS_DECLINE_ABOVE_CENTS must be a positive integer')
  process.exit(1)
}

/** @type {Map<string, object>} insertion-ordered, so the first key is the oldest */
const authorizations = new Map()

function validate(body) {
  const details = checkObject(body, ['orderRef', 'amountCents', 'currency'])
  if (details[0]?.path === '/') return details
  if (typeof body.orderRef !== 'string' || !ORDER_REF.test(body.orderRef)) {
    details.push({ path: '/orderRef', message: 'must be 1 to 64 letters, digits, _ or -' })
  }
  if (!Number.isSafeInteger(body.amountCents))
    details.push({ path: '/amountCents', message: 'must be an integer' })
  if (!CURRENCIES.includes(body.currency)) {
    details.push({ path: '/currency', message: `must be one of ${CURRENCIES.join(', ')}` })
  }
  return details
}

async function authorize(req, res) {
  const body = await readJson(req, 16 * 1024)
  const details = validate(body)
  if (details.length > 0) throw new HttpError(400, 'invalid payment request', { details })
  if (body.amountCents < 1) {
    throw new HttpError(422, 'amount must be positive', {
      details: [{ path: '/amountCents', message: 'must be at least 1' }],
    })
  }
  if (body.amountCents > declineAbove) throw new HttpError(402, 'payment declined: amount over the limit')
  const payment = {
    id: `pay_${randomBytes(8).toString('hex')}`,
    status: 'authorized',
    orderRef: body.orderRef,
    amountCents: body.amountCents,
    currency: body.currency,
    createdAt: new Date().toISOString(),
  }
  authorizations.set(payment.id, payment)
  if (authorizations.size > MAX_KEPT) authorizations.delete(authorizations.keys().next().value)
  sendJson(res, 201, payment, { location: `/payments/${payment.id}` })
}

serve({
  name: 'payments',
  port: listenPort(4002),
  async handle(req, res, url) {
    const { pathname } = url
    if (pathname === '/health') {
      if (req.method !== 'GET') throw methodNotAllowed(['GET'])
      return sendJson(res, 200, { status: 'ok' })
    }
    if (pathname === '/payments/authorize') {
      if (req.method !== 'POST') throw methodNotAllowed(['POST'])
      return authorize(req, res)
    }
    const params = matchRoute('/payments/{id}', pathname)
    if (params) {
      if (req.method !== 'GET') throw methodNotAllowed(['GET'])
      const payment = authorizations.get(params.id)
      if (!payment) throw new HttpError(404, 'payment not found')
      return sendJson(res, 200, payment)
    }
    throw new HttpError(404, 'not found')
  },
})
