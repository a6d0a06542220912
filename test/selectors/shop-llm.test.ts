/**
 * The sample shop's field-rename through the real CLI, with the LLM answering badly: `vigil select` and
 * `vigil ci` must degrade to the floor, run the contract plan that catches the rename, and exit 1 — never
 * "No plans apply" and exit 0, never exit 3 without running anything. Real `@anthropic-ai/sdk` against the
 * local Messages API, real child processes, the shop's real services.
 */
import { execFile } from 'node:child_process'
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { parseSelectionRecord } from '../../selectors/index.js'
import type { SelectionRecord } from '../../selectors/index.js'
import { htmlReply, startMessagesApi, toolReply } from '../support/messages-api.js'
import type { MessagesApiServer, ScriptedReply } from '../support/messages-api.js'
import { shortenLoad } from '../support/quick-load.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const bin = path.join(root, 'bin/vigil.js')

interface Result {
  code: number
  stdout: string
  stderr: string
}

function vigil(args: string[], env: Record<string, string>): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      {
        cwd: work,
        env: { PATH: process.env.PATH ?? '', HOME: os.tmpdir(), NO_COLOR: '1', ...env },
        timeout: 120_000,
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout, stderr }),
    )
  })
}

let work: string
let shop: string
beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'vigil-shop-llm-'))
  shop = path.join(work, 'shop')
  cpSync(path.join(root, 'samples/shop'), shop, { recursive: true })
  // The shop's bus client comes from the installed packages, as in a real project.
  symlinkSync(path.join(root, 'node_modules'), path.join(work, 'node_modules'), 'dir')
  shortenLoad(shop)
})
afterAll(() => rmSync(work, { recursive: true, force: true }))

let api: MessagesApiServer | undefined
afterEach(async () => {
  await api?.close()
  api = undefined
})

const config = () => path.join(shop, 'vigil.config.yaml')
const patch = () => path.join(shop, 'changes/field-rename.patch')
const cacheDir = () => path.join(shop, '.vigil/cache/selections')
const shopPlanCount = () => readdirSync(path.join(shop, 'plans')).filter((f) => f.endsWith('.md')).length
/** The floor a degraded selection keeps: the plans whose paths the diff touches, and those the impact map adds. */
const floor = (record: { plans: Array<{ name: string; source: string }> }) => {
  expect(record.plans.filter((p) => p.source === 'paths').map((p) => p.name)).toEqual(expected().plans)
  expect(record.plans.filter((p) => p.source !== 'paths').map((p) => p.source)).toEqual(
    record.plans.filter((p) => p.source !== 'paths').map(() => 'impact'),
  )
  return record.plans.length
}
const expected = () =>
  JSON.parse(readFileSync(path.join(shop, 'changes/field-rename.expect.json'), 'utf8')) as {
    plans: string[]
  }

async function serve(reply: ScriptedReply): Promise<Record<string, string>> {
  api = await startMessagesApi({ fallback: reply })
  return { ANTHROPIC_API_KEY: 'test-key', ANTHROPIC_BASE_URL: api.url }
}

