/**
 * The shop keeps its promises: real responses validate against the OpenAPI schemas, and the schema
 * of POST /orders accepts and rejects the same bodies as the service does. Contract and adversarial
 * checks rely on both, or they would report the shop's own documentation as findings.
 */
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import { parse } from 'yaml'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call } from './http.js'
import { SHOP_ROOT, startShop, type RunningShop } from './shop-helper.js'

type Document = {
  openapi: string
  paths: Record<string, Record<string, { operationId?: string }>>
  components: { schemas: Record<string, unknown> }
}

const ajv = new Ajv2020({ allErrors: true, strict: false })
addFormats.default(ajv)
const docs: Record<string, Document> = {}
let shop: RunningShop

beforeAll(async () => {
  for (const name of ['catalog', 'orders', 'payments']) {
    docs[name] = parse(await readFile(path.join(SHOP_ROOT, 'openapi', `${name}.yaml`), 'utf8'))
    ajv.addSchema({ $id: `${name}.yaml`, components: docs[name]!.components })
  }
  shop = await startShop()
})
afterAll(async () => {
  await shop?.stop()
})

/** Errors of `value` against a component schema, e.g. `orders.yaml#/components/schemas/Order`. */
function problems(ref: string, value: unknown) {
  const validate = ajv.getSchema(ref)
  if (!validate) throw new Error(`no schema ${ref}`)
  validate(value)
  return validate.errors ?? []
}

describe('OpenAPI documents', () => {
  it('are OpenAPI 3.1 with the agreed operationIds', () => {
    const operations = Object.fromEntries(
      Object.entries(docs).map(([name, doc]) => [
        name,
        Object.values(doc.paths)
          .flatMap((methods) => Object.values(methods).map((op) => op.operationId))
          .sort(),
      ]),
    )
    expect(Object.values(docs).map((doc) => doc.openapi)).toEqual(['3.1.0', '3.1.0', '3.1.0'])
    expect(operations).toEqual({
      catalog: ['getHealth', 'getProduct', 'listProducts', 'lookupProducts'],
      orders: ['createOrder', 'getHealth', 'getOrder', 'getStock', 'listOrders', 'setStock'],
      payments: ['authorizePayment', 'getHealth', 'getPayment'],
    })
  })

  it('describe what the services really answer', async () => {
    const token = shop.tokens.alice
    const created = await call(`${shop.urls.orders}/orders`, {
      token,
      json: { items: [{ sku: 'tea', quantity: 2 }] },
    })
    const checks: Array<[string, unknown]> = [
      ['orders.yaml#/components/schemas/Order', created.json],
      [
        'orders.yaml#/components/schemas/Order',
        (await call(`${shop.urls.orders}/orders/${created.json.id}`, { token })).json,
      ],
      [
        'orders.yaml#/components/schemas/OrderList',
        (await call(`${shop.urls.orders}/orders`, { token })).json,
      ],
      ['orders.yaml#/components/schemas/Error', (await call(`${shop.urls.orders}/orders`)).json],
      [
        'orders.yaml#/components/schemas/Error',
        (await call(`${shop.urls.orders}/orders`, { token, json: {} })).json,
      ],
      ['orders.yaml#/components/schemas/Health', (await call(`${shop.urls.orders}/health`)).json],
      ['catalog.yaml#/components/schemas/ProductList', (await call(`${shop.urls.catalog}/products`)).json],
      ['catalog.yaml#/components/schemas/Product', (await call(`${shop.urls.catalog}/products/tea`)).json],
      [
        'catalog.yaml#/components/schemas/LookupResponse',
        (await call(`${shop.urls.catalog}/products/lookup`, { json: { skus: ['tea', 'nope'] } })).json,
      ],
      [
        'payments.yaml#/components/schemas/Payment',
        (await call(`${shop.urls.payments}/payments/${created.json.paymentId}`)).json,
      ],
    ]
    for (const [ref, body] of checks) expect(problems(ref, body), ref).toEqual([])
  })

  it('rejects in the CreateOrderRequest schema exactly what orders rejects', async () => {
    const bodies: unknown[] = [
      { items: [{ sku: 'tea', quantity: 1 }] },
      { items: [{ sku: 'tea', quantity: 100 }] },
      { items: Array.from({ length: 50 }, () => ({ sku: 'tea', quantity: 1 })) },
      { items: [] },
      { items: Array.from({ length: 51 }, () => ({ sku: 'tea', quantity: 1 })) },
      { items: [{ sku: 'tea', quantity: 0 }] },
      { items: [{ sku: 'tea', quantity: -3 }] },
      { items: [{ sku: 'tea', quantity: 101 }] },
      { items: [{ sku: 'tea', quantity: 2.5 }] },
      { items: [{ sku: 'tea', quantity: '1' }] },
      { items: [{ sku: 'TEA', quantity: 1 }] },
      { items: [{ sku: '', quantity: 1 }] },
      { items: [{ sku: 'a'.repeat(41), quantity: 1 }] },
      { items: [{ sku: 'tea' }] },
      { items: [{ sku: 'tea', quantity: 1, note: 'x' }] },
      { items: [{ sku: 'tea', quantity: 1 }], coupon: 'x' },
      { items: 'tea' },
      {},
      [],
      null,
    ]
    for (const body of bodies) {
      const schemaAccepts = problems('orders.yaml#/components/schemas/CreateOrderRequest', body).length === 0
      const reply = await call(`${shop.urls.orders}/orders`, {
        token: shop.tokens.alice,
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      })
      expect(reply.status === 400, JSON.stringify(body).slice(0, 80)).toBe(!schemaAccepts)
    }
  })
})
