/**
 * The LLM path never passes a change on an answer it cannot trust: every reply that is malformed, empty,
 * incomplete or names plans outside the catalog degrades `llm` and `hybrid` to the rules selection (the
 * floor kept), is never cached, and never throws. Real `@anthropic-ai/sdk` against the local Messages API.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { cacheKey } from '../../selectors/cache.js'
import { parseDiff, select } from '../../selectors/index.js'
import type { SelectionRecord, SelectorOptions } from '../../selectors/index.js'
import { htmlReply, messageReply, rawReply, startMessagesApi, toolReply } from '../support/messages-api.js'
import type { MessagesApiServer, ScriptedReply } from '../support/messages-api.js'
import { answer, catalog, modify, options as baseOptions } from './fixtures.js'

let api: MessagesApiServer | undefined
const dirs: string[] = []
afterEach(async () => {
  await api?.close()
  api = undefined
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

// The shop's field-rename in miniature: an order payload field renamed in orders/server.js.
const diff = parseDiff(modify('orders/server.js', ['    totalCents,'], ['    total_cents: totalCents,']))
const source = { kind: 'file' as const, file: 'field-rename.patch' }

function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-llm-degrade-'))
  dirs.push(dir)
  return dir
}

async function run(
  selector: 'llm' | 'hybrid',
  overrides: Partial<SelectorOptions> = {},
  signal?: AbortSignal,
): Promise<SelectionRecord> {
  const options: SelectorOptions = { ...baseOptions, apiKey: 'test-key', baseURL: api!.url, ...overrides }
  return select({ plans: catalog, diff, source, selector, options, ...(signal ? { signal } : {}) })
}

const rejectOthers = (...except: string[]) =>
  catalog.filter((p) => !except.includes(p.name)).map((p) => ({ name: p.name, reason: 'unaffected' }))

/** What the rules selection picks for this diff: the floor (paths, always) and nothing lexical. */
const FLOOR = ['orders-contract:paths', 'smoke:always']

