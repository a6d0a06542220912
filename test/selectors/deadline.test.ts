/**
 * One deadline for the whole selection, waits capped at 10 s, 401 and 403 never retried — each reason
 * saying what happened. Real `@anthropic-ai/sdk` against the local Messages API; times are only bounded
 * from the side that proves the point (a 45 s wait not taken), never asserted tightly.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { parseDiff, select } from '../../selectors/index.js'
import type { SelectionRecord, SelectorOptions } from '../../selectors/index.js'
import { startMessagesApi, statusReply, times, toolReply } from '../support/messages-api.js'
import type { MessagesApiServer } from '../support/messages-api.js'
import { answer, catalog, modify, options as baseOptions, plan } from './fixtures.js'

let api: MessagesApiServer | undefined
afterEach(async () => {
  await api?.close()
  api = undefined
})

const diff = parseDiff(modify('orders/server.js', ['    totalCents,'], ['    total_cents: totalCents,']))
const FLOOR = ['orders-contract:paths', 'smoke:always']

async function run(
  selector: 'llm' | 'hybrid',
  overrides: Partial<SelectorOptions> = {},
  input: { signal?: AbortSignal; plans?: typeof catalog } = {},
): Promise<SelectionRecord> {
  const options: SelectorOptions = { ...baseOptions, apiKey: 'test-key', baseURL: api!.url, ...overrides }
  return select({
    plans: input.plans ?? catalog,
    diff,
    source: { kind: 'file', file: 'change.patch' },
    selector,
    options,
    ...(input.signal ? { signal: input.signal } : {}),
  })
}

function expectFloor(record: SelectionRecord) {
  expect(record.degraded).toBe(true)
  expect(record.plans.map((p) => `${p.name}:${p.source}`)).toEqual(FLOOR)
}

describe('authentication failures', () => {
  it.each([
    [401, 'authentication_error', 'invalid x-api-key'],
    [403, 'permission_error', 'this key may not use the model'],
  ])('a %i is never retried, even when x-should-retry says so', async (status, type, message) => {
    api = await startMessagesApi({
      fallback: statusReply(status, { message, headers: { 'x-should-retry': 'true' } }),
    })
    for (const selector of ['llm', 'hybrid'] as const) {
      const record = await run(selector, { maxRetries: 5 })
      expectFloor(record)
      expect(record.degradedReason).toBe(`Messages API answered ${status} ${type}: ${message}`)
      expect(record.degradedReason).not.toMatch(/retr|attempts/)
    }
    expect(api.requests).toHaveLength(2)
  })
})

describe('Retry-After', () => {
  it('does not start a 45 s wait that cannot fit the deadline', async () => {
    api = await startMessagesApi({
      fallback: statusReply(429, { retryAfter: 45, message: 'rate limited' }),
    })
    const started = performance.now()
    const record = await run('hybrid', { deadlineMs: 9_000 })
    expectFloor(record)
    expect(record.degradedReason).toBe(
      'Messages API: deadline of 9 s reached after 1 attempt: no time left for the 10 s wait before a retry ' +
        '(last: answered 429 rate_limit_error: rate limited)',
    )
    expect(api.requests).toHaveLength(1)
    // It gave up at once (one local round trip) rather than waiting out the deadline, let alone the 45 s.
    expect(performance.now() - started).toBeLessThan(9_000)
  })

  it('caps the wait a 429 asks for at 10 s, then retries and succeeds', { timeout: 40_000 }, async () => {
    api = await startMessagesApi({
      replies: [statusReply(429, { retryAfter: 45 }), answer({ 'checkout-load': 'hot path' })],
    })
    const record = await run('llm', { deadlineMs: 30_000 })
    expect(record.degraded).toBe(false)
    expect(record.plans.map((p) => p.name)).toEqual(['checkout-load'])
    const [first, second] = api.requests
    const gap = second!.receivedAt - first!.receivedAt
    expect(gap).toBeGreaterThanOrEqual(10_000 - 50)
    expect(gap).toBeLessThan(30_000)
  })

  it('honours x-should-retry: false on a 429', async () => {
    api = await startMessagesApi({
      fallback: statusReply(429, { headers: { 'x-should-retry': 'false' }, message: 'quota exhausted' }),
    })
    const record = await run('hybrid')
    expectFloor(record)
    expect(record.degradedReason).toBe('Messages API answered 429 rate_limit_error: quota exhausted')
    expect(api.requests).toHaveLength(1)
  })
})

describe('the selection deadline', () => {
  it('cuts a reply slower than the deadline, well before the request timeout', async () => {
    api = await startMessagesApi({ fallback: answer({}) })
    // The reply would come after a minute: only the deadline ends the wait, however slow the machine.
    api.enqueue(toolReply({ selected: [], rejected: [] }, { delayMs: 60_000 }))
    const started = performance.now()
    const record = await run('llm', { deadlineMs: 1_000, timeoutMs: 60_000 })
    expectFloor(record)
    expect(record.degradedReason).toBe('Messages API: deadline of 1 s reached after 1 attempt')
    expect(performance.now() - started).toBeLessThan(20_000)
  })

  it('cuts a reply whose body stalls after its headers (the request timeout stops at the headers)', async () => {
    const stalled = http.createServer((req, res) => {
      req.resume()
      res.writeHead(200, { 'content-type': 'application/json' })
      res.write('{"type":"message","content":[')
    })
    await new Promise<void>((resolve) => stalled.listen(0, '127.0.0.1', resolve))
    try {
      api = await startMessagesApi()
      const { port } = stalled.address() as AddressInfo
      const started = performance.now()
      const record = await run('hybrid', {
        baseURL: `http://127.0.0.1:${port}`,
        deadlineMs: 1_000,
        timeoutMs: 500,
      })
      expectFloor(record)
      expect(record.degradedReason).toBe('Messages API: deadline of 1 s reached after 1 attempt')
      // The body never ends: only the deadline ends the wait.
      expect(performance.now() - started).toBeLessThan(20_000)
    } finally {
      stalled.closeAllConnections()
      await new Promise<void>((resolve) => stalled.close(() => resolve()))
    }
  })

  it('counts the attempts that fit, and names the last failure', async () => {
    api = await startMessagesApi({
      fallback: statusReply(500, { message: 'upstream down', headers: { 'retry-after-ms': '200' } }),
    })
    const record = await run('hybrid', { deadlineMs: 1_500, maxRetries: 100 })
    expectFloor(record)
    expect(record.degradedReason).toMatch(
      /^Messages API: deadline of 1\.5 s reached after (\d+) attempts(: no time left for the 0\.2 s wait before a retry)? \(last: answered 500 api_error: upstream down\)$/,
    )
    const attempts = Number(/after (\d+) attempts/.exec(record.degradedReason!)![1])
    expect(attempts).toBe(api.requests.length)
    expect(attempts).toBeGreaterThanOrEqual(2)
  })

  it('says how many attempts failed when the retries run out first', async () => {
    api = await startMessagesApi({ replies: times(3, statusReply(529, { message: 'overloaded' })) })
    const record = await run('llm', { maxRetries: 2 })
    expectFloor(record)
    expect(record.degradedReason).toBe(
      'Messages API answered 529 overloaded_error: overloaded after 3 attempts',
    )
  })

  it('stops the other batches when one fails for good', async () => {
    const plans = Array.from({ length: 6 }, (_, i) => plan(`plan-${i}`, { paths: ['orders/**'] }))
    api = await startMessagesApi({
      replies: [statusReply(401, { message: 'bad key' })],
      // The other batches' replies would take a minute: only stopping them ends the run sooner.
      fallback: toolReply({ selected: [], rejected: [] }, { delayMs: 60_000 }),
    })
    const started = performance.now()
    const record = await run('hybrid', { batchSize: 2, concurrency: 3 }, { plans })
    expect(record.degraded).toBe(true)
    expect(record.degradedReason).toBe('Messages API answered 401 authentication_error: bad key')
    expect(record.plans).toHaveLength(6)
    expect(performance.now() - started).toBeLessThan(20_000)
  })

  it('reports the caller aborting (Ctrl-C) as an abort, not as the deadline', async () => {
    // The reply would come after a minute: only the abort ends the wait, however slow the machine.
    api = await startMessagesApi({ fallback: toolReply({ selected: [], rejected: [] }, { delayMs: 60_000 }) })
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 200)
    const record = await run('hybrid', {}, { signal: controller.signal })
    expectFloor(record)
    expect(record.degradedReason).toBe('Messages API request aborted')
  })

  it('retries an unreachable endpoint, then says it is unreachable', async () => {
    // A port that was just free and is closed again: connection refused.
    const server = http.createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    await new Promise<void>((resolve) => server.close(() => resolve()))
    api = await startMessagesApi()
    const record = await run('hybrid', { baseURL: `http://127.0.0.1:${port}`, maxRetries: 1 })
    expectFloor(record)
    expect(record.degradedReason).toBe(
      `Messages API unreachable: connect ECONNREFUSED 127.0.0.1:${port} after 2 attempts`,
    )
  })
})
