/** The e2e kind against a loopback orders API (KindTester: test/support/kind-tester.ts). */
import { describe, expect, it } from 'vitest'
import e2e from '../../../../engine/kinds/e2e/kind.js'
import type { HttpEvidence } from '../../../../engine/verdict.js'
import { KindTester, shared, type Target } from '../../../support/kind-tester.js'
import { startOrdersServer, type TestServer } from '../../../support/shop-server.js'

type Orders = TestServer & Target
const orders = shared<Orders>(async () => {
  const server = await startOrdersServer()
  return { ...server, services: { orders: server.url } }
})
/** The orders API beside a service nobody listens on. */
const withGone = async (): Promise<Target> => ({
  services: { orders: (await orders()).url, gone: 'http://127.0.0.1:1' },
})
const tester = new KindTester<Target>({ kind: 'e2e', candidate: orders })
const url = async () => (await orders()).url

tester.run('e2e check kind: flows', {
  valid: [
    {
      name: 'passes a flow with captures from pointers, JSONPath, headers and status, and every operator',
      envAllow: ['SHOP_REGION'],
      env: { SHOP_REGION: 'eu' },
      block: {
        steps: [
          {
            name: 'create order',
            request: {
              method: 'POST',
              path: '/orders',
              query: { region: '{{env.SHOP_REGION}}' },
              json: { items: [{ sku: 'tea', quantity: 2 }] },
            },
            expect: {
              status: 201,
              headers: { 'Content-Type': { matches: 'json' }, location: { exists: true } },
              json: {
                '/totalCents': { equals: 0, gte: 0, lt: 1, type: 'integer' },
                '/paid': false,
                '/note': { equals: null, exists: true },
                '/missing': { exists: false },
                '/id': { matches: '^o-\\d+$', notEquals: '', oneOf: ['o-1', 'o-2'], length: 3 },
                '/items': { length: { gt: 0 }, contains: { sku: 'tea' } },
                '$.items[0].quantity': { gt: 1, lte: 2 },
                '/region': 'eu',
              },
              maxMs: 5000,
            },
            capture: { orderId: '/id', first: '$.items[0].sku', where: 'header:location', code: 'status' },
          },
          {
            name: 'read it back',
            request: 'GET {{where}}',
            expect: {
              status: [200, 204],
              json: { '/id': { equals: '{{orderId}}' }, '$.items[*].sku': ['{{first}}'] },
            },
          },
          {
            name: 'plain text',
            request: 'GET /text',
            expect: { status: '2xx', body: { contains: 'plain' } },
          },
        ],
      },
      assert: ({ vars, progress }) => {
        expect(vars.get('orderId')).toBe('o-1')
        expect(vars.get('where')).toBe('/orders/o-1')
        expect(vars.get('code')).toBe(201)
        expect(progress).toContain('read it back: GET /orders/o-1')
      },
    },
    {
      name: 'uses the baseline sandbox when a step asks for it',
      block: {
        steps: [{ name: 'b', sandbox: 'baseline', request: 'GET /orders/o-1', expect: { status: 200 } }],
      },
      candidate: { services: { orders: 'http://127.0.0.1:1' } },
      baseline: orders,
    },
  ],
  invalid: [
    {
      name: 'stops at a failing step, naming it with the request, expected, actual and a curl line',
      block: {
        steps: [
          { name: 'create order', request: 'POST /orders', expect: { status: 201 }, capture: { id: '/id' } },
          {
            name: 'read missing',
            request: 'GET /orders/nope',
            expect: { status: 200, json: { '/id': '{{id}}' } },
          },
          { name: 'never', request: 'GET /orders/o-1' },
        ],
      },
      findings: [
        {
          messageId: 'status',
          step: 'read missing',
          expected: 200,
          actual: 404,
          data: { step: 'read missing', request: 'GET /orders/nope' },
        },
        { messageId: 'not-run', severity: 'info', step: 'never', data: { failed: 'read missing' } },
      ],
      assert: async ({ findings }) => {
        const [status] = findings
        expect(status!.evidence?.reproduce).toBe(`curl -sS -i ${await url()}/orders/nope`)
        expect(status!.evidence?.excerpt?.text).toContain('not found')
        expect((status!.evidence as HttpEvidence | undefined)?.request?.url).toBe(
          `${await url()}/orders/nope`,
        )
      },
    },
    {
      name: 'reports every failing assertion of a step with the expected status',
      block: {
        steps: [
          {
            name: 'read',
            request: 'GET /orders/o-1',
            expect: { status: [200, 201], json: { '/id': 'o-2', '/paid': { exists: false } } },
          },
        ],
      },
      findings: [
        { messageId: 'json', pointer: '/id', expected: 'o-2', actual: 'o-1' },
        {
          messageId: 'json',
          pointer: '/paid',
          expected: false,
          actual: false,
          data: { detail: 'expected nothing, got false' },
        },
      ],
    },
    {
      name: 'fails on a server error by default',
      block: { steps: [{ name: 'boom', request: 'GET /boom' }] },
      findings: [{ messageId: 'status', expected: 'below 400', actual: 500 }],
    },
    {
      name: 'fails on a slow response',
      block: { steps: [{ name: 'slow', request: 'GET /slow', expect: { maxMs: 10 } }] },
      findings: [{ messageId: 'slow', expected: 10 }],
      // /slow answers after 80 ms: a lower bound, so no machine is too slow for it.
      assert: ({ findings }) => void expect(findings[0]!.actual).toBeGreaterThanOrEqual(10),
    },
    {
      name: 'reports a refused connection as a failed step with the network error',
      block: { steps: [{ name: 'down', service: 'gone', request: 'GET /health' }] },
      candidate: withGone,
      findings: [
        {
          messageId: 'network',
          step: 'down',
          data: { service: 'gone', error: expect.stringMatching(/ECONNREFUSED/) },
        },
      ],
      assert: ({ findings }) =>
        void expect(findings[0]!.evidence?.reproduce).toBe('curl -sS -i http://127.0.0.1:1/health'),
    },
    {
      name: 'reports a missing capture source',
      block: {
        steps: [{ name: 'c', request: 'GET /orders/o-1', capture: { x: '/nope', h: 'header:x-none' } }],
      },
      findings: [
        { messageId: 'capture', data: { variable: 'x' } },
        { messageId: 'capture', data: { variable: 'h' } },
      ],
    },
    {
      name: 'redacts secrets from evidence and curl lines',
      secrets: { alice: { value: 'alice-token' }, bob: 'bob-secret-9' },
      redactHeaders: ['x-shop-key'],
      block: {
        steps: [
          {
            name: 'who',
            request: 'GET /whoami',
            headers: { authorization: 'Bearer {{secrets.alice}}', 'x-shop-key': 'k-{{secrets.bob}}' },
            expect: { json: { '/authorization': 'someone else' } },
          },
        ],
      },
      findings: [{ messageId: 'json' }],
      assert: ({ findings, reports }) => {
        // As the kind reported it, and as the verdict has it.
        for (const finding of [reports[0]!, findings[0]!]) {
          const text = JSON.stringify({ evidence: finding.evidence, reproduce: finding.evidence?.reproduce })
          expect(text).not.toContain('alice-token')
          expect(text).not.toContain('bob-secret-9')
          expect(finding.evidence?.reproduce).toContain("'authorization: Bearer [REDACTED]'")
          expect(finding.evidence?.excerpt?.text).toBe('{"authorization":"Bearer [REDACTED]"}')
        }
      },
    },
  ],
  errored: [
    {
      name: 'throws when a step asks for the baseline and the run has none',
      block: { steps: [{ name: 'b', sandbox: 'baseline', request: 'GET /x' }] },
      error: /has none/,
    },
  ],
})

