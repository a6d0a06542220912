/**
 * The contract kind against real loopback servers: one baseline and one candidate server per case, each
 * case naming the findings it must produce (KindTester: test/support/kind-tester.ts), grouped by
 * classification.
 */
import { expect } from 'vitest'
import { KindTester, type ExpectedFinding } from '../../../support/kind-tester.js'
import { startServer, type Handler, type TestServer } from './servers.js'

const tester = new KindTester<TestServer>({ kind: 'contract', quiet: ['noise-learned'] })

interface Sides {
  name: string
  baseline: Handler | null
  candidate: Handler
  /** Merged over `request: GET /orders/ord_1` and `compare: baseline`. */
  params?: Record<string, unknown>
  findings?: ExpectedFinding[]
  assert?: Parameters<typeof tester.check>[0]['assert']
}

/** Cases with a server per side, answering from each handler. */
const cases = (list: Sides[]) =>
  list.map(({ baseline, candidate, params, ...rest }) => ({
    ...rest,
    findings: rest.findings ?? [],
    block: { request: 'GET /orders/ord_1', compare: 'baseline', ...params },
    candidate: () => startServer(candidate),
    baseline: baseline ? () => startServer(baseline) : null,
  }))

const order = (extra: Record<string, unknown> = {}) => ({
  id: 'ord_1',
  status: 'confirmed',
  totalCents: 1250,
  items: [{ sku: 'tea', quantity: 2 }],
  ...extra,
})
const json =
  (body: unknown, status = 200): Handler =>
  () => ({ status, body })

tester.run('contract: breaking changes fail', {
  invalid: cases([
    {
      name: 'removed field, explained as a rename',
      baseline: json(order()),
      candidate: json({ ...order(), totalCents: undefined, total_cents: 1250 }),
      findings: [
        {
          messageId: 'field-removed',
          pointer: '/totalCents',
          message: 'Field /totalCents was removed; candidate has /total_cents.',
        },
      ],
    },
    {
      name: 'removed field without a similar sibling',
      baseline: json(order()),
      candidate: json({ ...order(), status: undefined }),
      findings: [{ messageId: 'field-removed', pointer: '/status', message: 'Field /status was removed.' }],
    },
    {
      name: 'type change',
      baseline: json(order()),
      candidate: json(order({ totalCents: '12.50' })),
      findings: [
        {
          messageId: 'type-changed',
          pointer: '/totalCents',
          message: 'Field /totalCents changed type from number to string: baseline 1250, candidate "12.50".',
        },
      ],
    },
    {
      name: 'array became object',
      baseline: json(order()),
      candidate: json(order({ items: { tea: 2 } })),
      findings: [{ messageId: 'type-changed', pointer: '/items', message: /from array to object/ }],
    },
    {
      name: 'required field became nullable',
      baseline: json(order()),
      candidate: json(order({ totalCents: null })),
      findings: [
        {
          messageId: 'became-nullable',
          pointer: '/totalCents',
          message: 'Field /totalCents became null; baseline has 1250.',
        },
      ],
    },
    {
      name: 'status change',
      baseline: json(order(), 200),
      candidate: json(order(), 201),
      params: { expect: { status: [200, 201] } },
      findings: [
        {
          messageId: 'status-changed',
          pointer: 'status',
          message:
            "Status changed from 200 to 201. If the change is intended, accept it with compare: { allowStatus: ['200->201'] }.",
        },
      ],
    },
    {
      name: 'enum value removed (enum known from the schema)',
      baseline: json(order({ status: 'confirmed' })),
      candidate: json(order({ status: 'accepted' })),
      params: {
        expect: {
          schema: {
            type: 'object',
            properties: { status: { type: 'string', enum: ['confirmed', 'accepted'] } },
          },
        },
      },
      findings: [
        { messageId: 'enum-value-added', severity: 'info', pointer: '/status' },
        {
          messageId: 'enum-value-removed',
          pointer: '/status',
          message: 'Enum value "confirmed" at /status is no longer returned; candidate returns "accepted".',
        },
      ],
    },
    {
      name: 'field removed in every array element is one finding',
      baseline: json({ items: [1, 2, 3].map((n) => ({ sku: `s${n}`, priceCents: n })) }),
      candidate: json({ items: [1, 2, 3].map((n) => ({ sku: `s${n}` })) }),
      findings: [
        {
          messageId: 'field-removed',
          pointer: '/items/0/priceCents',
          message: 'Field /items/*/priceCents was removed (3 places, e.g. /items/0/priceCents).',
        },
      ],
    },
    {
      name: 'content type change',
      baseline: json(order()),
      candidate: () => ({ body: JSON.stringify(order()), headers: { 'content-type': 'text/plain' } }),
      params: { expect: { status: 200 } },
      findings: [{ messageId: 'content-type-changed', pointer: 'header:content-type' }],
    },
  ]),
})