/** Name, reply, the reason it must give, the unknown names the record must list. */
const cases: Array<[string, ScriptedReply, RegExp, string[]?]> = [
  // Answers that select nothing, or not what the catalog holds.
  [
    'an empty answer',
    toolReply({ selected: [], rejected: [] }),
    /^select_plans answer not accepted: the answer is empty \(4 plans to account for\)$/,
  ],
  [
    'an answer with only `selected: []`',
    toolReply({ selected: [] }),
    /^select_plans input does not match its schema: \/rejected Invalid input: expected array/,
  ],
  [
    'only unknown names',
    toolReply({ selected: [{ name: 'everything', reason: 'all of it' }], rejected: [] }),
    /^select_plans answer not accepted: names not in the catalog: "everything"; 4 plans neither selected nor rejected: catalog-contract, checkout-load, orders-contract, smoke$/,
    ['everything'],
  ],
  [
    'a near-miss name (orders_contract)',
    toolReply({
      selected: [{ name: 'orders_contract', reason: 'field renamed' }],
      rejected: rejectOthers('orders-contract'),
    }),
    /^select_plans answer not accepted: names not in the catalog: "orders_contract" \(did you mean orders-contract\?\); 1 plan neither selected nor rejected: orders-contract$/,
    ['orders_contract'],
  ],
  [
    'a near-miss name next to a complete answer',
    toolReply({
      selected: [{ name: 'Orders Contract', reason: 'field renamed' }],
      rejected: rejectOthers(),
    }),
    /names not in the catalog: "Orders Contract" \(did you mean orders-contract\?\)$/,
    ['Orders Contract'],
  ],
  [
    'an answer that leaves plans out',
    toolReply({
      selected: [{ name: 'checkout-load', reason: 'hot path' }],
      rejected: [{ name: 'smoke', reason: 'health untouched' }],
    }),
    /^select_plans answer not accepted: 2 plans neither selected nor rejected: catalog-contract, orders-contract$/,
  ],
  [
    'a rejection whose reason is blank',
    toolReply({
      selected: [],
      rejected: [...rejectOthers('orders-contract'), { name: 'orders-contract', reason: ' \n\t ' }],
    }),
    /^select_plans answer not accepted: no reason given for orders-contract$/,
  ],
  [
    'an empty reason',
    toolReply({ selected: [], rejected: [...rejectOthers('smoke'), { name: 'smoke', reason: '' }] }),
    /^select_plans input does not match its schema: \/rejected\/3\/reason Too small/,
  ],
  [
    'an extra property asking to skip everything',
    toolReply({ selected: [], rejected: rejectOthers(), skip_all: true }),
    /^select_plans input does not match its schema: \(input\) Unrecognized key: "skip_all"$/,
  ],
  [
    'two select_plans calls',
    messageReply({
      content: [
        {
          type: 'tool_use',
          id: 't1',
          name: 'select_plans',
          input: { selected: [], rejected: rejectOthers() },
        },
        { type: 'tool_use', id: 't2', name: 'select_plans', input: { selected: [], rejected: [] } },
      ],
    }),
    /^reply has 2 select_plans calls; got: tool_use select_plans, tool_use select_plans$/,
  ],
  [
    'a reply cut at max_tokens',
    messageReply({ content: [], stop_reason: 'max_tokens' }),
    /^reply has no select_plans call \(cut at max_tokens\); got: nothing$/,
  ],
  [
    'a reason of 5,000 characters',
    toolReply({
      selected: [],
      rejected: [...rejectOthers('smoke'), { name: 'smoke', reason: 'x'.repeat(5000) }],
    }),
    /^select_plans input does not match its schema: \/rejected\/3\/reason Too big: expected string to have <=2000 characters$/,
  ],
  [
    '6,000 entries',
    toolReply({
      selected: [],
      rejected: Array.from({ length: 6000 }, () => ({ name: 'smoke', reason: 'r' })),
    }),
    /^select_plans input does not match its schema: \/rejected Too big: expected array to have <=5000 items$/,
  ],
  [
    'a name carrying terminal escapes',
    toolReply({ selected: [{ name: '\u001b[2J\u001b[31msmoke', reason: 'r' }], rejected: rejectOthers() }),
    /^select_plans answer not accepted: names not in the catalog: "\[2J \[31msmoke"$/,
    ['[2J [31msmoke'],
  ],
  // 200 replies that are not a Messages object at all.
  [
    'an HTML page with status 200',
    htmlReply(),
    /^reply is not a Messages API message: got text "<html><body><h1>Welcome<\/h1><\/body><\/html>"$/,
  ],
  [
    '`{}`',
    rawReply('{}'),
    /^reply is not a Messages API message: \/type Invalid input: expected "message"; \/content Invalid input: expected array, received undefined$/,
  ],
  [
    '`content: null`',
    messageReply({ content: null }),
    /^reply is not a Messages API message: \/content Invalid input: expected array, received null$/,
  ],
  [
    'an error object with status 200',
    rawReply(JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'busy' } })),
    /^reply is not a Messages API message: \/type Invalid input: expected "message"/,
  ],
  ['a JSON null', rawReply('null'), /^reply is not a Messages API message: got an empty body$/],
  ['a JSON array', rawReply('[]'), /^reply is not a Messages API message: got an array$/],
  [
    'an empty 200 body',
    rawReply('', { headers: { 'content-length': '0' } }),
    /^reply is not a Messages API message: got an empty body$/,
  ],
  ['invalid JSON', rawReply('{"id": "msg_1", "content": ['), /^Messages API reply unreadable: /],
  [
    'a content block without a type',
    messageReply({ content: [{}] }),
    /^reply is not a Messages API message: \/content\/0\/type Invalid input: expected string/,
  ],
  [
    'a tool_use whose input is a string',
    messageReply({
      content: [{ type: 'tool_use', id: 't', name: 'select_plans', input: 'orders-contract' }],
    }),
    /^select_plans input does not match its schema: \(input\) Invalid input: expected object, received string$/,
  ],
  [
    'a tool_use whose input is null',
    messageReply({ content: [{ type: 'tool_use', id: 't', name: 'select_plans', input: null }] }),
    /^select_plans input does not match its schema: \(input\) Invalid input: expected object, received null$/,
  ],
  [
    'a tool_use whose selected is an object',
    toolReply({ selected: { name: 'orders-contract', reason: 'r' }, rejected: [] }),
    /^select_plans input does not match its schema: \/selected Invalid input: expected array, received object$/,
  ],
  [
    'a tool_use whose names are numbers',
    toolReply({ selected: [{ name: 7, reason: 'r' }], rejected: [] }),
    /^select_plans input does not match its schema: \/selected\/0\/name Invalid input: expected string, received number$/,
  ],
  [
    'a tool call of another tool',
    messageReply({ content: [{ type: 'tool_use', id: 't', name: 'run_shell', input: { cmd: 'rm -rf /' } }] }),
    /^reply has no select_plans call; got: tool_use run_shell$/,
  ],
]

describe('replies the selection cannot trust degrade both selectors to the floor', () => {
  for (const selector of ['llm', 'hybrid'] as const) {
    it.each(cases)(`${selector}: %s`, async (_name, reply, reason, unknown = []) => {
      const cacheDir = tempDir()
      api = await startMessagesApi({ fallback: reply })
      const record = await run(selector, { cacheDir, maxRetries: 0 })
      expect(record.degraded).toBe(true)
      // A reply that arrived but was not accepted is asked about once more, told what was wrong.
      const asked = / \(asked twice\)$/.test(record.degradedReason!)
      const perRun = api.requests.length
      expect(perRun).toBe(asked ? 2 : 1)
      expect(record.degradedReason!.replace(/ \(asked twice\)$/, '')).toMatch(reason)
      expect(record.plans.map((p) => `${p.name}:${p.source}`)).toEqual(FLOOR)
      expect(record.threshold).toBe(0.2)
      expect(record.unknown.map((u) => u.name)).toEqual(unknown)
      expect(record.cache).toBeUndefined()
      // Nothing cached: the next run asks again.
      expect(existsSync(cacheDir) ? readdirSync(cacheDir) : []).toEqual([])
      await run(selector, { cacheDir, maxRetries: 0 })
      expect(api.requests).toHaveLength(2 * perRun)
    })
  }
})

