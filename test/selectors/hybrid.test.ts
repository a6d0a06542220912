/**
 * `hybrid` keeps its floor: everything `rules` selects (paths, always, impact map, strong lexical picks)
 * runs whatever the model answers; a model that rejects one marks it doubtful, recorded; the model adds
 * plans. Replies must account for every plan of their batch, with names from the batch's enum; one that
 * does not is asked once more, then degrades. Batches are sized so `max_tokens` cannot cut a reply. The
 * real `@anthropic-ai/sdk` against the local Messages API.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { parseDiff, parseSelectionRecord, previewRequests, select } from '../../selectors/index.js'
import { toVerdictSelection } from '../../selectors/record.js'
import type { SelectionRecord, SelectorOptions } from '../../selectors/index.js'
import type { Plan } from '../../plans/types.js'
import { startMessagesApi, toolReply } from '../support/messages-api.js'
import type { MessagesApiServer, MessagesRequestBody } from '../support/messages-api.js'
import { answer, catalog, catalogOf, modify, options as baseOptions, plan } from './fixtures.js'

let api: MessagesApiServer | undefined
afterEach(async () => {
  await api?.close()
  api = undefined
})

// orders/server.js is under orders-contract's paths; smoke is always: the floor is those two.
const rename = parseDiff(modify('orders/server.js', ['    totalCents,'], ['    total_cents: totalCents,']))
// No paths match; the words are the catalog plan's own: a strong lexical pick.
const lexical = parseDiff(
  modify(
    'web/listing.js',
    ['  return price'],
    ['  return productPrice(sku) // product listing price per SKU'],
  ),
)
const source = { kind: 'inline' as const }

function run(
  diff = rename,
  overrides: Partial<SelectorOptions> = {},
  plans: readonly Plan[] = catalog,
): Promise<SelectionRecord> {
  const options: SelectorOptions = { ...baseOptions, apiKey: 'test-key', baseURL: api!.url, ...overrides }
  return select({ plans, diff, source, selector: 'hybrid', options })
}

const sources = (record: SelectionRecord) => record.plans.map((p) => `${p.name}:${p.source}`)
const userText = (body: MessagesRequestBody | undefined) =>
  (body!.messages![0]!.content as Array<{ text: string }>)[0]!.text

describe('hybrid keeps its floor', () => {
  it('a model that rejects a floor plan only marks it doubtful: it still runs, the doubt is recorded', async () => {
    api = await startMessagesApi({
      fallback: toolReply({
        selected: [{ name: 'checkout-load', reason: 'totals are computed on the hot path' }],
        rejected: [
          { name: 'catalog-contract', reason: 'catalog untouched' },
          { name: 'orders-contract', reason: 'a rename the clients never read' },
          { name: 'smoke', reason: 'health untouched' },
        ],
      }),
    })
    const record = await run()
    expect(record.degraded).toBe(false)
    expect(sources(record)).toEqual(['checkout-load:llm', 'orders-contract:paths', 'smoke:always'])
    expect(record.plans.find((p) => p.name === 'orders-contract')).toMatchObject({
      source: 'paths',
      doubt: 'a rename the clients never read',
    })
    expect(record.rejected.map((p) => p.name)).toEqual(['catalog-contract'])
    // The record stays valid against its schema; the verdict carries the doubt in the reason.
    expect(parseSelectionRecord(JSON.parse(JSON.stringify(record)), 'record')).toEqual(record)
    expect(toVerdictSelection(record).plans.find((p) => p.name === 'orders-contract')!.reason).toMatch(
      /; the model doubts it: a rename the clients never read$/,
    )
    // The model was told which plans run whatever it says.
    const text = userText(api.requests[0]!.body)
    expect(text).toMatch(/<floor>\norders-contract: paths .*\nsmoke: always: true\n<\/floor>/)
  })

  it('keeps a strong lexical pick the model rejects', async () => {
    api = await startMessagesApi({ fallback: answer() })
    const alone = await select({
      plans: catalog,
      diff: lexical,
      source,
      selector: 'rules',
      options: baseOptions,
    })
    expect(sources(alone)).toContain('catalog-contract:rules')
    const record = await run(lexical)
    expect(sources(record)).toEqual(sources(alone))
    expect(record.plans.find((p) => p.name === 'catalog-contract')!.doubt).toBe('the change cannot affect it')
  })

  it('sends plan names as an enum of the batch, with the strict tool option', async () => {
    api = await startMessagesApi({ fallback: answer() })
    await run()
    const tool = api.requests[0]!.body!.tools![0] as { strict?: boolean; input_schema: unknown }
    expect(tool.strict).toBe(true)
    const schema = tool.input_schema as {
      properties: Record<string, { items: { properties: { name: { enum: string[] } } } }>
      additionalProperties: boolean
    }
    expect(schema.additionalProperties).toBe(false)
    for (const side of ['selected', 'rejected'])
      expect(schema.properties[side]!.items.properties.name.enum).toEqual(catalog.map((p) => p.name))
  })
})

describe('replies that do not account for the batch', () => {
  it('unknown names: asked once more with the error, the corrected answer accepted, the names reported', async () => {
    api = await startMessagesApi({
      replies: [
        toolReply({
          selected: [{ name: 'orders_contract', reason: 'renamed field' }],
          rejected: catalog
            .filter((p) => p.name !== 'orders-contract')
            .map((p) => ({ name: p.name, reason: 'unaffected' })),
        }),
        answer({ 'orders-contract': 'renamed field', 'checkout-load': 'totals' }),
      ],
    })
    const record = await run()
    expect(record.degraded).toBe(false)
    expect(sources(record)).toEqual(['checkout-load:llm', 'orders-contract:paths', 'smoke:always'])
    expect(record.unknown).toEqual([{ name: 'orders_contract', reason: 'not in the catalog: never run' }])
    expect(record.usage.requests).toBe(2)
    const correction = api.requests[1]!.body!.messages![2]!.content as Array<{ content: string }>
    expect(correction[0]!.content).toMatch(/"orders_contract" \(did you mean orders-contract\?\)/)
  })

  it('plans left out twice: degraded to the rules selection, flagged, floor intact', async () => {
    api = await startMessagesApi({
      fallback: toolReply({ selected: [{ name: 'checkout-load', reason: 'hot path' }], rejected: [] }),
    })
    const record = await run()
    expect(record.degraded).toBe(true)
    expect(record.degradedReason).toBe(
      'select_plans answer not accepted: 3 plans neither selected nor rejected: catalog-contract, orders-contract, smoke (asked twice)',
    )
    expect(sources(record)).toEqual(['orders-contract:paths', 'smoke:always'])
    expect(api.requests).toHaveLength(2)
  })
})

describe('batches sized for max_tokens', () => {
  const many = Array.from({ length: 120 }, (_, i) =>
    plan(`area-${String(i).padStart(3, '0')}-contract`, {
      selectionHint: `Responses of area ${i}.`,
      paths: i === 7 ? ['orders/**'] : [],
    }),
  )

  it('splits a catalog into batches whose answers fit, each with its own enum, and merges them', async () => {
    api = await startMessagesApi({
      fallback: answer({ 'area-042-contract': 'the orders total feeds area 42' }),
    })
    const record = await run(rename, { maxTokens: 1024 }, many)
    expect(record.degraded).toBe(false)
    const bodies = api.requests.map((r) => r.body!)
    expect(bodies.length).toBeGreaterThan(5)
    const asked = bodies.flatMap(catalogOf)
    expect(asked.sort()).toEqual(many.map((p) => p.name).sort())
    for (const body of bodies) {
      expect(body.max_tokens).toBe(1024)
      const tool = body.tools![0] as { input_schema: { properties: { selected: { items: unknown } } } }
      const items = tool.input_schema.properties.selected.items as {
        properties: { name: { enum: string[] } }
      }
      expect(items.properties.name.enum).toEqual(catalogOf(body))
    }
    expect(sources(record)).toEqual(['area-007-contract:paths', 'area-042-contract:llm'])
    expect(record.rejected).toHaveLength(118)

    // The budget each batch's answer needs stays under max_tokens.
    const preview = await previewRequests({
      plans: many,
      diff: rename,
      source,
      selector: 'hybrid',
      options: { ...baseOptions, maxTokens: 1024 },
    })
    expect(preview.requests).toHaveLength(bodies.length)
    for (const r of preview.requests) expect(r.replyBudget).toBeLessThanOrEqual(r.maxTokens)
    expect(preview.requests.reduce((n, r) => n + r.plans.length, 0)).toBe(120)
    // batchSize still caps a batch when max_tokens would allow more.
    const capped = await previewRequests({
      plans: many,
      diff: rename,
      source,
      selector: 'hybrid',
      options: { ...baseOptions, maxTokens: 64_000, batchSize: 50 },
    })
    expect(capped.requests.map((r) => r.plans.length)).toEqual([50, 50, 20])
  })
})
