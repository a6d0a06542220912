/**
 * `vigil dev --watch` as a user runs it, on a git copy of the shop: a save that renames a field fails the
 * next iteration, the revert passes the one after, and Ctrl-C leaves no process and no worktree behind.
 */
import { spawn } from 'node:child_process'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { isProcessAlive } from '../../../engine/processes/process-tree.js'
import { buildIfStale } from '../../support/build.js'
import { gitShop, waitFor, type GitShop } from './warm-shop.js'

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/vigil.js')
let shop: GitShop

beforeAll(async () => {
  await buildIfStale()
  shop = await gitShop()
}, 180_000)
afterAll(async () => {
  await shop?.remove()
})

it('vigil dev --watch fails a field rename, passes its revert, and leaves nothing after Ctrl-C', async () => {
  const child = spawn(
    process.execPath,
    [bin, 'dev', '--watch', '--debounce', '200', '-p', 'orders-contract', '-p', 'checkout-flow'],
    {
      cwd: shop.root,
      env: { PATH: process.env.PATH ?? '', HOME: os.tmpdir(), NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  const killer = setTimeout(() => child.kill('SIGKILL'), 240_000)
  const verdicts = () => stdout.match(/^(PASS|FAIL|ERROR) .*$/gm) ?? []
  const waitVerdicts = async (n: number): Promise<string> => {
    while (verdicts().length < n) {
      if (child.exitCode !== null) throw new Error(`vigil dev exited:\n${stdout}\n${stderr}`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    return verdicts()[n - 1]!
  }
  try {
    expect(await waitVerdicts(1), stderr).toMatch(/^PASS /)
    await waitFor(() => stderr.includes('watching'), 30_000)
    await shop.apply('field-rename')
    expect(await waitVerdicts(2), stdout).toMatch(/^FAIL /)
    // Restarted on the save as it settled (150 ms), before the iteration's 200 ms debounce ran out.
    expect(stdout).toMatch(/^#2 restarted orders \(on save\); reset bus, db · reused .*baseline/m)
    await shop.git('checkout', '--', 'orders')
    expect(await waitVerdicts(3), stdout).toMatch(/^PASS /)
    expect(stdout).toMatch(/^#3 restarted orders/m)
  } finally {
    child.kill('SIGINT')
    expect(await exited).toBe(130)
    clearTimeout(killer)
  }
  const pids = [...stderr.matchAll(/\(pid (\d+)/g)].map((m) => Number(m[1]))
  expect(pids.length).toBeGreaterThanOrEqual(10)
  expect(pids.filter((pid) => isProcessAlive(pid))).toEqual([])
  // The baseline's worktree is gone too.
  expect((await shop.git('worktree', 'list')).trim().split('\n')).toHaveLength(1)
}, 300_000)