tester.run('e2e check kind: command steps', {
  valid: [
    {
      name: 'runs a command step with the sandbox URLs in its environment and attaches its output tail',
      plan: { vars: { who: 'qa' } },
      block: {
        steps: [
          {
            name: 'suite',
            run: [
              process.execPath,
              '-e',
              'console.log("base=" + process.env.BASE_URL); console.log("orders=" + process.env.VIGIL_ORDERS_URL + " " + process.env.WHO)',
            ],
            env: { WHO: '{{who}}' },
          },
        ],
      },
      findings: [{ messageId: 'run-passed', severity: 'info', step: 'suite' }],
      assert: async ({ findings }) => {
        const base = await url()
        const finding = findings[0]!
        expect(finding.evidence?.details?.outputTail).toEqual([`base=${base}`, `orders=${base} qa`])
        expect(finding.evidence?.reproduce).toContain(`BASE_URL=${base}`)
        // A command is its own transport: its lines say what ran and how it ended, its output is the excerpt.
        expect(finding.evidence).toMatchObject({
          transport: 'process',
          sandbox: 'candidate',
          summary: [
            { label: 'command', value: expect.stringContaining(' -e ') },
            { label: 'cwd', value: expect.any(String) },
            { label: 'exit', value: expect.stringMatching(/^0 after [\d.]+m?s$/) },
          ],
          excerpt: { label: 'output', text: `base=${base}\norders=${base} qa` },
        })
      },
    },
  ],
  invalid: [
    {
      name: 'fails a command step on a non-zero exit, with the tail, and stops the steps after it',
      block: {
        steps: [
          {
            name: 'suite',
            run: [
              process.execPath,
              '-e',
              'for (let i = 0; i < 100; i++) console.log("line " + i); console.error("boom"); process.exit(3)',
            ],
          },
          { name: 'after', request: 'GET /orders/o-1' },
        ],
      },
      findings: [
        { messageId: 'run-failed', expected: 0, actual: 3, data: { exit: 3 } },
        { messageId: 'not-run', severity: 'info', step: 'after' },
      ],
      assert: ({ findings }) => {
        const tail = findings[0]!.evidence?.details?.outputTail as string[]
        expect(tail).toHaveLength(40)
        expect(tail.at(-1)).toBe('boom')
        expect(tail[0]).toBe('line 61')
      },
    },
    {
      name: 'fails a command step that cannot start',
      block: { steps: [{ name: 'nope', run: 'definitely-not-a-command-xyz --flag' }] },
      findings: [{ messageId: 'run-spawn', data: { error: expect.stringMatching(/ENOENT/) } }],
    },
    {
      name: 'fails a command step that runs past its timeout',
      block: {
        steps: [
          { name: 'slow', run: [process.execPath, '-e', 'setTimeout(() => {}, 60000)'], timeout: '300ms' },
        ],
      },
      findings: [{ messageId: 'run-timeout', data: { timeout: '300 ms' } }],
    },
  ],
})

