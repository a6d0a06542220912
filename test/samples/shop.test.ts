import { spawn } from 'node:child_process'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call } from './http.js'
import { SHOP_ROOT, startShop, type RunningShop } from './shop-helper.js'

let shop: RunningShop
beforeAll(async () => {
  shop = await startShop()
})
afterAll(async () => {
  await shop?.stop()
})

const order = (items: unknown) => ({ json: { items } })
/** Anything that betrays the implementation: a stack frame, an internal module, a file of ours. */
const LEAK = /\bat [\w.<>]+ \(|node:internal|\.js:\d+|samples[\\/]shop|TypeError|SyntaxError|ReferenceError/

describe('catalog', () => {
  it('lists products sorted by SKU, each complete', async () => {
    const reply = await call(`${shop.urls.catalog}/products`)
    expect(reply.status).toBe(200)
    const skus = reply.json.products.map((p: { sku: string }) => p.sku)
    expect(skus).toEqual([...skus].sort())
    expect(skus).toContain('tea')
    for (const product of reply.json.products) {
      expect(Object.keys(product).sort()).toEqual([
        'category',
        'currency',
        'name',
        'priceCents',
        'sku',
        'stock',
      ])
      expect(Number.isInteger(product.priceCents) && product.priceCents > 0).toBe(true)
    }
  })

  it('filters by category and rejects unknown categories', async () => {
    const tea = await call(`${shop.urls.catalog}/products?category=tea`)
    expect(tea.json.products.map((p: { sku: string }) => p.sku)).toEqual(['matcha', 'tea'])
    const bad = await call(`${shop.urls.catalog}/products?category=wine`)
    expect(bad.status).toBe(400)
    expect(bad.json.details[0].path).toBe('query.category')
  })

  it('reads one product and answers 404 for unknown SKUs', async () => {
    const tea = await call(`${shop.urls.catalog}/products/tea`)
    expect(tea.json).toMatchObject({ sku: 'tea', priceCents: 850, currency: 'EUR', category: 'tea' })
    expect((await call(`${shop.urls.catalog}/products/nope`)).status).toBe(404)
  })

  it('looks SKUs up in one batch, reporting the unknown ones', async () => {
    const reply = await call(`${shop.urls.catalog}/products/lookup`, {
      json: { skus: ['mug', 'tea', 'mug', 'nope'] },
    })
    expect(reply.status).toBe(200)
    expect(reply.json.products.map((p: { sku: string }) => p.sku)).toEqual(['mug', 'tea'])
    expect(reply.json.missing).toEqual(['nope'])
    const extra = await call(`${shop.urls.catalog}/products/lookup`, { json: { skus: ['tea'], all: true } })
    expect(extra.status).toBe(400)
    expect(extra.json.details).toEqual([{ path: '/all', message: 'unknown property' }])
  })
})

describe('payments', () => {
  const authorize = (json: unknown) => call(`${shop.urls.payments}/payments/authorize`, { json })

  it('authorizes a positive amount and keeps it readable', async () => {
    const reply = await authorize({ orderRef: 'ord_1', amountCents: 1234, currency: 'EUR' })
    expect(reply.status).toBe(201)
    expect(reply.json).toMatchObject({
      status: 'authorized',
      orderRef: 'ord_1',
      amountCents: 1234,
      currency: 'EUR',
    })
    expect(reply.json.id).toMatch(/^pay_[0-9a-f]{16}$/)
    expect(reply.headers.get('location')).toBe(`/payments/${reply.json.id}`)
    expect((await call(`${shop.urls.payments}/payments/${reply.json.id}`)).json).toEqual(reply.json)
    expect((await call(`${shop.urls.payments}/payments/pay_0000000000000000`)).status).toBe(404)
  })

  it.each([
    [{ orderRef: 'o', amountCents: 0, currency: 'EUR' }, 422],
    [{ orderRef: 'o', amountCents: -5, currency: 'EUR' }, 422],
    [{ orderRef: 'o', amountCents: 1.5, currency: 'EUR' }, 400],
    [{ orderRef: 'o', amountCents: '10', currency: 'EUR' }, 400],
    [{ orderRef: 'o', amountCents: 10, currency: 'XYZ' }, 400],
    [{ orderRef: 'o', amountCents: 10, currency: 'EUR', tip: 1 }, 400],
    [{ orderRef: 'o', amountCents: 5_000_001, currency: 'EUR' }, 402],
  ])('answers %j with %i', async (body, status) => {
    const reply = await authorize(body)
    expect(reply.status).toBe(status)
    expect(typeof reply.json.error).toBe('string')
  })
})

describe('orders', () => {
  const create = (items: unknown, token: string = shop.tokens.alice) =>
    call(`${shop.urls.orders}/orders`, { token, ...order(items) })

  it('creates an order priced from the catalog and paid through payments', async () => {
    const reply = await create([
      { sku: 'tea', quantity: 2 },
      { sku: 'mug', quantity: 1 },
    ])
    expect(reply.status).toBe(201)
    const body = reply.json
    expect(body).toMatchObject({
      status: 'confirmed',
      owner: 'alice',
      currency: 'EUR',
      totalCents: 2 * 850 + 1450,
    })
    expect(body.items).toEqual([
      { sku: 'tea', name: 'Sencha green tea, 100 g', quantity: 2, unitPriceCents: 850, lineTotalCents: 1700 },
      { sku: 'mug', name: 'Stoneware mug', quantity: 1, unitPriceCents: 1450, lineTotalCents: 1450 },
    ])
    expect(body.id).toMatch(/^ord_[0-9a-f]{16}$/)
    expect(Number.isNaN(Date.parse(body.createdAt))).toBe(false)
    expect(reply.headers.get('location')).toBe(`/orders/${body.id}`)
    const payment = await call(`${shop.urls.payments}/payments/${body.paymentId}`)
    expect(payment.json).toMatchObject({
      orderRef: body.id,
      amountCents: body.totalCents,
      status: 'authorized',
    })
  })

  it('gives every order a fresh random id', async () => {
    const a = await create([{ sku: 'tea', quantity: 1 }])
    const b = await create([{ sku: 'tea', quantity: 1 }])
    expect(a.json.id).not.toBe(b.json.id)
  })

  it('shows an order to its owner only, and lists only the caller’s orders', async () => {
    const created = (await create([{ sku: 'coffee', quantity: 3 }])).json
    const own = await call(`${shop.urls.orders}/orders/${created.id}`, { token: shop.tokens.alice })
    expect(own.status).toBe(200)
    expect(own.json).toEqual(created)
    const foreign = await call(`${shop.urls.orders}/orders/${created.id}`, { token: shop.tokens.bob })
    expect(foreign.status).toBe(404)
    const missing = await call(`${shop.urls.orders}/orders/ord_0000000000000000`, { token: shop.tokens.bob })
    expect(foreign.json).toEqual(missing.json)

    await create([{ sku: 'mug', quantity: 1 }], shop.tokens.bob)
    const alices = (await call(`${shop.urls.orders}/orders`, { token: shop.tokens.alice })).json.orders
    expect(alices[0].id).toBe(created.id)
    expect(alices.every((o: { owner: string }) => o.owner === 'alice')).toBe(true)
    const bobs = (await call(`${shop.urls.orders}/orders?limit=1`, { token: shop.tokens.bob })).json.orders
    expect(bobs).toHaveLength(1)
    expect(bobs[0].owner).toBe('bob')
  })

  it.each([
    ['no header', {}],
    ['an unknown token', { authorization: 'Bearer not-a-token' }],
    ['another scheme', { authorization: `Basic ${Buffer.from('alice:alice-token').toString('base64')}` }],
    ['the token without a scheme', { authorization: 'alice-token' }],
  ])('answers 401 with WWW-Authenticate for %s', async (_, headers) => {
    for (const [method, url] of [
      ['GET', `${shop.urls.orders}/orders`],
      ['POST', `${shop.urls.orders}/orders`],
      ['GET', `${shop.urls.orders}/orders/ord_0000000000000000`],
    ] as const) {
      const reply = await call(url, {
        method,
        headers,
        ...(method === 'POST' ? order([{ sku: 'tea', quantity: 1 }]) : {}),
      })
      expect(reply.status).toBe(401)
      expect(reply.headers.get('www-authenticate')).toMatch(/^Bearer/)
      expect(reply.json).toEqual({ error: 'missing or invalid bearer token' })
    }
  })

  const invalid: Array<[string, unknown, string]> = [
    ['no items', [], '/items'],
    ['51 items', Array.from({ length: 51 }, () => ({ sku: 'tea', quantity: 1 })), '/items'],
    ['quantity 0', [{ sku: 'tea', quantity: 0 }], '/items/0/quantity'],
    ['a negative quantity', [{ sku: 'tea', quantity: -1 }], '/items/0/quantity'],
    ['quantity 101', [{ sku: 'tea', quantity: 101 }], '/items/0/quantity'],
    ['a fractional quantity', [{ sku: 'tea', quantity: 1.5 }], '/items/0/quantity'],
    ['a quantity as text', [{ sku: 'tea', quantity: '2' }], '/items/0/quantity'],
    ['a SKU breaking the pattern', [{ sku: 'Tea; DROP TABLE', quantity: 1 }], '/items/0/sku'],
    ['a missing SKU', [{ quantity: 1 }], '/items/0/sku'],
    ['an unknown item field', [{ sku: 'tea', quantity: 1, priceCents: 1 }], '/items/0/priceCents'],
    ['an item that is not an object', ['tea'], '/items/0'],
    ['items that are not an array', { tea: 1 }, '/items'],
  ]
  it.each(invalid)('rejects %s with 400 pointing at the field', async (_, items, pointer) => {
    const reply = await create(items)
    expect(reply.status).toBe(400)
    expect(reply.json.error).toBe('invalid order')
    expect(reply.json.details.map((d: { path: string }) => d.path)).toContain(pointer)
  })

  it.each([
    [
      'an unknown top-level field',
      JSON.stringify({ items: [{ sku: 'tea', quantity: 1 }], discount: 100 }),
      400,
    ],
    ['a JSON array', '[]', 400],
    ['JSON null', 'null', 400],
    ['malformed JSON', '{"items": [', 400],
    ['an empty body', '', 400],
    ['a prototype-pollution key', '{"items":[{"sku":"tea","quantity":1}],"__proto__":{"admin":true}}', 400],
  ])('rejects %s with %i', async (_, body, status) => {
    const reply = await call(`${shop.urls.orders}/orders`, {
      token: shop.tokens.alice,
      body,
      headers: { 'content-type': 'application/json' },
    })
    expect(reply.status).toBe(status)
    expect(typeof reply.json.error).toBe('string')
  })

  it('accepts JSON only, and at most 64 KiB of it', async () => {
    const text = await call(`${shop.urls.orders}/orders`, {
      token: shop.tokens.alice,
      body: 'items=tea',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })
    expect(text.status).toBe(415)
    const padding = 'x'.repeat(70 * 1024)
    const large = await call(`${shop.urls.orders}/orders`, {
      token: shop.tokens.alice,
      json: { items: [{ sku: 'tea', quantity: 1 }], padding },
    })
    expect(large.status).toBe(413)
    expect(large.json.error).toMatch(/65536 bytes/)
  })

  it('answers 422 for unknown SKUs and 409 when stock is short', async () => {
    const unknown = await create([
      { sku: 'tea', quantity: 1 },
      { sku: 'caviar', quantity: 1 },
    ])
    expect(unknown.status).toBe(422)
    expect(unknown.json.details).toEqual([{ path: '/items/1/sku', message: 'unknown SKU "caviar"' }])
    const soldOut = await create([{ sku: 'matcha', quantity: 1 }])
    expect(soldOut.status).toBe(409)
    const tooMany = await create([
      { sku: 'grinder', quantity: 10 },
      { sku: 'grinder', quantity: 10 },
    ])
    expect(tooMany.status).toBe(409)
  })

  it('validates the list limit', async () => {
    for (const limit of ['0', '101', 'ten', '-1', '1e2']) {
      const reply = await call(`${shop.urls.orders}/orders?limit=${limit}`, { token: shop.tokens.alice })
      expect(reply.status, limit).toBe(400)
    }
  })
})

describe('every service', () => {
  const services = ['catalog', 'payments', 'orders'] as const

  it('is healthy and logs one line per request on stdout', async () => {
    for (const service of services) {
      const reply = await call(`${shop.urls[service]}/health`)
      expect(reply.status).toBe(200)
      expect(reply.json).toEqual({ status: 'ok' })
      expect(reply.headers.get('content-type')).toMatch(/^application\/json/)
    }
    await expect
      .poll(() => shop.logs('orders').filter((l) => / GET \/health 200 /.test(l)).length)
      .toBeGreaterThan(0)
  })

  it('answers hostile requests with a 4xx JSON error and nothing internal', async () => {
    const requests: Array<[string, { method?: string; body?: string; headers?: Record<string, string> }]> = [
      ['/nope', {}],
      ['/orders/%E0%A4%A', { headers: { authorization: 'Bearer alice-token' } }],
      ['/orders/..%2F..%2Fetc%2Fpasswd', { headers: { authorization: 'Bearer alice-token' } }],
      ['/orders', { method: 'DELETE' }],
      [
        '/products/lookup',
        { method: 'POST', body: '{"skus":', headers: { 'content-type': 'application/json' } },
      ],
      [
        '/products/lookup',
        { method: 'POST', body: '{"skus":"tea"}', headers: { 'content-type': 'application/json' } },
      ],
      [
        '/payments/authorize',
        { method: 'POST', body: '\u0000\u0001', headers: { 'content-type': 'application/json' } },
      ],
      ['/health', { method: 'PUT' }],
    ]
    for (const service of services) {
      for (const [target, init] of requests) {
        const reply = await call(`${shop.urls[service]}${target}`, init)
        expect(reply.status, `${service} ${target}`).toBeGreaterThanOrEqual(400)
        expect(reply.status, `${service} ${target}`).toBeLessThan(500)
        expect(typeof reply.json.error, `${service} ${target}`).toBe('string')
        expect(reply.text).not.toMatch(LEAK)
      }
    }
    const wrongMethod = await call(`${shop.urls.orders}/orders`, { method: 'DELETE' })
    expect(wrongMethod.status).toBe(405)
    expect(wrongMethod.headers.get('allow')).toBe('GET, POST')
  })
})

describe('configuration', () => {
  it('starts without PAYMENTS_URL, stays healthy, and fails order creation with 502', async () => {
    const degraded = await startShop({ env: { orders: { PAYMENTS_URL: undefined } } })
    try {
      expect(degraded.logs('orders').join('\n')).toMatch(/PAYMENTS_URL is not set/)
      expect((await call(`${degraded.urls.orders}/health`)).status).toBe(200)
      const reply = await call(`${degraded.urls.orders}/orders`, {
        token: degraded.tokens.alice,
        ...order([{ sku: 'tea', quantity: 1 }]),
      })
      expect(reply.status).toBe(502)
      expect(reply.json).toEqual({ error: 'payments is not configured' })
    } finally {
      await degraded.stop()
    }
  })

  it('refuses to start orders without ORDERS_TOKENS', async () => {
    const child = spawn(process.execPath, [path.join(SHOP_ROOT, 'orders', 'server.js')], {
      env: { PATH: process.env.PATH, PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (chunk) => (stderr += chunk))
    const code = await new Promise((resolve) => child.once('exit', resolve))
    expect(code).toBe(1)
    expect(stderr).toMatch(/ORDERS_TOKENS is required/)
  })

  it('exits with 0 on SIGTERM', async () => {
    const extra = await startShop()
    expect(await extra.stop()).toEqual({ catalog: 0, payments: 0, orders: 0 })
  })
})
