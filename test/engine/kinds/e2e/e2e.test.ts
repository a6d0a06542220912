import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { E2eParams } from '../../../../engine/kinds/e2e/kind.js'
import e2e from '../../../../engine/kinds/e2e/kind.js'
import { createCheckContext } from '../../../support/check-context.js'
import { startOrdersServer, type TestServer } from '../../../support/shop-server.js'
import type { HttpEvidence } from '../../../../engine/verdict.js'

let server: TestServer
beforeAll(async () => {
  server = await startOrdersServer()
})
afterAll(() => server.close())

async function runSteps(
  steps: E2eParams['steps'],
  extra: Partial<Parameters<typeof createCheckContext<E2eParams>>[0]> = {},
) {
  const t = createCheckContext<E2eParams>({
    kind: 'e2e',
    params: { steps },
    candidate: { services: { orders: server.url } },
    ...extra,
  })
  try {
    await t.run()
    return t
  } finally {
    await t.close()
  }
}

const errors = (t: { findings: Array<{ severity?: string }> }) =>
  t.findings.filter((f) => (f.severity ?? 'error') === 'error')

describe('e2e check kind', () => {
  it('passes a flow with captures from pointers, JSONPath, headers and status, and every operator', async () => {
    process.env.SHOP_REGION = 'eu'
    const t = await runSteps(
      [
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
        { name: 'plain text', request: 'GET /text', expect: { status: '2xx', body: { contains: 'plain' } } },
      ],
      { envAllow: ['SHOP_REGION'] },
    )
    delete process.env.SHOP_REGION
    expect(errors(t)).toEqual([])
    expect(t.ctx.vars.get('orderId')).toBe('o-1')
    expect(t.ctx.vars.get('where')).toBe('/orders/o-1')
    expect(t.ctx.vars.get('code')).toBe(201)
    expect(t.progress).toContain('read it back: GET /orders/o-1')
  })

  it('stops at a failing step, naming it with the request, expected, actual and a curl line', async () => {
    const t = await runSteps([
      { name: 'create order', request: 'POST /orders', expect: { status: 201 }, capture: { id: '/id' } },
      {
        name: 'read missing',
        request: 'GET /orders/nope',
        expect: { status: 200, json: { '/id': '{{id}}' } },
      },
      { name: 'never', request: 'GET /orders/o-1' },
    ])
    const [status, notRun] = t.findings
    expect(t.findings).toHaveLength(2)
    expect(status).toMatchObject({
      messageId: 'status',
      step: 'read missing',
      expected: 200,
      actual: 404,
      data: { step: 'read missing', request: 'GET /orders/nope' },
    })
    expect(status!.evidence?.reproduce).toBe(`curl -sS -i ${server.url}/orders/nope`)
    expect(status!.evidence?.excerpt?.text).toContain('not found')
    expect((status!.evidence as HttpEvidence | undefined)?.request?.url).toBe(`${server.url}/orders/nope`)
    expect(notRun).toMatchObject({
      messageId: 'not-run',
      severity: 'info',
      step: 'never',
      data: { failed: 'read missing' },
    })
  })

  it('reports every failing assertion of a step with the expected status', async () => {
    const t = await runSteps([
      {
        name: 'read',
        request: 'GET /orders/o-1',
        expect: { status: [200, 201], json: { '/id': 'o-2', '/paid': { exists: false } } },
      },
    ])
    expect(t.findings.map((f) => [f.messageId, f.pointer, f.expected, f.actual])).toEqual([
      ['json', '/id', 'o-2', 'o-1'],
      ['json', '/paid', false, false],
    ])
    expect(t.findings[1]!.data!.detail).toBe('expected nothing, got false')
  })

  it('fails on a server error by default, and on a slow response', async () => {
    const t = await runSteps([{ name: 'boom', request: 'GET /boom' }])
    expect(t.findings[0]).toMatchObject({ messageId: 'status', expected: 'below 400', actual: 500 })
    const slow = await runSteps([{ name: 'slow', request: 'GET /slow', expect: { maxMs: 10 } }])
    expect(slow.findings[0]).toMatchObject({ messageId: 'slow', expected: 10 })
    expect(slow.findings[0]!.actual).toBeGreaterThanOrEqual(10)
  })

  it('reports a refused connection as a failed step with the network error', async () => {
    const t = await runSteps([{ name: 'down', service: 'gone', request: 'GET /health' }], {
      candidate: { services: { orders: server.url, gone: 'http://127.0.0.1:1' } },
    })
    expect(t.findings[0]).toMatchObject({ messageId: 'network', step: 'down', data: { service: 'gone' } })
    expect(String(t.findings[0]!.data!.error)).toMatch(/ECONNREFUSED/)
    expect(t.findings[0]!.evidence?.reproduce).toBe('curl -sS -i http://127.0.0.1:1/health')
  })

  it('reports a missing capture source', async () => {
    const t = await runSteps([
      { name: 'c', request: 'GET /orders/o-1', capture: { x: '/nope', h: 'header:x-none' } },
    ])
    expect(t.findings.map((f) => [f.messageId, f.data?.variable])).toEqual([
      ['capture', 'x'],
      ['capture', 'h'],
    ])
  })

  it('throws (errored, not failed) on an unknown variable, naming it', async () => {
    await expect(
      runSteps([{ name: 'x', request: 'GET /orders/{{orderID}}' }], { vars: { orderId: 1 } }),
    ).rejects.toThrow(/unknown variable "orderID"; did you mean "orderId"/)
  })

  it('uses the baseline sandbox when a step asks for it, and throws without one', async () => {
    const t = await runSteps(
      [{ name: 'b', sandbox: 'baseline', request: 'GET /orders/o-1', expect: { status: 200 } }],
      {
        candidate: { services: { orders: 'http://127.0.0.1:1' } },
        baseline: { services: { orders: server.url } },
      },
    )
    expect(errors(t)).toEqual([])
    await expect(runSteps([{ name: 'b', sandbox: 'baseline', request: 'GET /x' }])).rejects.toThrow(
      /has none/,
    )
  })

  it('redacts secrets from evidence and curl lines', async () => {
    const t = await runSteps(
      [
        {
          name: 'who',
          request: 'GET /whoami',
          headers: { authorization: 'Bearer {{secrets.alice}}', 'x-shop-key': 'k-{{secrets.bob}}' },
          expect: { json: { '/authorization': 'someone else' } },
        },
      ],
      { secrets: { alice: { value: 'alice-token' }, bob: 'bob-secret-9' }, redactHeaders: ['x-shop-key'] },
    )
    const finding = t.findings[0]!
    const text = JSON.stringify({ evidence: finding.evidence, reproduce: finding.evidence?.reproduce })
    expect(finding.messageId).toBe('json')
    expect(text).not.toContain('alice-token')
    expect(text).not.toContain('bob-secret-9')
    expect(finding.evidence?.reproduce).toContain("'authorization: Bearer [REDACTED]'")
    expect(finding.evidence?.excerpt?.text).toBe('{"authorization":"Bearer [REDACTED]"}')
  })

  it('runs a command step with the sandbox URLs in its environment and attaches its output tail', async () => {
    const script =
      'console.log("base=" + process.env.BASE_URL); console.log("orders=" + process.env.VIGIL_ORDERS_URL + " " + process.env.WHO)'
    const t = await runSteps(
      [{ name: 'suite', run: [process.execPath, '-e', script], env: { WHO: '{{who}}' } }],
      { vars: { who: 'qa' } },
    )
    expect(errors(t)).toEqual([])
    const finding = t.findings[0]!
    expect(finding).toMatchObject({ messageId: 'run-passed', severity: 'info', step: 'suite' })
    expect(finding.evidence?.details?.outputTail).toEqual([`base=${server.url}`, `orders=${server.url} qa`])
    expect(finding.evidence?.reproduce).toContain(`BASE_URL=${server.url}`)
    // A command is its own transport: its lines say what ran and how it ended, its output is the excerpt.
    expect(finding.evidence).toMatchObject({
      transport: 'process',
      sandbox: 'candidate',
      summary: [
        { label: 'command', value: expect.stringContaining(' -e ') },
        { label: 'cwd', value: expect.any(String) },
        { label: 'exit', value: expect.stringMatching(/^0 after [\d.]+m?s$/) },
      ],
      excerpt: { label: 'output', text: `base=${server.url}\norders=${server.url} qa` },
    })
  })

  it('fails a command step on a non-zero exit, with the tail, and stops the steps after it', async () => {
    const script =
      'for (let i = 0; i < 100; i++) console.log("line " + i); console.error("boom"); process.exit(3)'
    const t = await runSteps([
      { name: 'suite', run: [process.execPath, '-e', script] },
      { name: 'after', request: 'GET /orders/o-1' },
    ])
    const [failed, notRun] = t.findings
    expect(failed).toMatchObject({ messageId: 'run-failed', expected: 0, actual: 3, data: { exit: 3 } })
    const tail = failed!.evidence?.details?.outputTail as string[]
    expect(tail).toHaveLength(40)
    expect(tail.at(-1)).toBe('boom')
    expect(tail[0]).toBe('line 61')
    expect(notRun).toMatchObject({ messageId: 'not-run', step: 'after' })
  })

  it('fails a command step that cannot start or runs past its timeout', async () => {
    const missing = await runSteps([{ name: 'nope', run: 'definitely-not-a-command-xyz --flag' }])
    expect(missing.findings[0]).toMatchObject({ messageId: 'run-spawn' })
    expect(String(missing.findings[0]!.data!.error)).toMatch(/ENOENT/)
    const slow = await runSteps([
      { name: 'slow', run: [process.execPath, '-e', 'setTimeout(() => {}, 60000)'], timeout: '300ms' },
    ])
    expect(slow.findings[0]).toMatchObject({ messageId: 'run-timeout', data: { timeout: '300 ms' } })
  })

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
