/**
 * The contract kind against real loopback servers: one baseline and one candidate server per case,
 * each case naming the findings it must produce (ESLint RuleTester style), grouped by classification.
 */
import { afterEach, describe, expect, it } from 'vitest'
import contract from '../../../../engine/kinds/contract/kind.js'
import type { ReportDescriptor } from '../../../../engine/api/kind.js'
import type { ContractParams } from '../../../../engine/kinds/contract/params.js'
import { renderMessage } from '../../../../engine/executors/local/check-runner.js'
import { createCheckContext } from '../../../support/check-context.js'
import { startServer, type Handler, type TestServer } from './servers.js'

const servers: TestServer[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()))
})

interface Case {
  name: string
  baseline: Handler
  candidate: Handler
  params?: Partial<ContractParams>
  /** messageId → pointer (or '' when not checked) of the findings that must appear, with severity. */
  findings: Array<{
    messageId: string
    severity: 'error' | 'warning' | 'info'
    pointer?: string
    message?: string
    contains?: string
  }>
}

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

async function runCase(c: Case) {
  const baseline = await startServer(c.baseline)
  const candidate = await startServer(c.candidate)
  servers.push(baseline, candidate)
  const params: ContractParams = { request: 'GET /orders/ord_1', compare: 'baseline', ...c.params }
  const t = createCheckContext<ContractParams>({
    kind: contract,
    params,
    candidate: { services: { api: candidate.url } },
    baseline: { services: { api: baseline.url } },
  })
  try {
    await t.run()
  } finally {
    await t.close()
  }
  return { findings: t.findings, baseline, candidate }
}

const message = (d: ReportDescriptor) => renderMessage(contract.meta.messages[d.messageId!] ?? '', d.data)
const relevant = (findings: ReportDescriptor[]) => findings.filter((f) => f.messageId !== 'noise-learned')

