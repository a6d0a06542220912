/**
 * The checkout-flow plan, loaded by the real plan loader and run by the real e2e check kind against
 * the real shop: it passes on the shop as it is, and fails on exactly the labelled changes whose
 * expect file says checkout-flow catches them. Its block runs through KindTester
 * (test/support/kind-tester.ts), with the plan's own frontmatter.
 */
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { parse } from 'yaml'
import { beforeAll, describe, expect, it } from 'vitest'
import { checkKinds } from '../../engine/kinds/index.js'
import { loadConfig, loadPlans, type CheckBlock, type Plan } from '../../plans/index.js'
import { KindTester, type Target } from '../support/kind-tester.js'
import { CHANGES_DIR, copyShop } from './patched-shop.js'
import { SHOP_ROOT, SHOP_TOKENS, startShop } from './shop-helper.js'

const CONFIG = path.join(SHOP_ROOT, 'vigil.config.yaml')
const CODE_CHANGES = [
  'additive-field',
  'auth-owner-check',
  'drop-validation',
  'env-var-rename',
  'field-rename',
  'slow-lookup',
  'status-change',
]

let plan: Plan
let check: CheckBlock
let secrets: Record<string, { value: string }>

beforeAll(async () => {
  const loaded = await loadConfig(CONFIG)
  secrets = loaded.config.secrets as Record<string, { value: string }>
  const checkSchemas = Object.fromEntries(
    Object.entries(checkKinds).map(([name, kind]) => [name, kind.meta.schema]),
  )
  const result = await loadPlans({ roots: [path.join(SHOP_ROOT, 'plans', 'checkout-flow.md')], checkSchemas })
  expect(result.diagnostics).toEqual([])
  plan = result.plans[0]!
  check = plan.checks[0]!
})

/** Runs the plan's e2e check against a shop started from `root`; returns the error messages. */
async function runCheckout(root?: string): Promise<string[]> {
  const run = await new KindTester({ kind: 'e2e', secrets }).check({
    name: check.name,
    block: check.source,
    plan: { timeout: plan.frontmatter.timeout, vars: plan.vars },
    candidate: async (): Promise<Target> => {
      const shop = await startShop(root ? { root } : {})
      return { services: shop.urls, default: 'orders', close: async () => void (await shop.stop()) }
    },
  })
  const text = JSON.stringify([run.reports, run.findings])
  for (const { value } of Object.values(secrets)) expect(text).not.toContain(value)
  return run.findings.filter((f) => f.severity === 'error').map((f) => f.message)
}

describe('checkout-flow plan', () => {
  it('loads cleanly, with one e2e check named after its heading', () => {
    expect(plan.name).toBe('checkout-flow')
    expect(plan.checks.map((c) => [c.kind, c.name])).toEqual([['e2e', 'Checkout']])
    expect(plan.timeoutMs).toBe(60_000)
  })

  it('gives orders its principals from the config secrets, the tokens the plan uses', async () => {
    const raw = parse(await readFile(CONFIG, 'utf8'))
    expect(raw.sandbox.services.orders.env.ORDERS_TOKENS).toBe(
      'alice:{{secrets.alice}},bob:{{secrets.bob}},ops:{{secrets.ops}}',
    )
    expect(raw.sandbox.services.orders.env.ORDERS_STAFF).toBe('ops')
    for (const [name, token] of Object.entries(SHOP_TOKENS)) expect(secrets[name]?.value, name).toBe(token)
  })

  it('passes against the shop as it is', async () => {
    expect(await runCheckout()).toEqual([])
  })

  it.each(CODE_CHANGES)(
    '%s: fails exactly when the expect file says checkout-flow catches it',
    async (name) => {
      const expectation = JSON.parse(await readFile(path.join(CHANGES_DIR, `${name}.expect.json`), 'utf8'))
      const catches = expectation.caughtBy.some((c: { plan: string }) => c.plan === 'checkout-flow')
      const copy = await copyShop()
      try {
        await copy.apply(path.join(CHANGES_DIR, `${name}.patch`))
        const errors = await runCheckout(copy.root)
        if (catches) expect(errors.length, 'expected checkout-flow to fail').toBeGreaterThan(0)
        else expect(errors).toEqual([])
      } finally {
        await copy.remove()
      }
    },
  )
})
