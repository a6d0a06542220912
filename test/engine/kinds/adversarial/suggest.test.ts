/**
 * `vigil adversary suggest` end to end: the real CLI in a child process, the real SDK, a local Messages
 * API server. A good reply becomes a block the plan linter accepts, with the rest of the file untouched;
 * every kind of bad reply is refused with a clear message and leaves the file as it was.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { checkSchemas } from '../../../../engine/run/load-plans.js'
import { loadPlans } from '../../../../plans/loader.js'
import {
  startMessagesApi,
  textReply,
  toolReply,
  type MessagesApiServer,
} from '../../../support/messages-api.js'
import { runVigil } from '../../../support/cli.js'

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..')
const DIFF = (
  await readFile(path.join(repo, 'samples/shop/changes/drop-validation.patch'), 'utf8')
).toString()

let work: string
let plan: string
let original: string
let api: MessagesApiServer

const vigil = (args: string[], env: Record<string, string> = {}) =>
  runVigil(args, { cwd: work, env: { PATH: process.env.PATH ?? '', HOME: work, ...env } })

const withKey = () => ({
  ANTHROPIC_API_KEY: 'test-key',
  ANTHROPIC_BASE_URL: api.url,
  VIGIL_MODEL: 'adversary-test',
})
const suggest = (extra: string[] = []) =>
  vigil(
    ['adversary', 'suggest', '--plan', 'plans/orders-adversarial.md', '--diff', 'change.diff', ...extra],
    withKey(),
  )

const goodCases = [
  {
    name: 'zero quantity',
    operation: 'createOrder',
    request: { method: 'POST', path: '/orders', json: { items: [{ sku: 'tea', quantity: 0 }] } },
    expect: { status: 400 },
    rationale: 'the diff drops the lower bound',
  },
  {
    name: "bob reads alice's order",
    operation: 'getOrder',
    request: { method: 'GET', path: '/orders/{{orderId}}' },
    auth: 'other',
    expect: { status: [404, '4XX'] },
  },
]

beforeAll(async () => {
  api = await startMessagesApi()
})
afterAll(async () => {
  await api.close()
})
beforeEach(async () => {
  if (work) await rm(work, { recursive: true, force: true })
  work = await mkdtemp(path.join(os.tmpdir(), 'vigil-suggest-'))
  await cp(
    path.join(repo, 'samples/shop/plans/orders-adversarial.md'),
    path.join(work, 'plans/orders-adversarial.md'),
  )
  await cp(path.join(repo, 'samples/shop/openapi/orders.yaml'), path.join(work, 'openapi/orders.yaml'))
  await writeFile(path.join(work, 'change.diff'), DIFF)
  plan = path.join(work, 'plans/orders-adversarial.md')
  original = await readFile(plan, 'utf8')
})

describe('vigil adversary suggest', { timeout: 60_000 }, () => {
  it('writes the cases as an adversarial suggested block that the linter accepts, keeping the rest of the file', async () => {
    api.enqueue(toolReply({ cases: goodCases }))
    const result = await suggest()
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('added an `adversarial suggested` block with 2 cases')
    const text = await readFile(plan, 'utf8')
    expect(text.startsWith(original)).toBe(true)
    expect(text.slice(original.length)).toMatch(
      /^\n## Suggested adversarial cases\n\n```adversarial suggested\n# Proposed by vigil adversary suggest \(adversary-test/,
    )
    expect(text).toContain('# REVIEW BEFORE RELYING ON IT')
    const loaded = await loadPlans({ roots: [plan], cwd: work, checkSchemas: checkSchemas() })
    expect(loaded.diagnostics).toEqual([])
    const block = loaded.plans[0]!.checks.find((c) => c.name === 'suggested')!
    expect(block.kind).toBe('adversarial')
    expect(block.params).toMatchObject({ cases: 0, openapi: '../openapi/orders.yaml', suggested: goodCases })

    // The adversary saw the diff and the schemas, not the plan's prose; its one tool was forced.
    const request = api.requests.at(-1)!.body!
    expect(request.model).toBe('adversary-test')
    expect(request.tool_choice).toEqual({ type: 'tool', name: 'propose_cases' })
    const prompt = JSON.stringify(request.messages)
    expect(prompt).toContain('MIN_QUANTITY')
    expect(prompt).toContain('createOrder')
    expect(prompt).not.toContain('blind spots')
    expect(JSON.stringify(request.system)).toMatch(/only goal is to find requests that break/)
  })

  it('replaces its own block on the next run, and nothing else', async () => {
    api.enqueue(toolReply({ cases: goodCases }), toolReply({ cases: goodCases.slice(0, 1) }))
    expect((await suggest()).code).toBe(0)
    const first = await readFile(plan, 'utf8')
    const second = await suggest()
    expect(second.stdout).toContain('replaced the `adversarial suggested` block with 1 case;')
    const text = await readFile(plan, 'utf8')
    expect(text.match(/```adversarial suggested/g)).toHaveLength(1)
    expect(text.slice(0, first.indexOf('```adversarial suggested'))).toBe(
      first.slice(0, first.indexOf('```adversarial suggested')),
    )
    expect(text).not.toContain("bob reads alice's order")
  })

  it.each([
    [
      'an unknown operation',
      toolReply({ cases: [{ ...goodCases[0], operation: 'deleteEverything' }] }),
      /unknown operation "deleteEverything"/,
    ],
    [
      'an absolute URL',
      toolReply({
        cases: [{ ...goodCases[0], request: { method: 'GET', path: 'http://169.254.169.254/latest' } }],
      }),
      /does not match the case schema: \/cases\/0\/request\/path/,
    ],
    [
      'a protocol-relative URL',
      toolReply({ cases: [{ ...goodCases[0], request: { method: 'GET', path: '//evil.example/x' } }] }),
      /does not match the case schema/,
    ],
    [
      'a secret variable',
      toolReply({
        cases: [{ ...goodCases[0], request: { method: 'GET', path: '/orders/{{secrets.alice}}' } }],
      }),
      /variable \{\{secrets.alice\}\} is not a captured variable/,
    ],
    [
      'a credential header',
      toolReply({
        cases: [
          {
            ...goodCases[0],
            request: { method: 'GET', path: '/orders', headers: { Authorization: 'Bearer x' } },
          },
        ],
      }),
      /header "Authorization" is not allowed/,
    ],
    [
      'an extra property',
      toolReply({ cases: [{ ...goodCases[0], run: 'rm -rf /' }] }),
      /must NOT have additional properties/,
    ],
    ['no tool call', textReply('Here are some ideas…'), /has no propose_cases call \(got text\)/],
  ])('refuses a reply with %s and leaves the plan unchanged', async (_what, reply, message) => {
    api.enqueue(reply)
    const result = await suggest()
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(message)
    expect(result.stderr).toContain('plans/orders-adversarial.md')
    expect(result.stderr).toContain('the plan is unchanged')
    expect(await readFile(plan, 'utf8')).toBe(original)
  })

  it('says clearly that it needs an API key, and sends nothing', async () => {
    const before = api.requests.length
    const result = await vigil([
      'adversary',
      'suggest',
      '--plan',
      'plans/orders-adversarial.md',
      '--diff',
      'change.diff',
    ])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/no API key: set ANTHROPIC_API_KEY/)
    expect(api.requests.length).toBe(before)
    expect(await readFile(plan, 'utf8')).toBe(original)
  })

  it('prints the plan instead of writing it with --dry-run', async () => {
    api.enqueue(toolReply({ cases: goodCases }))
    const result = await suggest(['--dry-run'])
    expect(result.code).toBe(0)
    expect(result.stdout.startsWith(original)).toBe(true)
    expect(result.stdout).toContain('```adversarial suggested')
    expect(await readFile(plan, 'utf8')).toBe(original)
  })
})
