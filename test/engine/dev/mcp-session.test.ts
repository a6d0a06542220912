/**
 * The MCP server's warm session through the SDK's client over stdio, on a git copy of the shop: the
 * second `run_plans` with `session: true` reuses the baseline (its verdict says so), progress arrives per
 * check, a session refuses a diff, stop_session stops it, and an idle session stops by itself. A plan that
 * failed in one call is run again, with the next selection, until it passes.
 */
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import type { CallToolResult, Progress } from '@modelcontextprotocol/sdk/types.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isProcessAlive } from '../../../engine/processes/process-tree.js'
import type { Verdict } from '../../../engine/verdict.js'
import type { SelectionRecord } from '../../../selectors/index.js'
import { validateVerdict } from '../../../reporters/index.js'
import { buildIfStale } from '../../support/build.js'
import { gitShop, type GitShop } from './warm-shop.js'

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/vigil.js')
let shop: GitShop

beforeAll(async () => {
  await buildIfStale()
  shop = await gitShop()
}, 180_000)
afterAll(async () => {
  await shop?.remove()
})

async function connect(idle: string): Promise<{ client: Client; stderr: () => string }> {
  let stderr = ''
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [bin, 'mcp'],
    cwd: shop.root,
    env: { PATH: process.env.PATH ?? '', HOME: os.tmpdir(), NO_COLOR: '1', VIGIL_SESSION_IDLE: idle },
    stderr: 'pipe',
  })
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const client = new Client({ name: 'vigil-test', version: '1.0.0' })
  await client.connect(transport)
  return { client, stderr: () => stderr }
}

async function call(
  client: Client,
  name: string,
  args: Record<string, unknown>,
  onprogress?: (p: Progress) => void,
) {
  return (await client.callTool({ name, arguments: args }, undefined, {
    timeout: 150_000,
    ...(onprogress ? { onprogress } : {}),
  })) as CallToolResult
}

const pidsIn = (text: string) => [...text.matchAll(/\(pid (\d+)/g)].map((m) => Number(m[1]))

describe('the MCP warm session', () => {
  it('reuses the baseline on the second run_plans call and says so', async () => {
    const { client, stderr } = await connect('10m')
    try {
      const progress: Progress[] = []
      const first = await call(client, 'run_plans', { plans: ['orders-contract'], session: true }, (p) =>
        progress.push(p),
      )
      expect(first.isError, JSON.stringify(first.content)).toBeFalsy()
      const v1 = first.structuredContent as unknown as Verdict
      expect(v1.status).toBe('pass')
      expect(v1.session).toMatchObject({ iteration: 1, rebuilt: [{ part: 'sandboxes' }] })
      // One notification per check after the start-up ones.
      expect(progress.filter((p) => /orders-contract ›/.test(p.message ?? ''))).toHaveLength(4)

      const second = await call(client, 'run_plans', {
        plans: ['orders-contract', 'checkout-flow'],
        session: true,
      })
      const v2 = second.structuredContent as unknown as Verdict
      expect(v2.status).toBe('pass')
      expect(v2.session).toMatchObject({ iteration: 2, rebuilt: [], restarted: [] })
      expect(v2.session?.reused).toEqual(expect.arrayContaining(['baseline', 'catalog', 'pools', 'noise']))
      expect(validateVerdict(v2)).toEqual({ valid: true, errors: [] })

      const refused = await call(client, 'run_plans', { plans: ['orders-contract'], session: true, diff: '' })
      expect(refused.isError).toBe(true)
      expect((refused.content[0] as { text: string }).text).toMatch(/give base, not diff or patch/)

      const pids = pidsIn(stderr())
      expect(pids.length).toBeGreaterThanOrEqual(8)
      const stopped = await call(client, 'stop_session', {})
      expect(stopped.structuredContent).toEqual({ stopped: true, iterations: 2 })
      expect(pids.filter((pid) => isProcessAlive(pid))).toEqual([])
      expect((await call(client, 'stop_session', {})).structuredContent).toEqual({
        stopped: false,
        iterations: 0,
      })
    } finally {
      await client.close()
    }
  }, 300_000)

  it('runs again, with a selection, the plans that failed in an earlier call until they pass', async () => {
    const { client } = await connect('10m')
    try {
      // The agent's loop: select for the working tree, run; fix; select again (now nothing), run.
      const selectFor = async () => {
        const picked = await call(client, 'select_plans', { base: 'HEAD' })
        expect(picked.isError, JSON.stringify(picked.content)).toBeFalsy()
        const record = picked.structuredContent as unknown as SelectionRecord
        // One plan of the selection keeps the test short; a record with fewer plans is still a record.
        return { ...record, plans: record.plans.filter((p) => p.name === 'orders-contract') }
      }
      await shop.apply('field-rename')
      const broken = await call(client, 'run_plans', { selection: await selectFor(), session: true })
      const v1 = broken.structuredContent as unknown as Verdict
      expect(v1.status).toBe('fail')
      expect(v1.plans.map((p) => [p.name, p.state])).toEqual([['orders-contract', 'failed']])

      await shop.git('checkout', '--', 'orders')
      const record = await selectFor()
      expect(record.plans).toEqual([])
      const fixed = await call(client, 'run_plans', { selection: record, session: true })
      expect(fixed.isError, JSON.stringify(fixed.content)).toBeFalsy()
      const v2 = fixed.structuredContent as unknown as Verdict
      expect(v2.selection?.plans).toEqual([
        {
          name: 'orders-contract',
          source: 'session',
          reason: 'failed in iteration #1 and has not passed since; the change no longer selects it',
        },
      ])
      expect(v2.plans.map((p) => [p.name, p.state])).toEqual([['orders-contract', 'passed']])
      expect(v2.status).toBe('pass')
    } finally {
      await call(client, 'stop_session', {}).catch(() => undefined)
      await client.close()
      await shop.git('checkout', '--', 'orders')
    }
  }, 300_000)

  it('start_session starts the sandboxes, and an idle session stops by itself', async () => {
    const { client, stderr } = await connect('3s')
    try {
      const started = await call(client, 'start_session', {})
      expect(started.isError, JSON.stringify(started.content)).toBeFalsy()
      expect(started.structuredContent).toMatchObject({
        base: 'HEAD',
        all: false,
        services: { candidate: ['catalog', 'orders', 'payments', 'shipping'] },
        idleTimeoutSeconds: 3,
      })
      const pids = pidsIn(stderr())
      expect(pids.length).toBeGreaterThanOrEqual(8)
      await waitFor(() => stderr().includes('idle'), 60_000)
      await waitFor(() => pids.every((pid) => !isProcessAlive(pid)), 30_000)
    } finally {
      await client.close()
    }
  }, 300_000)
})

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
