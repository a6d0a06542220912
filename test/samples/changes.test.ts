import { readFile, readdir } from 'node:fs/promises'
import path from 'node:path'
import { Ajv } from 'ajv'
import picomatch from 'picomatch'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call } from './http.js'
import { CHANGES_DIR, copyShop, touchedFiles } from './patched-shop.js'
import { SHOP_ROOT, startShop, type RunningShop } from './shop-helper.js'
import { splitFrontmatter } from '../../plans/frontmatter.js'

/** The shop's plans and their paths (relative to samples/shop), as agreed between the plan authors. */
const PLANS: Record<string, { kind: string; paths: string[] }> = {
  'catalog-contract': { kind: 'contract', paths: ['catalog/**', 'openapi/catalog.yaml'] },
  'checkout-flow': { kind: 'e2e', paths: ['orders/**', 'payments/**', 'catalog/**'] },
  'checkout-load': { kind: 'load', paths: ['orders/**', 'catalog/**'] },
  'checkout-race': { kind: 'race', paths: ['orders/server.js', 'orders/store*.js', 'db/**'] },
  'order-data': { kind: 'data', paths: ['orders/store*.js', 'db/**'] },
  'orders-migration': { kind: 'migration', paths: ['db/**', 'orders/store*.js'] },
  'orders-adversarial': { kind: 'adversarial', paths: ['orders/**', 'openapi/orders.yaml'] },
  'orders-contract': { kind: 'contract', paths: ['orders/**', 'openapi/orders.yaml'] },
  'orders-faults': { kind: 'fault', paths: ['orders/upstream.js', 'orders/config.js', 'lib/http.js'] },
  'orders-resources': { kind: 'resources', paths: ['orders/server.js', 'orders/store*.js', 'lib/http.js'] },
  'order-events': { kind: 'event', paths: ['orders/events.js', 'lib/bus.js', 'asyncapi/**'] },
  'shipping-flow': { kind: 'e2e', paths: ['shipping/**', 'orders/events.js', 'lib/bus.js'] },
}
const CHANGES = [
  'additive-field',
  'column-rename',
  'auth-owner-check',
  'docs-only',
  'drop-validation',
  'env-var-rename',
  'event-field-rename',
  'field-rename',
  'lost-write',
  'memory-leak',
  'no-upstream-timeout',
  'oversell-race',
  'slow-lookup',
  'status-change',
]

interface Expectation {
  plans: string[]
  verdict: 'pass' | 'fail'
  caughtBy: Array<{ plan: string; kind: string; check?: string }>
}
const readExpect = async (name: string): Promise<Expectation> =>
  JSON.parse(await readFile(path.join(CHANGES_DIR, `${name}.expect.json`), 'utf8'))
const readPatch = (name: string) => readFile(path.join(CHANGES_DIR, `${name}.patch`), 'utf8')