describe('field-rename with an LLM that answers badly', { timeout: 180_000 }, () => {
  it('vigil select --selector llm: an empty answer is degraded, keeps the floor, and is not cached', async () => {
    const env = await serve(toolReply({ selected: [], rejected: [] }))
    const args = ['select', '--config', config(), '--selector', 'llm', '--json', patch()]
    const first = await vigil(args, env)
    expect(first.code, first.stderr).toBe(0)
    const record = parseSelectionRecord(JSON.parse(first.stdout), 'stdout')
    expect(record).toMatchObject({ selector: 'llm', degraded: true })
    expect(record.degradedReason).toMatch(/^select_plans answer not accepted: the answer is empty/)
    const kept = floor(record)
    expect(record.plans.find((p) => p.name === 'orders-contract')?.source).toBe('paths')
    // Not cached: the second run asks again, and the cache folder holds nothing.
    const second = await vigil(args, env)
    expect((JSON.parse(second.stdout) as SelectionRecord).degraded).toBe(true)
    expect(api!.requests).toHaveLength(4)
    expect(existsSync(cacheDir()) ? readdirSync(cacheDir()) : []).toEqual([])

    const text = await vigil(['select', '--config', config(), '--selector', 'llm', patch()], env)
    expect(text.stdout).toMatch(new RegExp(`^${kept} of ${shopPlanCount()} plans apply: selector llm`))
    expect(text.stdout).toContain('DEGRADED: select_plans answer not accepted: the answer is empty')
    expect(text.stdout).not.toContain('No plans apply')
    // The default model is current: the SDK has nothing to warn about.
    expect(text.stderr).not.toMatch(/deprecated/i)
  })

  it('vigil select: a near-miss name and an HTML page degrade; --selector-deadline cuts a slow reply', async () => {
    const names = ['catalog-contract', 'checkout-flow', 'checkout-load', 'orders-adversarial']
    let env = await serve(
      toolReply({
        selected: [{ name: 'orders_contract', reason: 'the order payload changes' }],
        rejected: names.map((name) => ({ name, reason: 'unaffected' })),
      }),
    )
    const near = await vigil(['select', '--config', config(), '--selector', 'llm', '--json', patch()], env)
    const nearRecord = JSON.parse(near.stdout) as SelectionRecord
    expect(nearRecord.degradedReason).toMatch(/"orders_contract" \(did you mean orders-contract\?\)/)
    floor(nearRecord)
    await api!.close()

    env = await serve(htmlReply())
    const html = await vigil(['select', '--config', config(), '--selector', 'hybrid', '--json', patch()], env)
    expect(html.code, html.stderr).toBe(0)
    expect(JSON.parse(html.stdout)).toMatchObject({
      degraded: true,
      degradedReason: expect.stringMatching(/^reply is not a Messages API message: got text "<html>/),
    })
    await api!.close()

    // The reply would come after two minutes: only the 1 s deadline lets vigil answer at all.
    env = await serve(toolReply({ selected: [], rejected: [] }, { delayMs: 120_000 }))
    const started = performance.now()
    const slow = await vigil(
      [
        'select',
        '--config',
        config(),
        '--selector',
        'hybrid',
        '--selector-deadline',
        '1s',
        '--json',
        patch(),
      ],
      env,
    )
    expect(JSON.parse(slow.stdout)).toMatchObject({
      degraded: true,
      degradedReason: 'Messages API: deadline of 1 s reached after 1 attempt',
    })
    // One start of the CLI and a second of waiting; far from the two minutes the reply takes.
    expect(performance.now() - started).toBeLessThan(60_000)

    const bad = await vigil(['select', '--config', config(), '--selector-deadline', 'soon', patch()], env)
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('--selector-deadline soon: invalid duration "soon"')
  })

  it.each([
    ['hybrid', 'an empty answer', toolReply({ selected: [], rejected: [] })],
    ['llm', 'an HTML page with status 200', htmlReply()],
  ] as const)(
    'vigil ci --selector %s with %s runs the floor and fails the change (exit 1)',
    async (selector, _what, reply) => {
      const env = await serve(reply)
      const out = path.join(work, `out-${selector}`)
      const result = await vigil(
        ['ci', '--config', config(), '--patch', patch(), '--selector', selector, '--out', out],
        env,
      )
      expect(result.code, result.stderr).toBe(1)
      const record = parseSelectionRecord(
        JSON.parse(readFileSync(path.join(out, 'selection.json'), 'utf8')),
        'selection.json',
      )
      expect(record).toMatchObject({ selector, degraded: true })
      floor(record)
      const verdict = JSON.parse(readFileSync(path.join(out, 'verdict.json'), 'utf8')) as {
        status: string
        selection: { degraded?: boolean }
        plans: Array<{ name: string; state: string }>
      }
      expect(verdict.status).toBe('fail')
      expect(verdict.selection.degraded).toBe(true)
      expect(verdict.plans.find((p) => p.name === 'orders-contract')?.state).toBe('failed')
      expect(result.stdout).toContain('DEGRADED:')
      expect(existsSync(cacheDir()) ? readdirSync(cacheDir()) : []).toEqual([])
    },
  )
})

describe('vigil select --dry-run on the shop', { timeout: 120_000 }, () => {
  it('prints the exact requests with their size and sends nothing, with or without a key', async () => {
    const env = await serve(toolReply({ selected: [], rejected: [] }))
    const text = await vigil(['select', '--config', config(), '--dry-run', patch()], env)
    expect(text.code, text.stderr).toBe(0)
    expect(text.stdout).toMatch(
      /^Dry run: selector hybrid would send 1 request\(s\) \(\d+ bytes\) to http:\/\/127\.0\.0\.1:\d+\/v1\/messages, model .+\. Nothing was sent\.$/m,
    )
    expect(text.stdout).toMatch(/^Floor \(runs whatever the model answers\): .*orders-contract \(paths\)/m)
    expect(text.stdout).toMatch(
      /^Request 1 of 1: \d+ plans, \d+ bytes, about \d+ input tokens; max_tokens 4096, the answer needs at most about \d+\.$/m,
    )
    expect(text.stdout).toContain('"strict": true')
    expect(text.stdout).not.toContain('test-key')

    const json = await vigil(['select', '--config', config(), '--dry-run', '--json', patch()], {})
    expect(json.code, json.stderr).toBe(0)
    const preview = JSON.parse(json.stdout) as {
      selector: string
      endpoint: string
      requests: Array<{ plans: string[]; bytes: number; body: { tools: Array<{ name: string }> } }>
    }
    expect(preview).toMatchObject({ selector: 'hybrid', endpoint: 'https://api.anthropic.com' })
    // One batch holds every plan of the shop.
    const shopPlans = readdirSync(path.join(root, 'samples/shop/plans')).filter((f) => f.endsWith('.md'))
    expect(preview.requests[0]!.plans).toHaveLength(shopPlans.length)
    expect(preview.requests[0]!.body.tools[0]!.name).toBe('select_plans')
    expect(api!.requests).toHaveLength(0)

    const rules = await vigil(
      ['select', '--config', config(), '--dry-run', '--selector', 'rules', patch()],
      {},
    )
    expect(rules.code).toBe(2)
    expect(rules.stderr).toContain('--selector rules sends none')
  })
})
