/**
 * `vigil plans suggest` end to end: the real CLI in a child process, the real SDK, a local Messages API
 * server, and a copy of the sample shop whose services the draft runs against once. A good draft is written
 * beside the plans for review; a draft that does not lint is sent back once, then refused; nothing is ever
 * overwritten, and without a key nothing is sent.
 */
import { mkdir, readFile, readdir, symlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { loadPlans } from '../../../plans/loader.js'
import { checkSchemas } from '../../../engine/run/load-plans.js'
import { copyShop, type ShopCopy } from '../../samples/patched-shop.js'
import { startMessagesApi, textReply, toolReply, type MessagesApiServer } from '../../support/messages-api.js'
import { repoRoot, runVigil } from '../../support/cli.js'

const AUTHORIZE = 'payments POST /payments/authorize (authorizePayment) — openapi/payments.yaml'

let shop: ShopCopy
let api: MessagesApiServer

const vigil = (args: string[], env: Record<string, string> = {}) =>
  runVigil(args, {
    cwd: shop.root,
    env: { PATH: process.env.PATH ?? '', HOME: shop.root, ...env },
    timeoutMs: 90_000,
  })

const withKey = () => ({
  ANTHROPIC_API_KEY: 'test-key',
  ANTHROPIC_BASE_URL: api.url,
  VIGIL_MODEL: 'author-test',
})
const suggest = (extra: string[] = []) => vigil(['plans', 'suggest', ...extra], withKey())

/** A request of the draft's contract check: authorize an amount, expecting a status. */
const authorize = (name: string, amountCents: number, status: number) => ({
  name,
  request: {
    method: 'POST',
    path: '/payments/authorize',
    json: { orderRef: 'ord_1', amountCents, currency: 'EUR' },
  },
  expect: { status },
})

function draft(overrides: Record<string, unknown> = {}, params: Record<string, unknown> = {}) {
  return {
    name: 'payments-authorize',
    title: 'Payments authorizes and refuses amounts as documented',
    selectionHint:
      'The payments service: authorizing an amount for an order, and refusing a zero amount. Pick when a change touches payments.',
    paths: ['payments/**'],
    description: 'Orders pays through payments; nothing else calls the authorize operation directly.',
    covers: [AUTHORIZE],
    checks: [
      {
        kind: 'contract',
        name: 'Authorize',
        params: {
          openapi: '../openapi/payments.yaml',
          service: 'payments',
          requests: [authorize('an amount', 3150, 201), authorize('zero', 0, 422)],
          ...params,
        },
      },
    ],
    ...overrides,
  }
}

const suggestedDir = () => path.join(shop.root, 'suggested')
const listSuggested = () => readdir(suggestedDir()).catch(() => [] as string[])

beforeAll(async () => {
  api = await startMessagesApi()
})
afterAll(async () => {
  await api.close()
})
beforeEach(async () => {
  shop = await copyShop()
  // The copy's services import the bus client (mqtt) from the repository's dependencies.
  await symlink(
    path.join(repoRoot, 'node_modules'),
    path.join(path.dirname(shop.root), 'node_modules'),
    'dir',
  )
})
afterEach(async () => {
  await shop.remove()
})

describe('vigil plans suggest', { timeout: 120_000 }, () => {
  it('drafts a plan for an operation no plan covers, runs it once, and writes it beside the plans', async () => {
    api.enqueue(toolReply(draft()))
    const result = await suggest()
    expect(result.stderr).toContain('running the draft once against the candidate')
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('Wrote suggested/payments-authorize.md: plan "payments-authorize"')
    expect(result.stdout).toContain('It passed against the candidate')
    const file = path.join(suggestedDir(), 'payments-authorize.md')
    const text = await readFile(file, 'utf8')
    expect(text).toContain('Drafted by vigil plans suggest (author-test, plan-suggest-v1')
    expect(text).toContain(`  - ${AUTHORIZE}`)
    expect(text).toContain('Ran once against the candidate: passed.')
    expect(text).toContain('```contract Authorize')
    // The file is a plan the linter accepts, with its references resolved from where it was written.
    const loaded = await loadPlans({ roots: [file], cwd: shop.root, checkSchemas: checkSchemas() })
    expect(loaded.diagnostics).toEqual([])
    expect(loaded.plans[0]).toMatchObject({ name: 'payments-authorize', paths: ['payments/**'] })
    // The model's context: one message with the API documents and the catalog, its one tool forced.
    const request = api.requests.at(-1)!.body!
    expect(request.model).toBe('author-test')
    expect(request.tool_choice).toEqual({ type: 'tool', name: 'draft_plan' })
    expect(request.messages).toHaveLength(1)
    const prompt = JSON.stringify(request.messages)
    expect(prompt).toContain('authorizePayment')
    expect(prompt).toContain('--- ../plans/checkout-flow.md')
    expect(prompt).not.toContain('alice-token')
    const covers = (
      request.tools![0]!.input_schema as { properties: { covers: { items: { enum: string[] } } } }
    ).properties.covers.items.enum
    expect(covers).toContain(AUTHORIZE)
  })

  it('sends lint errors back once and writes the corrected draft', async () => {
    api.enqueue(toolReply(draft({}, { expec: { status: 200 } })), toolReply(draft()))
    const before = api.requests.length
    const result = await suggest(['--json'])
    expect(result.code).toBe(0)
    const out = JSON.parse(result.stdout) as { written: string; attempts: number; run: { status: string } }
    expect(out).toMatchObject({
      written: 'suggested/payments-authorize.md',
      attempts: 2,
      run: { status: 'pass' },
    })
    expect(api.requests.length - before).toBe(2)
    const second = api.requests.at(-1)!.body!
    const feedback = JSON.stringify(second.messages!.at(-1))
    expect(feedback).toContain('"is_error":true')
    expect(feedback).toMatch(/payments-authorize\.md:\d+:\d+ .*expec/)
  })

  it('refuses a draft that is still wrong after one correction, and writes nothing', async () => {
    const runStep = {
      kind: 'e2e',
      name: 'Shell',
      params: { steps: [{ name: 'sh', run: 'touch pwned' }] },
    }
    api.enqueue(toolReply(draft({ checks: [runStep] })), toolReply(draft({ name: 'checkout-flow' })))
    const result = await suggest()
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(
      /refused after one correction: \/name: "checkout-flow" is the name of an existing plan/,
    )
    expect(result.stderr).toContain('nothing was written')
    const feedback = JSON.stringify(api.requests.at(-1)!.body!.messages!.at(-1))
    expect(feedback).toContain('/checks/0/params/steps/0/run: a drafted plan may not run commands')
    expect(await listSuggested()).toEqual([])
    await expect(readdir(shop.root)).resolves.not.toContain('pwned')
  })

  it('refuses a reply without the tool call', async () => {
    api.enqueue(textReply('Here is a plan you could write…'))
    const result = await suggest()
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('the reply has no draft_plan call (got text)')
    expect(await listSuggested()).toEqual([])
  })

  it('never overwrites: a second draft of the same name gets a free file name', async () => {
    await mkdir(suggestedDir())
    await writeFile(path.join(suggestedDir(), 'payments-authorize.md'), 'mine\n')
    api.enqueue(toolReply(draft()))
    const result = await suggest()
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('Wrote suggested/payments-authorize-2.md')
    expect(await readFile(path.join(suggestedDir(), 'payments-authorize.md'), 'utf8')).toBe('mine\n')
  })

  it('writes a draft that fails against the candidate with the failure in its review note', async () => {
    const wrong = draft()
    wrong.checks[0]!.params.requests = [authorize('zero', 0, 201)]
    api.enqueue(toolReply(wrong))
    const result = await suggest(['--out', 'drafts'])
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('Wrote drafts/payments-authorize.md')
    expect(result.stdout).toContain('did not pass against the candidate (Authorize:')
    const text = await readFile(path.join(shop.root, 'drafts/payments-authorize.md'), 'utf8')
    expect(text).toContain('Ran once against the candidate: did not pass.')
    expect(text).toMatch(/failed Authorize: .*422/)
  })

  it('prints the draft with --print and writes nothing', async () => {
    api.enqueue(toolReply(draft()))
    const result = await suggest(['--print'])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^---\nname: payments-authorize\n/)
    expect(await listSuggested()).toEqual([])
  })

  it('says it needs an API key and sends nothing; --dry-run shows the request without one', async () => {
    const before = api.requests.length
    const result = await vigil(['plans', 'suggest'])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/no API key: set ANTHROPIC_API_KEY/)
    const dry = await vigil(['plans', 'suggest', '--dry-run', '--json'])
    expect(dry.code).toBe(0)
    const preview = JSON.parse(dry.stdout) as { targets: string[]; request: { tool_choice: unknown } }
    expect(preview.targets).toContain(AUTHORIZE)
    expect(preview.request.tool_choice).toEqual({ type: 'tool', name: 'draft_plan' })
    expect(api.requests.length).toBe(before)
    expect(await listSuggested()).toEqual([])
  })

  it('has nothing to suggest for a change whose code every plan runs', async () => {
    const result = await suggest(['--patch', 'changes/status-change.patch'])
    expect(result.code).toBe(0)
    expect(result.stdout).toContain(
      'Nothing to suggest: this change touches no code or API that no plan covers.',
    )
  })
})
