// catalog: the product list. Read-only; orders resolves SKUs to prices through POST /products/lookup.
import { readFileSync } from 'node:fs'
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

const CATEGORIES = ['tea', 'coffee', 'cocoa', 'equipment', 'accessories']
const SKU = /^[a-z][a-z0-9-]{0,39}$/
const MAX_LOOKUP = 100

/** @type {Array<{ sku: string, name: string, priceCents: number, currency: string, stock: number, category: string }>} */
const products = JSON.parse(readFileSync(new URL('./products.json', import.meta.url), 'utf8')).sort((a, b) =>
  a.sku < b.sku ? -1 : 1,
)
const bySku = new Map(products.map((product) => [product.sku, product]))

function findProduct(sku) {
  return bySku.get(sku)
}

async function lookup(req, res) {
  const body = await readJson(req, 64 * 1024)
  const details = checkObject(body, ['skus'])
  if (details[0]?.path !== '/') {
    if (!Array.isArray(body.skus)) details.push({ path: '/skus', message: 'must be an array' })
    else if (body.skus.length < 1 || body.skus.length > MAX_LOOKUP) {
      details.push({ path: '/skus', message: `must hold 1 to ${MAX_LOOKUP} SKUs` })
    } else {
      body.skus.forEach((sku, i) => {
        if (typeof sku !== 'string' || !SKU.test(sku))
          details.push({ path: `/skus/${i}`, message: 'must be a SKU' })
      })
    }
  }
  if (details.length > 0)
    throw new HttpError(400, 'invalid lookup request', { details: details.slice(0, 20) })
  const skus = [...new Set(body.skus)]
  const found = []
  const missing = []
  for (const sku of skus) {
    const product = findProduct(sku)
    if (product) found.push(product)
    else missing.push(sku)
  }
  sendJson(res, 200, { products: found, missing })
}

serve({
  name: 'catalog',
  port: listenPort(4001),
  async handle(req, res, url) {
    const { pathname } = url
    if (pathname === '/health') {
      if (req.method !== 'GET') throw methodNotAllowed(['GET'])
      return sendJson(res, 200, { status: 'ok' })
    }
    if (pathname === '/products') {
      if (req.method !== 'GET') throw methodNotAllowed(['GET'])
      const category = url.searchParams.get('category')
      if (category !== null && !CATEGORIES.includes(category)) {
        throw new HttpError(400, 'unknown category', {
          details: [{ path: 'query.category', message: `must be one of ${CATEGORIES.join(', ')}` }],
        })
      }
      return sendJson(res, 200, {
        products: category === null ? products : products.filter((p) => p.category === category),
      })
    }
    if (pathname === '/products/lookup') {
      if (req.method !== 'POST') throw methodNotAllowed(['POST'])
      return lookup(req, res)
    }
    const params = matchRoute('/products/{sku}', pathname)
    if (params) {
      if (req.method !== 'GET') throw methodNotAllowed(['GET'])
      const product = findProduct(params.sku)
      if (!product) throw new HttpError(404, 'product not found')
      return sendJson(res, 200, product)
    }
    throw new HttpError(404, 'not found')
  },
})
