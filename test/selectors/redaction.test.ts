/**
 * The selection path treats the Messages API key and the config's secrets as secrets: an API that
 * echoes them (in an error body or in a reply's reasons) leaves no form of them in the record, its
 * degraded reason, the cache file or an error message. The real SDK against a local Messages API.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Redactor } from '../../plans/redact.js'
import { parseDiff, select } from '../../selectors/index.js'
import type { SelectorOptions } from '../../selectors/index.js'
import { startMessagesApi, statusReply, toolReply, type MessagesApiServer } from '../support/messages-api.js'
import { findForms } from '../support/secrets.js'
import { catalog, modify, options as baseOptions } from './fixtures.js'

const KEY = 'sk-ant-api03-Zm9v+YmFy/cXV4=Q_k3y'
const SECRET = 'db-pass/word+1='
const echo = (value: string) =>
  `${value} (base64 ${Buffer.from(value).toString('base64')}, url ${encodeURIComponent(value)})`

let api: MessagesApiServer | undefined
const dirs: string[] = []
afterEach(async () => {
  await api?.close()
  api = undefined
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

const diff = parseDiff(modify('orders/server.js', ['    totalCents,'], ['    total_cents: totalCents,']))

function run(selector: 'llm' | 'hybrid', overrides: Partial<SelectorOptions> = {}) {
  const options: SelectorOptions = { ...baseOptions, apiKey: KEY, baseURL: api!.url, ...overrides }
  const redactor = new Redactor({ secrets: [SECRET] })
  return select({ plans: catalog, diff, source: { kind: 'inline' }, selector, options, redactor })
}

describe('selection: the API key and the secrets are redacted', () => {
  it('hybrid: an error body echoing the key gives a degraded record whose reason does not hold it', async () => {
    api = await startMessagesApi({
      fallback: statusReply(401, { message: `invalid x-api-key ${echo(KEY)}` }),
    })
    const record = await run('hybrid')
    expect(record.degraded).toBe(true)
    expect(record.degradedReason).toMatch(
      /^Messages API answered 401.*: invalid x-api-key \[REDACTED\] \(base64 \[REDACTED\], url \[REDACTED\]\)$/,
    )
    expect(findForms(JSON.stringify(record), { KEY })).toEqual([])
  })

  it('llm: the degraded record of the same reply does not hold it either', async () => {
    api = await startMessagesApi({
      fallback: statusReply(401, { message: `invalid x-api-key ${echo(KEY)}` }),
    })
    const record = await run('llm')
    expect(record.degraded).toBe(true)
    expect(record.degradedReason).toContain(
      'invalid x-api-key [REDACTED] (base64 [REDACTED], url [REDACTED])',
    )
    expect(findForms(JSON.stringify(record), { KEY })).toEqual([])
  })

  it('llm: reasons echoing the key and a secret are redacted in the record and in the cache file', async () => {
    const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'vigil-cache-'))
    dirs.push(cacheDir)
    api = await startMessagesApi({
      fallback: toolReply({
        selected: [{ name: 'orders-contract', reason: `uses ${echo(KEY)}` }],
        rejected: [
          { name: 'catalog-contract', reason: `not ${echo(SECRET)}` },
          { name: 'checkout-load', reason: 'no load path changed' },
          { name: 'smoke', reason: 'always runs' },
        ],
      }),
    })
    const record = await run('llm', { cacheDir })
    expect(record.plans[0]!.reason).toBe('uses [REDACTED] (base64 [REDACTED], url [REDACTED])')
    const [file] = readdirSync(cacheDir)
    const cached = readFileSync(path.join(cacheDir, file!), 'utf8')
    expect(cached).toContain('not [REDACTED] (base64 [REDACTED], url [REDACTED])')
    expect(findForms(JSON.stringify(record) + cached, { KEY, SECRET })).toEqual([])
    // Read back from the cache: the same redacted answer, no API call.
    const calls = api.requests.length
    const again = await run('llm', { cacheDir })
    expect(api.requests.length).toBe(calls)
    expect(again.plans).toEqual(record.plans)
  })
})