tester.run('e2e check kind: blocks the loader refuses', {
  rejected: [
    { name: 'no steps', block: 'steps: []\n', errors: ['1:8 e2e: steps must have at least 1 item, got 0'] },
    {
      name: 'a step with a misspelt key',
      block: 'steps:\n  - name: a\n    requst: GET /\n',
      errors: [
        '2:5 e2e: missing required property "request" in steps[0]',
        '3:5 e2e: unknown property "requst" in steps[0]; expected one of name, service, request, headers, sandbox, expect, capture, timeout, eventually (did you mean "request"?)',
      ],
    },
    {
      // Lint finds it before any run: the run never blames the change for a plan's mistake.
      name: 'an unknown variable, naming the near one',
      plan: { vars: { orderId: 1 } },
      block: { steps: [{ name: 'x', request: 'GET /orders/{{orderID}}' }] },
      errors: [
        '3:14 e2e: {{orderID}}: variable "orderID" is not defined (did you mean {{orderId}}?); define it in the plan\'s vars, capture it in an earlier step, or use env., secrets. or services.',
      ],
    },
    {
      name: 'a status that is not one',
      block: 'steps:\n  - name: a\n    request: GET /\n    expect: { status: 2000 }\n',
      errors: ['4:23 e2e: steps[0].expect.status must be <= 599, got 2000'],
    },
  ],
})

describe('e2e check kind: definition', () => {
  it('exposes a JSON Schema and a message for every id it reports', () => {
    expect(e2e.meta.schema).toMatchObject({ type: 'object', required: ['steps'] })
    for (const id of [
      'status',
      'json',
      'header',
      'network',
      'not-run',
      'run-failed',
      'capture',
      'slow',
      'body',
      'not-json',
    ]) {
      expect(e2e.meta.messages[id]).toMatch(/\{\{step\}\}/)
    }
  })
})
