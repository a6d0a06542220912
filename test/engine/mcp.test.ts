/**
 * `vigil mcp` through the SDK's own client over stdio: the real server process, the sample shop's
 * plans and sandboxes, a faulty patch, and bad input that must come back as tool errors.
 */
import { spawn } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import type { CallToolResult, Progress } from '@modelcontextprotocol/sdk/types.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Verdict } from '../../engine/verdict.js'
import type { LintReport } from '../../plans/lint.js'
import { validateVerdict } from '../../reporters/index.js'
import type { SelectionRecord } from '../../selectors/index.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const changes = 'samples/shop/changes'
/** The same files as an agent names them: relative to the config's folder (samples/shop). */
const fromConfig = 'changes'

let client: Client
let stderr = ''

beforeAll(async () => {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: ['bin/vigil.js', 'mcp', '--config', 'samples/shop/vigil.config.yaml'],
    cwd: root,
    // No API key: the offline rules selector, whatever the machine's environment holds.
    env: { PATH: process.env.PATH ?? '', HOME: os.tmpdir(), NO_COLOR: '1' },
    stderr: 'pipe',
  })
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  client = new Client({ name: 'vigil-test', version: '1.0.0' })
  await client.connect(transport)
}, 60_000)
afterAll(async () => {
  await client?.close()
})

async function call(name: string, args: Record<string, unknown>, onprogress?: (p: Progress) => void) {
  return (await client.callTool({ name, arguments: args }, undefined, {
    timeout: 120_000,
    ...(onprogress ? { onprogress } : {}),
  })) as CallToolResult
}

const text = (result: CallToolResult) =>
  result.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n')