describe('labelled changes', () => {
  it('pairs every patch with an expect file, and nothing else', async () => {
    const files = (await readdir(CHANGES_DIR)).sort()
    const expected = CHANGES.flatMap((name) => [`${name}.expect.json`, `${name}.patch`])
    expect(files).toEqual([...expected, 'expect.schema.json'].sort())
  })

  it('has expect files that validate against expect.schema.json', async () => {
    const schema = JSON.parse(await readFile(path.join(CHANGES_DIR, 'expect.schema.json'), 'utf8'))
    const validate = new Ajv({ allErrors: true }).compile(schema)
    for (const name of CHANGES) {
      const ok = validate(await readExpect(name))
      expect(validate.errors ?? [], name).toEqual([])
      expect(ok).toBe(true)
    }
    expect(validate({ description: 'a failing change', plans: [], verdict: 'fail', caughtBy: [] })).toBe(
      false,
    )
    expect(
      validate({
        description: 'a passing change',
        plans: ['x'],
        verdict: 'pass',
        caughtBy: [{ plan: 'x', kind: 'e2e' }],
      }),
    ).toBe(false)
  })

  it.each(CHANGES)(
    '%s selects exactly the plans whose paths the diff touches, and names known plans',
    async (name) => {
      const expectation = await readExpect(name)
      const touched = touchedFiles(await readPatch(name))
      expect(touched.length).toBeGreaterThan(0)
      const selected = Object.keys(PLANS).filter((plan) => {
        const matches = picomatch(PLANS[plan]!.paths)
        return touched.some((file) => matches(file))
      })
      expect(expectation.plans).toEqual(selected.sort())
      for (const catcher of expectation.caughtBy) {
        expect(expectation.plans).toContain(catcher.plan)
        expect(catcher.kind).toBe(PLANS[catcher.plan]!.kind)
      }
    },
  )

  it('knows every plan of the shop folder, with the paths and check kinds its file gives', async () => {
    const files = (await readdir(path.join(SHOP_ROOT, 'plans'))).filter((f) => f.endsWith('.md'))
    const found: Record<string, { kind: string; paths: string[] }> = {}
    for (const file of files) {
      const text = await readFile(path.join(SHOP_ROOT, 'plans', file), 'utf8')
      const front = splitFrontmatter(text)
      const data = front.yaml?.value as { name: string; paths: string[] }
      const kinds = [...text.slice(front.contentOffset).matchAll(/^```([a-z][a-z0-9-]*)/gm)].map((m) => m[1]!)
      const known = Object.keys(PLANS)
      expect(known, file).toContain(data.name)
      found[data.name] = {
        kind: kinds.find((k) => k === PLANS[data.name]!.kind) ?? kinds[0]!,
        paths: data.paths,
      }
    }
    expect(found).toEqual(PLANS)
  })

  it('is told whole in the shop’s README: every plan with its kind and paths, every change with what catches it', async () => {
    const readme = await readFile(path.join(SHOP_ROOT, 'README.md'), 'utf8')
    const rows = (head: string) => {
      const table = readme.slice(readme.indexOf(head)).split('\n\n')[0]!.split('\n').slice(2)
      return new Map(
        table.map((line) => {
          const cells = line.split(' | ').map((c) => c.replace(/^\| |\s*\|$/g, ''))
          return [cells[0]!.replace(/`/g, ''), cells.slice(1)]
        }),
      )
    }
    const ticked = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!)
    const plans = rows('| plan | kind | what it checks | paths |')
    expect(
      Object.fromEntries(
        [...plans].map(([name, [kind, , paths]]) => [name, { kind, paths: ticked(paths!) }]),
      ),
    ).toEqual(PLANS)
    for (const [name, [, what]] of plans) expect(what, name).toMatch(/\w/)
    const changes = rows('| change | what it does | caught by (plan: kind) |')
    expect([...changes.keys()].sort()).toEqual([...CHANGES].sort())
    for (const name of CHANGES) {
      const { verdict, plans: selected, caughtBy } = await readExpect(name)
      const caught = changes.get(name)![1]!
      if (verdict === 'pass') expect(caught).toBe(selected.length ? 'nothing may fail' : 'no plan runs')
      for (const catcher of caughtBy) expect(caught).toContain(`\`${catcher.plan}\`: ${catcher.kind}`)
      expect(caught.match(/`[^`]+`: /g) ?? []).toHaveLength(caughtBy.length)
    }
  })

  it('agrees with the checkout-flow plan file on its paths and check name', async () => {
    const text = await readFile(path.join(SHOP_ROOT, 'plans', 'checkout-flow.md'), 'utf8')
    const front = splitFrontmatter(text)
    const plan = {
      data: front.yaml?.value as { name: string; paths: string[] },
      content: text.slice(front.contentOffset),
    }
    expect(plan.data.name).toBe('checkout-flow')
    expect([...plan.data.paths].sort()).toEqual([...PLANS['checkout-flow']!.paths].sort())
    for (const name of CHANGES) {
      for (const catcher of (await readExpect(name)).caughtBy.filter((c) => c.plan === 'checkout-flow')) {
        expect(plan.content).toMatch(new RegExp(`^## ${catcher.check}\\n+\`\`\`e2e$`, 'm'))
      }
    }
  })

  it.each(CHANGES)('%s applies cleanly to a copy of the shop', async (name) => {
    const copy = await copyShop()
    try {
      await copy.apply(path.join(CHANGES_DIR, `${name}.patch`), { check: true })
      await copy.apply(path.join(CHANGES_DIR, `${name}.patch`))
    } finally {
      await copy.remove()
    }
  })
})

