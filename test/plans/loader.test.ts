import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { defaultCheckSchemas, formatDiagnostic, loadPlans } from '../../plans/index.js'
import { tempTree } from './helpers.js'

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const valid = 'test/plans/fixtures/valid'

describe('loadPlans on valid plans', () => {
  it('loads the expected model, sorted by name', async () => {
    const result = await loadPlans({ roots: [valid], cwd: repo })
    expect(result.diagnostics).toEqual([])
    expect(result.files).toEqual([`${valid}/checkout.md`, `${valid}/minimal.md`])
    expect(result.plans.map((p) => p.name)).toEqual(['a-minimal', 'checkout-order'])
    const [minimal, checkout] = result.plans
    expect(minimal).toEqual({
      name: 'a-minimal',
      title: 'Minimal',
      selectionHint: 'The smallest valid plan with one contract check.',
      paths: [],
      tags: [],
      always: false,
      blocking: true,
      vars: {},
      file: `${valid}/minimal.md`,
      dir: path.join(repo, valid),
      checks: [
        {
          kind: 'contract',
          name: 'contract #1',
          id: 'a-minimal/contract #1',
          index: 0,
          location: { file: `${valid}/minimal.md`, line: 6, column: 1 },
          params: { request: 'GET /health' },
          source: 'request: GET /health\n',
        },
      ],
      frontmatter: {
        name: 'a-minimal',
        title: 'Minimal',
        selectionHint: 'The smallest valid plan with one contract check.',
      },
    })
    expect(checkout).toMatchObject({
      name: 'checkout-order',
      title: 'Checkout creates an order',
      selectionHint:
        'Cart, payment authorisation and order creation. Pick when a change touches checkout, payments, orders or the cart API.',
      paths: ['services/checkout/**'],
      tags: ['payments', 'orders'],
      always: false,
      blocking: false,
      timeoutMs: 120_000,
      vars: { sku: 'tea' },
      frontmatter: { owner: 'team-checkout', timeout: '2m' },
    })
  })

  it('names checks from the info string, else the nearest heading, and de-duplicates ids', async () => {
    const { plans } = await loadPlans({ roots: [valid], cwd: repo })
    const checkout = plans.find((p) => p.name === 'checkout-order')!
    expect(checkout.checks.map((c) => [c.kind, c.id, c.location.line, c.location.column])).toEqual([
      // The ```contract inside the ````markdown block is an example, not a check.
      ['contract', 'checkout-order/Order matches its schema', 24, 1],
      ['contract', 'checkout-order/Order matches its schema (2)', 29, 1],
      ['e2e', 'checkout-order/Create then read', 33, 1],
      // A ~~~ fence indented under a list item, named by the setext heading above.
      ['load', 'checkout-order/Read back', 44, 3],
      ['load', 'checkout-order/Create then read (2)', 49, 1],
      ['adversarial', 'checkout-order/Read back (2)', 53, 1],
    ])
    expect(checkout.checks[3]!.params).toEqual({ request: 'GET /orders', rate: '10/s' })
    expect(checkout.checks[2]!.params).toEqual({
      steps: [{ name: 'create', request: { method: 'POST', path: '/orders', json: { sku: '{{sku}}' } } }],
    })
    expect(checkout.checks.map((c) => c.index)).toEqual([0, 1, 2, 3, 4, 5])
  })

  it('deep-freezes the model', async () => {
    const { plans } = await loadPlans({ roots: [valid], cwd: repo })
    const plan = plans[1]!
    expect(Object.isFrozen(plan)).toBe(true)
    expect(Object.isFrozen(plan.checks)).toBe(true)
    expect(Object.isFrozen(plan.checks[2]!.params)).toBe(true)
    expect(Object.isFrozen((plan.checks[2]!.params.steps as object[])[0])).toBe(true)
    expect(() => {
      ;(plan.tags as string[]).push('x')
    }).toThrow(TypeError)
  })

  it('treats only the kinds it is given as checks', async () => {
    const { plans } = await loadPlans({
      roots: [`${valid}/checkout.md`],
      cwd: repo,
      checkSchemas: { contract: defaultCheckSchemas.contract! },
    })
    expect(plans[0]!.checks.map((c) => c.kind)).toEqual(['contract', 'contract'])
  })

  it('reports files relative to cwd and accepts absolute roots', async () => {
    const { plans } = await loadPlans({
      roots: [path.join(repo, valid, 'minimal.md')],
      cwd: path.join(repo, 'test'),
    })
    expect(plans[0]!.file).toBe('plans/fixtures/valid/minimal.md')
    expect(plans[0]!.checks[0]!.location.file).toBe('plans/fixtures/valid/minimal.md')
  })

  it('reads CRLF files and a BOM with the same positions', async () => {
    const text =
      '\uFEFF---\nname: crlf\ntitle: CRLF\nselectionHint: Validates a plan written with Windows line endings.\n---\n\n```contract\nrequest: GET /x\nexpec: 1\n```\n'
    const cwd = await tempTree({ 'plans/crlf.md': text.replace(/\n/g, '\r\n') })
    const loose = await loadPlans({ roots: ['plans'], cwd, checkSchemas: { contract: { type: 'object' } } })
    expect(loose.plans[0]!.checks[0]!.params).toEqual({ request: 'GET /x', expec: 1 })
    const strict = await loadPlans({
      roots: ['plans'],
      cwd,
      checkSchemas: {
        contract: { type: 'object', properties: { request: {} }, additionalProperties: false },
      },
    })
    expect(strict.diagnostics.map(formatDiagnostic)).toEqual([
      'plans/crlf.md:9:1 contract: unknown property "expec"; expected one of request',
    ])
  })
})