describe('vigil mcp', () => {
  it('lists its seven tools, each with an input schema', async () => {
    const { tools } = await client.listTools()
    expect(tools.map((t) => t.name).sort()).toEqual([
      'lint_plans',
      'list_plans',
      'reproduce_finding',
      'run_plans',
      'select_plans',
      'start_session',
      'stop_session',
    ])
    const run = tools.find((t) => t.name === 'run_plans')!
    expect(Object.keys(run.inputSchema.properties ?? {})).toEqual(
      expect.arrayContaining([
        'plans',
        'selection',
        'diff',
        'base',
        'patch',
        'baseline',
        'seed',
        'session',
        'all',
      ]),
    )
    // Every tool says what its structured content holds.
    for (const tool of tools) expect(tool.outputSchema, tool.name).toMatchObject({ type: 'object' })
    expect(run.outputSchema?.required).toEqual(expect.arrayContaining(['status', 'exitCode', 'plans']))
  })

  it('list_plans returns the shop catalog, and lint_plans finds no errors in it', async () => {
    const listed = await call('list_plans', {})
    expect(listed.isError).toBeFalsy()
    const { plans } = listed.structuredContent as { plans: Array<{ name: string; checks: unknown[] }> }
    expect(plans.map((p) => p.name)).toEqual(
      expect.arrayContaining(['catalog-contract', 'checkout-flow', 'checkout-load', 'orders-contract']),
    )
    expect(text(listed)).toContain('checkout-flow — ')

    const lint = await call('lint_plans', {})
    const report = lint.structuredContent as unknown as LintReport
    expect(report).toMatchObject({ version: 1, ok: true, errorCount: 0 })
    expect(report.files).toBeGreaterThanOrEqual(4)
  })

  it('select_plans reads a patch file or the same diff as text, with a reason for every plan', async () => {
    const fromFile = await call('select_plans', { patch: `${fromConfig}/field-rename.patch` })
    expect(fromFile.isError).toBeFalsy()
    const record = fromFile.structuredContent as unknown as SelectionRecord
    expect(record.selector).toBe('rules')
    const catalog = new Set([...record.plans, ...record.rejected].map((p) => p.name))
    const expected = (
      JSON.parse(readFileSync(path.join(root, changes, 'field-rename.expect.json'), 'utf8')) as {
        plans: string[]
      }
    ).plans.filter((name) => catalog.has(name))
    // The plans whose paths cover the change are the labelled ones; the shop's impact map adds those
    // whose recorded functions hold the changed line, each saying so.
    expect(record.plans.filter((p) => p.source === 'paths').map((p) => p.name)).toEqual(expected)
    expect(expected).toContain('orders-contract')
    for (const p of record.plans.filter((p) => p.source !== 'paths')) {
      expect(p.source).toBe('impact')
      expect(p.reason).toMatch(/^impact map: orders\/server\.js:\d+ is in \w+/)
    }
    expect(text(fromFile)).toContain('paths orders/** matched orders/server.js')

    const diff = readFileSync(path.join(root, changes, 'field-rename.patch'), 'utf8')
    const inline = await call('select_plans', { diff })
    const same = inline.structuredContent as unknown as SelectionRecord
    expect(same.diff).toMatchObject({ source: 'inline', hash: record.diff.hash })
    expect(same.plans).toEqual(record.plans)
  })

  it('select_plans says when the change touches code or an endpoint no plan covers', async () => {
    const file = 'payments/server.js'
    const diff =
      `diff --git a/${file} b/${file}\nindex 1111111..2222222 100644\n--- a/${file}\n+++ b/${file}\n` +
      '@@ -74,3 +74,3 @@ serve({\n' +
      "       return sendJson(res, 200, { status: 'ok' })\n" +
      '     }\n' +
      "-    if (pathname === '/payments/authorize') {\n" +
      "+    if (pathname === '/payments/authorize' || pathname === '/payments/authorise') {\n"
    const result = await call('select_plans', { diff })
    expect(result.isError).toBeFalsy()
    expect(text(result)).toContain(
      'Coverage: this change touches code no plan covers: payments POST /payments/authorize (authorizePayment) — openapi/payments.yaml (no plan requests it).',
    )
    // The structured result stays a selection record run_plans accepts.
    expect(result.structuredContent).not.toHaveProperty('coverage')
    const clean = await call('select_plans', { patch: `${changes}/field-rename.patch` })
    expect(text(clean)).not.toContain('Coverage:')
  })

  it('run_plans passes the shop and fails it with a faulty patch, reporting progress and a curl reproduction', async () => {
    const progress: Progress[] = []
    const clean = await call('run_plans', { plans: ['checkout-flow'], baseline: false }, (p) =>
      progress.push(p),
    )
    expect(clean.isError, text(clean)).toBeFalsy()
    const passed = clean.structuredContent as unknown as Verdict
    expect(validateVerdict(passed).valid).toBe(true)
    expect(passed).toMatchObject({ status: 'pass', exitCode: 0, identity: { requester: 'mcp' } })
    expect(progress.length).toBeGreaterThanOrEqual(3)
    expect(progress.map((p) => p.progress)).toEqual(
      [...progress.map((p) => p.progress)].sort((a, b) => a - b),
    )
    expect(progress.at(-1)).toMatchObject({ progress: 2, total: 2 })
    expect(progress.at(-1)?.message).toContain('checkout-flow › Checkout [e2e]: passed')

    const faulty = await call('run_plans', {
      plans: ['checkout-flow'],
      patch: `${fromConfig}/env-var-rename.patch`,
      baseline: false,
    })
    expect(faulty.isError, text(faulty)).toBeFalsy()
    const failed = faulty.structuredContent as unknown as Verdict
    expect(failed).toMatchObject({
      status: 'fail',
      exitCode: 1,
      identity: { patch: `${changes}/env-var-rename.patch` },
    })
    const findings = failed.plans[0]!.checks.flatMap((c) => ('findings' in c ? c.findings : []))
    expect(findings.some((f) => f.evidence?.reproduce?.startsWith('curl '))).toBe(true)
    const summary = text(faulty)
    // The text is a short summary; the verdict is only in the structured content, not repeated as text.
    expect(faulty.content).toHaveLength(1)
    expect(summary.length).toBeLessThan(JSON.stringify(failed).length / 4)
    expect(summary).toContain('structuredContent')
    expect(summary).toMatch(/^FAIL \(exit 1\)/)
    expect(summary).toContain('checkout-flow › Checkout [e2e] failed')
    expect(summary).toMatch(/reproduce: curl .*POST/)
    expect(summary).not.toContain('alice-token')

    // After the run, the failing finding is replayed from the verdict the agent got back.
    const failing = findings.find((f) => f.severity === 'error')!
    expect(summary).toContain(`id ${failing.id}`)
    const replayed = await call('reproduce_finding', { verdict: failed, finding: failing.id })
    expect(replayed.isError, `${text(replayed)}\n${stderr.slice(-4000)}`).toBeFalsy()
    const result = replayed.structuredContent as {
      reproduced: boolean
      exchanges: Array<{ side: string; response?: { status: number } }>
    }
    expect(result.reproduced).toBe(true)
    expect(result.exchanges.at(-1)).toMatchObject({ side: 'candidate', response: { status: 502 } })
    expect(text(replayed)).toMatch(/^REPRODUCED: f[0-9a-f]{12} checkout-flow › Checkout/)
    const unknownId = await call('reproduce_finding', { verdict: failed, finding: 'f000000000000' })
    expect(unknownId.isError).toBe(true)
    expect(text(unknownId)).toContain('has no finding f000000000000; its failing findings are')
  }, 180_000)

  it('runs a selection record with the same diff as text', async () => {
    const diff = readFileSync(path.join(root, changes, 'env-var-rename.patch'), 'utf8')
    const selected = await call('select_plans', { diff })
    const record = selected.structuredContent as unknown as SelectionRecord
    // Keep the run short: only the end-to-end plan of the record.
    const selection = { ...record, plans: record.plans.filter((p) => p.name === 'checkout-flow') }
    const result = await call('run_plans', { selection, diff, baseline: false })
    const verdict = result.structuredContent as unknown as Verdict
    expect(verdict.status).toBe('fail')
    expect(verdict.selection).toMatchObject({ selector: 'rules', diffHash: record.diff.hash })
  }, 120_000)

  it('answers bad input with tool errors that say what is wrong, and stays up', async () => {
    const unknown = await call('run_plans', { plans: ['checkout-flwo'] })
    expect(unknown.isError).toBe(true)
    expect(text(unknown)).toContain('run_plans: unknown plan "checkout-flwo"; did you mean "checkout-flow"?')

    const notDiff = await call('select_plans', { diff: 'please review my change\n' })
    expect(notDiff.isError).toBe(true)
    expect(text(notDiff)).toContain('select_plans: diff: not a unified diff')

    const none = await call('select_plans', {})
    expect(text(none)).toContain('give one of diff (unified diff text), base (git ref) or patch (file)')

    const both = await call('run_plans', { plans: ['checkout-flow'], selection: { plans: [] } })
    expect(text(both)).toContain('give either plans (names) or selection')

    const badRecord = await call('run_plans', { selection: { plans: [{ name: 'checkout-flow' }] } })
    expect(badRecord.isError).toBe(true)
    expect(text(badRecord)).toContain('selection: not a vigil selection record')

    const wrongType = await call('run_plans', { plans: 'checkout-flow' })
    expect(wrongType.isError).toBe(true)
    expect(text(wrongType)).toMatch(/Input validation error/)

    const missing = await call('run_plans', { plans: ['checkout-flow'], patch: 'no/such.patch' })
    // The missing file is named as the run reads it: resolved against the config's folder.
    expect(missing.isError).toBe(true)
    expect(text(missing)).toContain('--patch samples/shop/no/such.patch: cannot read it')

    for (const outside of ['/etc', '../..', '../../*/plans/**']) {
      const lint = await call('lint_plans', { paths: [outside] })
      expect(lint.isError, outside).toBe(true)
      expect(text(lint)).toContain(`lint_plans: path "${outside}" is outside the project`)
    }
    const inside = await call('lint_plans', { paths: ['samples/shop/plans/*.md'] })
    const shopPlans = readdirSync(path.join(root, 'samples/shop/plans')).filter((f) => f.endsWith('.md'))
    expect(inside.structuredContent).toMatchObject({ ok: true, files: shopPlans.length })

    const alive = await call('list_plans', {})
    expect(alive.isError).toBeFalsy()
    expect(stderr).not.toMatch(/unexpected error|Unhandled/i)
  }, 60_000)

  it('reports a diff that does not apply as a failed call, with the reason', async () => {
    const diff = [
      'diff --git a/orders/server.js b/orders/server.js',
      '--- a/orders/server.js',
      '+++ b/orders/server.js',
      '@@ -1,1 +1,1 @@',
      '-this line is not in the file',
      '+neither is this one',
      '',
    ].join('\n')
    const result = await call('run_plans', { plans: ['checkout-flow'], diff, baseline: false })
    expect(result.isError).toBe(true)
    expect(text(result)).toContain('the validation could not run')
    expect(text(result)).toContain('VIGIL_PATCH')
  }, 60_000)
})

describe('vigil mcp on lines that are not JSON-RPC', () => {
  it('answers -32700 to a line that is not JSON and -32600 to JSON that is not a message, and stays up', async () => {
    const child = spawn(
      process.execPath,
      ['bin/vigil.js', 'mcp', '--config', 'samples/shop/vigil.config.yaml'],
      {
        cwd: root,
        env: { PATH: process.env.PATH ?? '', HOME: os.tmpdir(), NO_COLOR: '1' },
        stdio: ['pipe', 'pipe', 'ignore'],
      },
    )
    try {
      const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]()
      const next = async () => JSON.parse(String((await lines.next()).value)) as Record<string, unknown>
      child.stdin.write('this is not json\n')
      expect(await next()).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32700 } })
      child.stdin.write('{"hello":"world"}\n')
      expect(await next()).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32600 } })
      child.stdin.write('{"jsonrpc":"2.0","id":7,"method":"ping"}\n')
      expect(await next()).toMatchObject({ jsonrpc: '2.0', id: 7, result: {} })
    } finally {
      child.stdin.end()
      await new Promise((resolve) => child.once('exit', resolve))
    }
  }, 30_000)
})