describe('patched shops behave as labelled', () => {
  let baseline: RunningShop
  beforeAll(async () => {
    baseline = await startShop()
  })
  afterAll(async () => {
    await baseline?.stop()
  })

  /** Starts the shop from a copy with `name` applied, runs `body`, then stops and removes everything. */
  async function withPatched(name: string, body: (shop: RunningShop) => Promise<void>) {
    const copy = await copyShop()
    try {
      await copy.apply(path.join(CHANGES_DIR, `${name}.patch`))
      const shop = await startShop({ root: copy.root })
      try {
        await body(shop)
      } finally {
        await shop.stop()
      }
    } finally {
      await copy.remove()
    }
  }
  const create = (shop: RunningShop, items: unknown, token: string = shop.tokens.alice) =>
    call(`${shop.urls.orders}/orders`, { token, json: { items } })
  const teaAndMug = [
    { sku: 'tea', quantity: 2 },
    { sku: 'mug', quantity: 1 },
  ]

  it('env-var-rename: orders stays healthy but cannot take orders (502)', async () => {
    await withPatched('env-var-rename', async (shop) => {
      expect(shop.logs('orders').join('\n')).toMatch(/PAYMENT_URL is not set/)
      expect((await call(`${shop.urls.orders}/health`)).status).toBe(200)
      const reply = await create(shop, teaAndMug)
      expect(reply.status).toBe(502)
      expect(reply.json).toEqual({ error: 'payments is not configured' })
    })
  })

  it('field-rename: a new order is answered with total_cents instead of totalCents', async () => {
    await withPatched('field-rename', async (shop) => {
      const reply = await create(shop, teaAndMug)
      expect(reply.status).toBe(201)
      expect(reply.json.total_cents).toBe(3150)
      expect(reply.json).not.toHaveProperty('totalCents')
      // What is stored and read back keeps the old name: only the answer to the creation changed.
      const read = await call(`${shop.urls.orders}/orders/${reply.json.id}`, { token: shop.tokens.alice })
      expect(read.json).toMatchObject({ totalCents: 3150 })
    })
  })

  it('status-change: creating an order answers 200 instead of 201', async () => {
    expect((await create(baseline, teaAndMug)).status).toBe(201)
    await withPatched('status-change', async (shop) => {
      const reply = await create(shop, teaAndMug)
      expect(reply.status).toBe(200)
      expect(reply.json).toMatchObject({ status: 'confirmed', totalCents: 3150 })
    })
  })

  it('drop-validation: zero and negative quantities are no longer rejected', async () => {
    const items = [
      { sku: 'tea', quantity: -1 },
      { sku: 'mug', quantity: 3 },
    ]
    expect((await create(baseline, items)).status).toBe(400)
    await withPatched('drop-validation', async (shop) => {
      const mixed = await create(shop, items)
      expect(mixed.status).toBe(201)
      expect(mixed.json.totalCents).toBe(3 * 1450 - 850)
      expect((await create(shop, [{ sku: 'tea', quantity: 0 }, ...teaAndMug])).status).toBe(201)
      // Alone, a negative line makes a negative total: payments refuses it and orders answers 5xx.
      expect((await create(shop, [{ sku: 'tea', quantity: -2 }])).status).toBe(502)
      expect((await create(shop, [{ sku: 'tea', quantity: 101 }])).status).toBe(400)
    })
  })

  it("auth-owner-check: bob can read alice's order", async () => {
    await withPatched('auth-owner-check', async (shop) => {
      const created = (await create(shop, teaAndMug)).json
      const foreign = await call(`${shop.urls.orders}/orders/${created.id}`, { token: shop.tokens.bob })
      expect(foreign.status).toBe(200)
      expect(foreign.json.owner).toBe('alice')
      expect((await call(`${shop.urls.orders}/orders/${created.id}`)).status).toBe(401)
    })
  })

  it('slow-lookup: one catalog call per item, each with a warehouse round trip', async () => {
    const items = ['tea', 'mug', 'coffee', 'filter', 'cocoa'].map((sku) => ({ sku, quantity: 1 }))
    const lookups = (shop: RunningShop) => ({
      batch: shop.logs('catalog').filter((line) => / POST \/products\/lookup 200 /.test(line)).length,
      single: shop.logs('catalog').filter((line) => / GET \/products\/[a-z]+ 200 /.test(line)).length,
    })
    const before = lookups(baseline)
    const fast = await create(baseline, items)
    expect(fast.status).toBe(201)
    await expect.poll(() => lookups(baseline)).toEqual({ batch: before.batch + 1, single: before.single })
    await withPatched('slow-lookup', async (shop) => {
      const started = performance.now()
      const slow = await create(shop, items)
      const elapsed = performance.now() - started
      expect(slow.status).toBe(201)
      expect(slow.json.totalCents).toBe(fast.json.totalCents)
      await expect.poll(() => lookups(shop)).toEqual({ batch: 0, single: 5 })
      // Five sequential reads of at least 25 ms each: a lower bound, so it holds on a busy machine.
      expect(elapsed).toBeGreaterThanOrEqual(5 * 25 * 0.9)
    })
  })

  it('additive-field: orders gain estimatedDelivery and generatedAt, nothing else changes', async () => {
    const before = (await create(baseline, teaAndMug)).json
    await withPatched('additive-field', async (shop) => {
      const reply = await create(shop, teaAndMug)
      expect(reply.status).toBe(201)
      const after = reply.json
      expect(after.estimatedDelivery).toMatch(/^\d{4}-\d{2}-\d{2}$/)
      expect(Number.isNaN(Date.parse(after.generatedAt))).toBe(false)
      const { estimatedDelivery: _e, generatedAt: _g, ...rest } = after
      expect(Object.keys(rest).sort()).toEqual(Object.keys(before).sort())
      for (const key of Object.keys(before)) expect(typeof rest[key], key).toBe(typeof before[key])
      const read = await call(`${shop.urls.orders}/orders/${after.id}`, { token: shop.tokens.alice })
      expect(read.json).toHaveProperty('generatedAt')
      const list = await call(`${shop.urls.orders}/orders`, { token: shop.tokens.alice })
      expect(list.json).toHaveProperty('generatedAt')
      expect(list.json.orders[0].id).toBe(after.id)
    })
  })

  it('docs-only: touches the README and nothing a service runs', async () => {
    expect(touchedFiles(await readPatch('docs-only'))).toEqual(['README.md'])
  })
})