tester.run('contract: additive changes pass, reported as information', {
  valid: cases([
    {
      name: 'new field',
      baseline: json(order()),
      candidate: json(order({ estimatedDelivery: '2030-01-04' })),
      findings: [
        {
          messageId: 'field-added',
          severity: 'info',
          pointer: '/estimatedDelivery',
          message: 'Candidate adds field /estimatedDelivery (not breaking).',
        },
      ],
    },
    {
      name: 'new enum value next to the old ones',
      baseline: json({ orders: [order({ status: 'confirmed' })] }),
      candidate: json({
        orders: [order({ status: 'confirmed' }), order({ id: 'ord_2', status: 'shipped' })],
      }),
      params: {
        expect: {
          schema: {
            type: 'object',
            properties: {
              orders: {
                type: 'array',
                items: { properties: { status: { enum: ['confirmed', 'shipped'] } } },
              },
            },
          },
        },
        compare: { values: 'ignore' },
      },
      findings: [
        {
          messageId: 'enum-value-added',
          severity: 'info',
          pointer: '/orders/*/status',
          message: 'Candidate returns a new enum value "shipped" at /orders/*/status (not breaking).',
        },
      ],
    },
    {
      name: 'new header',
      baseline: json(order()),
      candidate: () => ({ body: order(), headers: { 'cache-control': 'no-store' } }),
      findings: [{ messageId: 'header-added', severity: 'info', pointer: 'header:cache-control' }],
    },
  ]),
})

