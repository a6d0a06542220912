/**
 * One finding per root cause: when the candidate breaks an expectation because of a difference the
 * comparison with the baseline also finds, the comparison's finding (the more specific one) is the only
 * one reported, at least as severe as the one it stands for; expectations the comparison does not explain
 * are still reported. Each finding's `expected` and `actual` say what its sentence says.
 */
import { KindTester, type ExpectedFinding } from '../../../support/kind-tester.js'
import { startServer, type Handler, type TestServer } from './servers.js'

const tester = new KindTester<TestServer>({ kind: 'contract', quiet: ['noise-learned'] })

const order = (extra: Record<string, unknown> = {}) => ({
  id: 'ord_1',
  status: 'confirmed',
  totalCents: 1250,
  ...extra,
})
const reply =
  (body: unknown, status = 200, headers: Record<string, string> = {}): Handler =>
  () => ({ status, body, headers })

const orderSchema = {
  type: 'object',
  required: ['id', 'status', 'totalCents'],
  properties: {
    id: { type: 'string' },
    status: { type: 'string' },
    totalCents: { type: 'integer', minimum: 1 },
  },
}

const cases = (
  list: Array<{
    name: string
    baseline: Handler
    candidate: Handler
    params?: Record<string, unknown>
    findings: ExpectedFinding[]
  }>,
) =>
  list.map(({ baseline, candidate, params, ...rest }) => ({
    ...rest,
    block: { request: 'GET /orders/ord_1', compare: 'baseline', ...params },
    candidate: () => startServer(candidate),
    baseline: () => startServer(baseline),
  }))

tester.run('contract: one finding per root cause', {
  invalid: cases([
    {
      name: 'a status change the plan expected otherwise is the status change alone, saying what to update',
      baseline: reply(order()),
      candidate: reply({ error: 'not found' }, 404),
      params: { expect: { status: 200 } },
      findings: [
        {
          messageId: 'status-changed',
          pointer: 'status',
          message:
            "Status changed from 200 to 404. If the change is intended, accept it with compare: { allowStatus: ['200->404'] }, and expect status 404 (expect.status).",
        },
      ],
    },
    {
      name: 'a removed field the schema requires is the removal (a rename) alone',
      baseline: reply(order()),
      candidate: reply({ ...order(), totalCents: undefined, total_cents: 1250 }),
      params: { expect: { schema: orderSchema } },
      findings: [
        {
          messageId: 'field-removed',
          pointer: '/totalCents',
          message: 'Field /totalCents was removed; candidate has /total_cents.',
          // What the sentence says, not the baseline's value.
          expected: 'present',
          actual: 'absent',
        },
      ],
    },
    {
      name: 'a type change the schema rejects is the type change alone',
      baseline: reply(order()),
      candidate: reply(order({ totalCents: '12.50' })),
      params: { expect: { schema: orderSchema } },
      findings: [{ messageId: 'type-changed', pointer: '/totalCents', expected: 1250, actual: '12.50' }],
    },
    {
      name: 'a removed header the plan requires is the removal alone, raised to an error',
      baseline: reply(order(), 200, { 'x-trace': 't-1' }),
      candidate: reply(order()),
      params: { expect: { headers: ['x-trace'] } },
      findings: [
        {
          messageId: 'header-removed',
          severity: 'error',
          pointer: 'header:x-trace',
          expected: 'present',
          actual: 'absent',
        },
      ],
    },
    {
      name: 'a changed content type the plan expected otherwise is the change alone',
      baseline: reply(order()),
      candidate: reply('id=ord_1', 200, { 'content-type': 'text/plain' }),
      params: { expect: { contentType: 'application/json' } },
      findings: [{ messageId: 'content-type-changed', pointer: 'header:content-type' }],
    },
    {
      name: 'an expectation the comparison does not explain is still reported beside the change',
      baseline: reply(order({ totalCents: 5 })),
      candidate: reply(order({ totalCents: 0 })),
      params: { expect: { schema: orderSchema }, compare: { values: 'warning' } },
      findings: [
        { messageId: 'schema', pointer: '/totalCents', expected: { minimum: 1 }, actual: 0 },
        { messageId: 'value-changed', severity: 'warning', pointer: '/totalCents' },
      ],
    },
    {
      name: 'a required field both sides lack reads as expected present, found absent',
      baseline: reply({ id: 'ord_1', status: 'confirmed' }),
      candidate: reply({ id: 'ord_1', status: 'confirmed' }),
      params: { expect: { schema: orderSchema } },
      findings: [
        {
          messageId: 'schema',
          pointer: '/totalCents',
          message: 'Body /totalCents is required (got nothing).',
          expected: 'present',
          actual: 'absent',
        },
      ],
    },
  ]),
})