describe('accepted answers', () => {
  it('llm runs exactly what a complete answer selects; hybrid adds it to the floor', async () => {
    api = await startMessagesApi({ fallback: answer({ 'checkout-load': 'totals are computed per order' }) })
    const alone = await run('llm')
    expect(alone).toMatchObject({ degraded: false, unknown: [] })
    expect(alone).not.toHaveProperty('threshold')
    expect(alone.plans).toEqual([
      { name: 'checkout-load', source: 'llm', reason: 'totals are computed per order' },
    ])
    expect(alone.rejected.map((p) => p.name)).toEqual(['catalog-contract', 'orders-contract', 'smoke'])
    const both = await run('hybrid')
    expect(both.plans.map((p) => `${p.name}:${p.source}`)).toEqual(['checkout-load:llm', ...FLOOR])
  })

  it('accepts a plan named twice or on both sides, the selection winning', async () => {
    api = await startMessagesApi({
      fallback: toolReply({
        selected: [
          { name: 'orders-contract', reason: 'renamed field' },
          { name: 'orders-contract', reason: 'again' },
        ],
        rejected: [...rejectOthers(), { name: 'catalog-contract', reason: 'twice' }],
      }),
    })
    const record = await run('llm')
    expect(record.degraded).toBe(false)
    expect(record.plans).toEqual([{ name: 'orders-contract', source: 'llm', reason: 'renamed field' }])
    expect(record.rejected.map((p) => p.name)).toEqual(['catalog-contract', 'checkout-load', 'smoke'])
  })

  it('accepts a complete answer rejecting every plan: llm selects nothing, hybrid keeps the floor', async () => {
    api = await startMessagesApi({ fallback: answer() })
    const alone = await run('llm')
    expect(alone).toMatchObject({ degraded: false, plans: [] })
    expect(alone.rejected).toHaveLength(4)
    const both = await run('hybrid')
    expect(both).toMatchObject({ degraded: false })
    expect(both.plans.map((p) => `${p.name}:${p.source}`)).toEqual(FLOOR)
  })
})

describe('the cache', () => {
  it('keys on the selector and the endpoint, and stores only accepted answers', async () => {
    const cacheDir = tempDir()
    api = await startMessagesApi({ fallback: answer({ 'checkout-load': 'hot path' }) })
    const llmFirst = await run('llm', { cacheDir })
    const hybridFirst = await run('hybrid', { cacheDir })
    expect(api.requests).toHaveLength(2)
    expect(hybridFirst.cache!.key).not.toBe(llmFirst.cache!.key)
    expect((await run('llm', { cacheDir })).cache).toEqual({ key: llmFirst.cache!.key, hit: true })
    expect((await run('hybrid', { cacheDir })).cache).toEqual({ key: hybridFirst.cache!.key, hit: true })
    expect(api.requests).toHaveLength(2)
    expect(readdirSync(cacheDir).sort()).toEqual(
      [`${llmFirst.cache!.key}.json`, `${hybridFirst.cache!.key}.json`].sort(),
    )

    // The same question to another endpoint is another question.
    const other = await startMessagesApi({ fallback: answer() })
    try {
      const elsewhere = await run('llm', { cacheDir, baseURL: other.url })
      expect(other.requests).toHaveLength(1)
      expect(elsewhere.cache).toEqual({ key: expect.not.stringMatching(llmFirst.cache!.key), hit: false })
    } finally {
      await other.close()
    }
  })

  it('keys on the whole request as sent: model, system prompt, catalog, tool schema, diff', async () => {
    const cacheDir = tempDir()
    api = await startMessagesApi({ fallback: answer() })
    const record = await run('llm', { cacheDir })
    const sent = api.requests[0]!.body!
    expect(Object.keys(sent).sort()).toEqual(
      ['max_tokens', 'messages', 'model', 'system', 'tool_choice', 'tools'].sort(),
    )
    const parts = { selector: 'llm', endpoint: api.url, promptVersion: 'select-v3', requests: [sent] }
    expect(record.cache!.key).toBe(cacheKey(parts))
  })

  it('never reuses an empty answer, even one planted in the cache folder', async () => {
    const cacheDir = tempDir()
    api = await startMessagesApi({ fallback: answer({ 'orders-contract': 'renamed field' }) })
    const first = await run('llm', { cacheDir })
    const file = path.join(cacheDir, `${first.cache!.key}.json`)
    const { writeFileSync, readFileSync } = await import('node:fs')
    const entry = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>
    writeFileSync(file, JSON.stringify({ ...entry, selected: [], rejected: [] }))
    const second = await run('llm', { cacheDir })
    expect(api.requests).toHaveLength(2)
    expect(second).toMatchObject({ degraded: false, cache: { hit: false } })
    expect(second.plans.map((p) => p.name)).toEqual(['orders-contract'])
  })
})