let stamp = 0
let learned = 0
let unlearned = 0
tester.run('contract: noise is not held against the candidate', {
  valid: cases([
    {
      name: 'a field that changes on every call is learned, not declared',
      baseline: () => ({
        body: order({ generatedAt: `2030-01-01T00:00:0${++stamp % 10}Z`, requestNo: stamp }),
      }),
      candidate: () => ({
        body: order({ generatedAt: `2030-01-02T00:00:0${++stamp % 10}Z`, requestNo: stamp }),
      }),
    },
    {
      name: 'volatile headers (date, x-request-id, traceparent) are ignored',
      baseline: () => ({
        body: order(),
        headers: { traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01` },
      }),
      candidate: () => ({
        body: order(),
        headers: { traceparent: `00-${'c'.repeat(32)}-${'d'.repeat(16)}-01` },
      }),
    },
    {
      name: 'array order, with ignoreOrder',
      baseline: json({ items: [{ sku: 'a' }, { sku: 'b' }, { sku: 'c' }] }),
      candidate: json({ items: [{ sku: 'c' }, { sku: 'a' }, { sku: 'b' }] }),
      params: { compare: { ignoreOrder: true } },
    },
    {
      name: 'what it learned is information, with the generalised pointers',
      baseline: () => ({
        body: { items: [{ id: `i${++learned}`, sku: 'tea' }], generatedAt: String(learned) },
      }),
      candidate: () => ({
        body: { items: [{ id: `i${++learned}`, sku: 'tea' }], generatedAt: String(learned) },
      }),
      findings: [{ messageId: 'noise-learned', severity: 'info' }],
      assert: ({ findings }) => {
        expect(findings.find((f) => f.messageId === 'noise-learned')?.actual).toEqual([
          '/generatedAt',
          '/items/*/id',
        ])
      },
    },
  ]),
  invalid: cases([
    {
      name: 'without learning, the same changing field is a changed value (a warning)',
      baseline: () => ({ body: order({ generatedAt: String(++unlearned) }) }),
      candidate: () => ({ body: order({ generatedAt: String(++unlearned) }) }),
      params: { compare: { learnNoise: false } },
      findings: [{ messageId: 'value-changed', severity: 'warning', pointer: '/generatedAt' }],
    },
    {
      name: 'array order is compared by default',
      baseline: json({ items: ['a', 'b'] }),
      candidate: json({ items: ['b', 'a'] }),
      findings: [
        {
          messageId: 'value-changed',
          severity: 'warning',
          message: 'Value at /items/* changed from "a" to "b" (2 places, e.g. /items/0).',
        },
      ],
    },
  ]),
})

tester.run('contract: declared ignores', {
  valid: cases([
    {
      name: 'a glob over every id (/**/id) hides changed ids at any depth',
      baseline: json(order({ items: [{ id: 'l1', sku: 'tea' }] })),
      candidate: json(order({ id: 'ord_9', items: [{ id: 'l9', sku: 'tea' }] })),
      params: { compare: { ignore: ['/**/id'], learnNoise: false } },
    },
    {
      name: 'an ignored field may even disappear',
      baseline: json(order({ generatedAt: '2030-01-01T00:00:00Z' })),
      candidate: json(order()),
      params: { compare: { ignore: ['/generatedAt'] } },
    },
  ]),
  invalid: cases([
    {
      name: 'an ignore covers only what it names',
      baseline: json(order({ createdAt: 'a', meta: { createdAt: 'b' } })),
      candidate: json(order({ createdAt: 'x', meta: { createdAt: 'y' } })),
      params: { compare: { ignore: ['/createdAt'], learnNoise: false } },
      findings: [{ messageId: 'value-changed', severity: 'warning', pointer: '/meta/createdAt' }],
    },
    {
      name: 'a declared header of interest fails when it changes',
      baseline: () => ({ body: order(), headers: { 'cache-control': 'max-age=60' } }),
      candidate: () => ({ body: order(), headers: { 'cache-control': 'no-store' } }),
      params: { compare: { headers: ['cache-control'] } },
      findings: [
        {
          messageId: 'header-changed',
          pointer: 'header:cache-control',
          message: 'Header cache-control changed from "max-age=60" to "no-store".',
        },
      ],
    },
  ]),
})

let created = 0
const create: Handler = () => ({
  status: 201,
  body: order({ id: `ord_${++created}` }),
  headers: { location: `/orders/ord_${created}` },
})
tester.run('contract: side effects and missing baseline', {
  valid: cases([
    {
      name: 'sends an unsafe method only to the candidate unless the plan allows it',
      baseline: json(order(), 201),
      candidate: json(order(), 201),
      params: { request: { method: 'POST', path: '/orders', json: { items: [] } }, expect: { status: 201 } },
      findings: [{ messageId: 'compare-skipped', severity: 'info' }],
      assert: ({ baseline, candidate }) => {
        expect(baseline!.calls).toEqual([])
        expect(candidate.calls).toEqual([{ method: 'POST', path: '/orders' }])
      },
    },
    {
      name: 'compares an unsafe method with compare.unsafe, calling the baseline twice',
      baseline: create,
      candidate: create,
      params: {
        request: { method: 'POST', path: '/orders', json: { items: [] } },
        expect: { status: 201 },
        compare: { unsafe: true },
      },
      assert: ({ baseline, findings }) => {
        expect(baseline!.calls).toHaveLength(2)
        expect(findings.find((f) => f.messageId === 'noise-learned')?.actual).toEqual([
          'header:location',
          '/id',
        ])
      },
    },
  ]),
  invalid: cases([
    {
      name: 'without a baseline, still checks conformance and says the comparison was skipped',
      baseline: null,
      candidate: json(order(), 500),
      params: { request: 'GET /x' },
      findings: [
        { messageId: 'compare-skipped', severity: 'info' },
        { messageId: 'status', severity: 'error' },
      ],
      assert: ({ findings }) => {
        expect(findings[1]!.evidence?.reproduce).toMatch(/^curl .*\/x/)
      },
    },
  ]),
})

tester.run('contract: blocks the loader refuses', {
  rejected: [
    {
      name: 'a misspelt key, with the nearest one',
      block: 'request: GET /orders/1\nexpec: { status: 200 }\n',
      errors: [
        '2:1 contract: unknown property "expec"; expected one of service, request, requests, openapi, operations, tags, paths, params, headers, expect, compare, setup, sides (did you mean "expect"?)',
      ],
    },
    {
      name: 'neither a request nor an OpenAPI document (located at the fence)',
      block: 'compare: baseline\n',
      errors: ['0:1 contract: missing required property "request" or "requests" or "openapi"'],
    },
    {
      name: 'an unknown compare mode',
      block: 'request: GET /x\ncompare: nearby\n',
      errors: ['2:10 contract: compare must be one of baseline, got "nearby"'],
    },
    {
      name: 'a schema file outside the project',
      block: 'request: GET /x\nexpect: { schema: ../../elsewhere.json }\n',
      errors: [
        '2:19 contract: expect.schema "../../elsewhere.json" is outside the project; list its folder in allowFiles of vigil.config.yaml to read it',
      ],
    },
  ],
})