async function expectCase(c: Case) {
  const { findings } = await runCase(c)
  const got = relevant(findings).map((f) => ({
    messageId: f.messageId,
    severity: f.severity ?? 'error',
    pointer: f.pointer,
    message: message(f),
  }))
  expect(got).toHaveLength(c.findings.length)
  for (const want of c.findings) {
    const match = got.find(
      (g) => g.messageId === want.messageId && (want.pointer === undefined || g.pointer === want.pointer),
    )
    expect(match, `${want.messageId} ${want.pointer ?? ''} in ${JSON.stringify(got)}`).toBeDefined()
    expect(match!.severity).toBe(want.severity)
    if (want.message) expect(match!.message).toBe(want.message)
    if (want.contains) expect(match!.message).toContain(want.contains)
    // Every placeholder was filled.
    expect(match!.message).not.toMatch(/\{\{/)
  }
  return findings
}

describe('contract: breaking changes fail', () => {
  const cases: Case[] = [
    {
      name: 'removed field, explained as a rename',
      baseline: json(order()),
      candidate: json({ ...order(), totalCents: undefined, total_cents: 1250 }),
      findings: [
        {
          messageId: 'field-removed',
          severity: 'error',
          pointer: '/totalCents',
          message: 'Field /totalCents was removed; candidate has /total_cents.',
        },
      ],
    },
    {
      name: 'removed field without a similar sibling',
      baseline: json(order()),
      candidate: json({ ...order(), status: undefined }),
      findings: [
        {
          messageId: 'field-removed',
          severity: 'error',
          pointer: '/status',
          message: 'Field /status was removed.',
        },
      ],
    },
    {
      name: 'type change',
      baseline: json(order()),
      candidate: json(order({ totalCents: '12.50' })),
      findings: [
        {
          messageId: 'type-changed',
          severity: 'error',
          pointer: '/totalCents',
          message: 'Field /totalCents changed type from number to string: baseline 1250, candidate "12.50".',
        },
      ],
    },
    {
      name: 'array became object',
      baseline: json(order()),
      candidate: json(order({ items: { tea: 2 } })),
      findings: [
        { messageId: 'type-changed', severity: 'error', pointer: '/items', contains: 'from array to object' },
      ],
    },
    {
      name: 'required field became nullable',
      baseline: json(order()),
      candidate: json(order({ totalCents: null })),
      findings: [
        {
          messageId: 'became-nullable',
          severity: 'error',
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
          severity: 'error',
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
        {
          messageId: 'enum-value-removed',
          severity: 'error',
          pointer: '/status',
          message: 'Enum value "confirmed" at /status is no longer returned; candidate returns "accepted".',
        },
        { messageId: 'enum-value-added', severity: 'info', pointer: '/status' },
      ],
    },
    {
      name: 'field removed in every array element is one finding',
      baseline: json({ items: [1, 2, 3].map((n) => ({ sku: `s${n}`, priceCents: n })) }),
      candidate: json({ items: [1, 2, 3].map((n) => ({ sku: `s${n}` })) }),
      findings: [
        {
          messageId: 'field-removed',
          severity: 'error',
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
      findings: [{ messageId: 'content-type-changed', severity: 'error', pointer: 'header:content-type' }],
    },
  ]
  it.each(cases)('$name', async (c) => {
    await expectCase(c)
  })
})

describe('contract: additive changes pass, reported as information', () => {
  const cases: Case[] = [
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
  ]
  it.each(cases)('$name', async (c) => {
    await expectCase(c)
  })
})

describe('contract: noise is not held against the candidate', () => {
  let stamp = 0
  const cases: Case[] = [
    {
      name: 'a field that changes on every call is learned, not declared',
      baseline: () => ({
        body: order({ generatedAt: `2030-01-01T00:00:0${++stamp % 10}Z`, requestNo: stamp }),
      }),
      candidate: () => ({
        body: order({ generatedAt: `2030-01-02T00:00:0${++stamp % 10}Z`, requestNo: stamp }),
      }),
      findings: [],
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
      findings: [],
    },
    {
      name: 'array order, with ignoreOrder',
      baseline: json({ items: [{ sku: 'a' }, { sku: 'b' }, { sku: 'c' }] }),
      candidate: json({ items: [{ sku: 'c' }, { sku: 'a' }, { sku: 'b' }] }),
      params: { compare: { ignoreOrder: true } },
      findings: [],
    },
  ]
  it.each(cases)('$name', async (c) => {
    await expectCase(c)
  })

  it('reports what it learned as information, with the generalised pointers', async () => {
    let n = 0
    const changing: Handler = () => ({
      body: { items: [{ id: `i${++n}`, sku: 'tea' }], generatedAt: String(n) },
    })
    const { findings } = await runCase({
      name: 'learned',
      baseline: changing,
      candidate: changing,
      findings: [],
    })
    const learned = findings.find((f) => f.messageId === 'noise-learned')
    expect(learned?.severity).toBe('info')
    expect(learned?.actual).toEqual(['/generatedAt', '/items/*/id'])
    expect(relevant(findings)).toEqual([])
  })

  it('without learning, the same changing field is a changed value (a warning)', async () => {
    let n = 0
    const changing: Handler = () => ({ body: order({ generatedAt: String(++n) }) })
    const { findings } = await runCase({
      name: 'no learning',
      baseline: changing,
      candidate: changing,
      params: { compare: { learnNoise: false } },
      findings: [],
    })
    expect(relevant(findings).map((f) => [f.messageId, f.severity, f.pointer])).toEqual([
      ['value-changed', 'warning', '/generatedAt'],
    ])
  })

  it('array order is compared by default', async () => {
    const { findings } = await runCase({
      name: 'order',
      baseline: json({ items: ['a', 'b'] }),
      candidate: json({ items: ['b', 'a'] }),
      findings: [],
    })
    expect(relevant(findings).map(message)).toEqual([
      'Value at /items/* changed from "a" to "b" (2 places, e.g. /items/0).',
    ])
  })
})

describe('contract: declared ignores', () => {
  const cases: Case[] = [
    {
      name: 'a glob over every id (/**/id) hides changed ids at any depth',
      baseline: json(order({ items: [{ id: 'l1', sku: 'tea' }] })),
      candidate: json(order({ id: 'ord_9', items: [{ id: 'l9', sku: 'tea' }] })),
      params: { compare: { ignore: ['/**/id'], learnNoise: false } },
      findings: [],
    },
    {
      name: 'an ignored field may even disappear',
      baseline: json(order({ generatedAt: '2030-01-01T00:00:00Z' })),
      candidate: json(order()),
      params: { compare: { ignore: ['/generatedAt'] } },
      findings: [],
    },
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
          severity: 'error',
          pointer: 'header:cache-control',
          message: 'Header cache-control changed from "max-age=60" to "no-store".',
        },
      ],
    },
  ]
  it.each(cases)('$name', async (c) => {
    await expectCase(c)
  })
})

describe('contract: side effects and missing baseline', () => {
  it('sends an unsafe method only to the candidate unless the plan allows it', async () => {
    const { findings, baseline, candidate } = await runCase({
      name: 'unsafe',
      baseline: json(order(), 201),
      candidate: json(order(), 201),
      params: { request: { method: 'POST', path: '/orders', json: { items: [] } }, expect: { status: 201 } },
      findings: [],
    })
    expect(baseline.calls).toEqual([])
    expect(candidate.calls).toEqual([{ method: 'POST', path: '/orders' }])
    expect(findings.map((f) => [f.messageId, f.severity])).toEqual([['compare-skipped', 'info']])
  })

  it('compares an unsafe method with compare.unsafe, calling the baseline twice', async () => {
    let id = 0
    const create: Handler = () => ({
      status: 201,
      body: order({ id: `ord_${++id}` }),
      headers: { location: `/orders/ord_${id}` },
    })
    const { findings, baseline } = await runCase({
      name: 'unsafe allowed',
      baseline: create,
      candidate: create,
      params: {
        request: { method: 'POST', path: '/orders', json: { items: [] } },
        expect: { status: 201 },
        compare: { unsafe: true },
      },
      findings: [],
    })
    expect(baseline.calls).toHaveLength(2)
    expect(relevant(findings)).toEqual([])
    expect(findings.find((f) => f.messageId === 'noise-learned')?.actual).toEqual(['header:location', '/id'])
  })

  it('without a baseline, still checks conformance and says the comparison was skipped', async () => {
    const candidate = await startServer(json(order(), 500))
    servers.push(candidate)
    const t = createCheckContext<ContractParams>({
      kind: contract,
      params: { request: 'GET /x', compare: 'baseline' },
      candidate: { services: { api: candidate.url } },
    })
    await t.run()
    await t.close()
    expect(t.findings.map((f) => [f.messageId, f.severity ?? 'error'])).toEqual([
      ['compare-skipped', 'info'],
      ['status', 'error'],
    ])
    expect(t.findings[1]!.evidence?.reproduce).toMatch(/^curl .*\/x/)
  })
})
