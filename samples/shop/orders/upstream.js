/* global AbortSignal */
// Calls from orders to catalog and payments. Upstream trouble becomes a 502 (or the upstream's
// own 4xx verdict where the caller can act on it), never a hang and never a leaked internal URL.
// An upstream that is overloaded (503) or rate-limits us (429) is asked again at most twice, no
// sooner than its Retry-After; then the caller is told to come back later (503 with Retry-After).
import { setTimeout as sleep } from 'node:timers/promises'
import { config } from './config.js'
import { HttpError } from '../lib/http.js'

const RETRIES = 2
/** A Retry-After longer than this is not waited for: the caller hears it instead. */
const MAX_RETRY_WAIT_MS = 2_000
const DEFAULT_RETRY_WAIT_MS = 200

/** Milliseconds a Retry-After header (seconds or an HTTP date) asks for; the default when absent. */
function retryAfterMs(header) {
  if (header === null) return DEFAULT_RETRY_WAIT_MS
  const ms = /^\d+$/.test(header.trim()) ? Number(header) * 1000 : Date.parse(header) - Date.now()
  return Number.isNaN(ms) ? DEFAULT_RETRY_WAIT_MS : Math.max(0, ms)
}

async function call(service, baseUrl, method, path, body) {
  if (!baseUrl) throw new HttpError(502, `${service} is not configured`)
  for (let attempt = 0; ; attempt++) {
    let response
    try {
      response = await fetch(`${baseUrl}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(config.upstreamTimeoutMs),
      })
    } catch (error) {
      console.error(`${service} ${method} ${path} failed: ${error.message}`)
      if (error.name === 'TimeoutError')
        throw new HttpError(502, `${service} did not answer within ${config.upstreamTimeoutMs} ms`)
      throw new HttpError(502, `${service} unavailable`)
    }
    if (response.status === 503 || response.status === 429) {
      await response.body?.cancel()
      const wait = retryAfterMs(response.headers.get('retry-after'))
      console.error(`${service} ${method} ${path} answered ${response.status} (attempt ${attempt + 1})`)
      if (attempt < RETRIES && wait <= MAX_RETRY_WAIT_MS) {
        await sleep(wait)
        continue
      }
      throw new HttpError(503, `${service} unavailable, try again later`, {
        headers: { 'retry-after': String(Math.max(1, Math.ceil(wait / 1000))) },
      })
    }
    let json
    try {
      json = await response.json()
    } catch {
      console.error(`${service} ${method} ${path} answered ${response.status} without JSON`)
      throw new HttpError(502, `${service} sent an invalid response`)
    }
    return { status: response.status, json }
  }
}

/**
 * Resolves SKUs to catalog products in one batch call.
 * @returns {Promise<Map<string, { sku: string, name: string, priceCents: number, currency: string, stock: number }>>}
 */
export async function lookupProducts(skus) {
  const { status, json } = await call('catalog', config.catalogUrl, 'POST', '/products/lookup', {
    skus: [...new Set(skus)],
  })
  if (status !== 200 || !Array.isArray(json?.products)) {
    console.error(`catalog lookup answered ${status}`)
    throw new HttpError(502, 'catalog lookup failed')
  }
  return new Map(json.products.map((product) => [product.sku, product]))
}

/**
 * Authorizes the order's amount. A decline is the customer's problem (402); anything else the
 * payments service refuses means orders sent something wrong, which is our fault (502).
 * @returns {Promise<{ id: string, status: string }>}
 */
export async function authorizePayment(orderRef, amountCents, currency) {
  const { status, json } = await call('payments', config.paymentsUrl, 'POST', '/payments/authorize', {
    orderRef,
    amountCents,
    currency,
  })
  if (status === 402) throw new HttpError(402, 'payment declined')
  if (status !== 201 || typeof json?.id !== 'string') {
    console.error(`payments authorize answered ${status}: ${JSON.stringify(json).slice(0, 200)}`)
    throw new HttpError(502, 'payment authorization failed')
  }
  return json
}
