/**
 * A warm session in a folder no git repository holds: the change cannot be read against a base, so each
 * iteration is an error verdict saying so, and no sandbox is started for it.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { DevSession } from '../../../engine/dev/session.js'

const SHOP = fileURLToPath(new URL('../../../samples/shop', import.meta.url))
let parent: string
let session: DevSession | undefined

beforeAll(async () => {
  parent = await mkdtemp(path.join(os.tmpdir(), 'vigil-dev-nogit-'))
  await cp(SHOP, path.join(parent, 'shop'), {
    recursive: true,
    filter: (src) => path.basename(src) !== '.vigil',
  })
})
afterAll(async () => {
  await session?.stop()
  await rm(parent, { recursive: true, force: true })
})

it('answers every iteration with an error naming the folder, and starts no sandbox', async () => {
  const lines: string[] = []
  session = new DevSession({
    cwd: path.join(parent, 'shop'),
    planNames: ['orders-contract'],
    log: (line) => lines.push(line),
  })
  for (const iteration of [1, 2]) {
    const verdict = await session.iterate()
    expect(verdict.status, `iteration ${iteration}`).toBe('error')
    expect(verdict.errors[0]?.message).toMatch(/--base HEAD: .*shop is not inside a git repository/)
    expect(verdict.session?.iteration).toBe(iteration)
  }
  expect(lines.filter((l) => / sandbox, /.test(l))).toEqual([])
}, 60_000)
