/**
 * The default model must be one the installed SDK lists and does not deprecate. Both lists are read from
 * the SDK in node_modules at test time (not copied), so upgrading the SDK past the default's retirement
 * fails this test instead of warning on every call in users' CI logs.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { parseDiff, select } from '../../selectors/index.js'
import { DEFAULT_MODEL } from '../../selectors/options.js'
import { startMessagesApi } from '../support/messages-api.js'
import type { MessagesApiServer } from '../support/messages-api.js'
import { answer, catalog, modify, options } from './fixtures.js'

const sdkDir = path.dirname(createRequire(import.meta.url).resolve('@anthropic-ai/sdk'))

/** The keys of every `DEPRECATED_MODELS = { … }` table in the SDK's Messages resources and data. */
async function deprecatedModels(): Promise<Set<string>> {
  const names = new Set<string>()
  const data = (await import(
    pathToFileURL(path.join(sdkDir, 'internal/data/deprecated-models.mjs')).href
  )) as { DEPRECATED_MODELS: Record<string, string> }
  for (const name of Object.keys(data.DEPRECATED_MODELS)) names.add(name)
  // The tables `messages.create` itself warns from are module-private: read them from the source.
  for (const file of ['resources/messages/messages.mjs', 'resources/beta/messages/messages.mjs']) {
    const text = readFileSync(path.join(sdkDir, file), 'utf8')
    for (const table of text.matchAll(/DEPRECATED_MODELS = \{([^}]*)\}/g))
      for (const key of table[1]!.matchAll(/'([^']+)'\s*:/g)) names.add(key[1]!)
  }
  return names
}

/** The named members of the SDK's `Model` union (its model list). */
function sdkModels(): string[] {
  const types = readFileSync(path.join(sdkDir, 'resources/messages/messages.d.ts'), 'utf8')
  const union = /export type Model = ([^;]+);/.exec(types)?.[1] ?? ''
  return [...union.matchAll(/'([^']+)'/g)].map((m) => m[1]!)
}

let api: MessagesApiServer | undefined
afterEach(async () => {
  vi.restoreAllMocks()
  await api?.close()
  api = undefined
})

describe('the default model', () => {
  it('is a Sonnet-class model in the SDK model list, and in none of its deprecation lists', async () => {
    const deprecated = await deprecatedModels()
    expect(deprecated.size).toBeGreaterThan(0)
    expect(deprecated).toContain('claude-sonnet-4-5')
    expect(deprecated.has(DEFAULT_MODEL), `${DEFAULT_MODEL} is deprecated by the installed SDK`).toBe(false)
    const models = sdkModels()
    expect(models.length).toBeGreaterThan(5)
    expect(models).toContain(DEFAULT_MODEL)
    expect(DEFAULT_MODEL).toMatch(/^claude-sonnet-/)
  })

  it('draws no deprecation warning from the SDK when a selection uses it', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    api = await startMessagesApi({ fallback: answer() })
    const record = await select({
      plans: catalog,
      diff: parseDiff(modify('orders/server.js', ['a'], ['b'])),
      source: { kind: 'file', file: 'change.patch' },
      selector: 'llm',
      options: { ...options, model: DEFAULT_MODEL, apiKey: 'test-key', baseURL: api.url },
    })
    expect(record).toMatchObject({ degraded: false, model: DEFAULT_MODEL })
    expect(api.requests[0]!.body!.model).toBe(DEFAULT_MODEL)
    expect(warn.mock.calls.flat().join('\n')).not.toMatch(/deprecated/i)

    // The same check sees the warning for a retired model, so it can fail.
    await select({
      plans: catalog,
      diff: parseDiff(modify('orders/server.js', ['a'], ['b'])),
      source: { kind: 'file', file: 'change.patch' },
      selector: 'llm',
      options: { ...options, model: 'claude-sonnet-4-5', apiKey: 'test-key', baseURL: api.url },
    })
    expect(warn.mock.calls.flat().join('\n')).toMatch(/'claude-sonnet-4-5' is deprecated/)
  })
})
