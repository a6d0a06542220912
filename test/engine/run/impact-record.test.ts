/**
 * `vigil run --record-impact` on a copy of the sample shop: the real CLI, real service processes, coverage
 * through NODE_V8_COVERAGE. The run is reported as one run with one verdict; the map attributes code per
 * plan although the plans ran in one command; a run of some plans replaces theirs in the existing map and
 * keeps the others', unless the files those were recorded on changed since.
 */
import { appendFile, readFile, rm, symlink } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ImpactMap } from '../../../selectors/impact.js'
import type { Verdict } from '../../../engine/verdict.js'
import { copyShop, type ShopCopy } from '../../samples/patched-shop.js'
import { repoRoot, runVigil } from '../../support/cli.js'

let shop: ShopCopy

const vigil = (args: string[]) =>
  runVigil(args, {
    cwd: shop.root,
    env: { PATH: process.env.PATH ?? '', HOME: shop.root },
    timeoutMs: 180_000,
  })

const map = async () =>
  JSON.parse(await readFile(path.join(shop.root, 'vigil.impact.json'), 'utf8')) as ImpactMap
const plansOf = (m: ImpactMap, file: string, fn: string) =>
  m.files[file]?.functions.find((f) => f.name === fn)?.plans

beforeAll(async () => {
  shop = await copyShop()
  // The copy's services import the bus client (mqtt) from the repository's dependencies.
  await symlink(
    path.join(repoRoot, 'node_modules'),
    path.join(path.dirname(shop.root), 'node_modules'),
    'dir',
  )
  await rm(path.join(shop.root, 'vigil.impact.json'))
})
afterAll(async () => {
  await shop.remove()
})

describe('vigil run --record-impact', { timeout: 240_000 }, () => {
  it('runs the plans as one run, each on its own services, and writes a map that attributes code per plan', async () => {
    const result = await vigil([
      'run',
      '--record-impact',
      '--no-baseline',
      '--plan',
      'catalog-contract',
      '--plan',
      'orders-contract',
      '--reporter',
      'console',
      '--reporter',
      'json:verdict.json',
    ])
    expect(result.code).toBe(0)
    expect(result.stdout.match(/^PASS · /gm)).toHaveLength(1)
    expect(result.stderr).toContain('recording catalog-contract (1 of 2)')
    expect(result.stderr).toMatch(/wrote vigil\.impact\.json: 2 plans, \d+ files/)
    const verdict = JSON.parse(await readFile(path.join(shop.root, 'verdict.json'), 'utf8')) as Verdict
    expect(verdict.plans.map((p) => p.name)).toEqual(['catalog-contract', 'orders-contract'])
    expect(verdict.status).toBe('pass')
    const recorded = await map()
    expect(recorded.plans).toEqual(['catalog-contract', 'orders-contract'])
    // Orders' code is orders-contract's alone: the catalog plan ran on services of its own.
    expect(plansOf(recorded, 'orders/server.js', 'createOrder')).toEqual(['orders-contract'])
    expect(plansOf(recorded, 'catalog/server.js', 'handle')).toContain('catalog-contract')
  })

  it('re-records one plan into the existing map and keeps the other plans', async () => {
    const before = await map()
    const result = await vigil(['run', '--record-impact', '--no-baseline', '--plan', 'catalog-contract'])
    expect(result.code).toBe(0)
    const after = await map()
    expect(after.plans).toEqual(['catalog-contract', 'orders-contract'])
    expect(plansOf(after, 'orders/server.js', 'createOrder')).toEqual(['orders-contract'])
    expect(plansOf(after, 'catalog/server.js', 'handle')).toEqual(
      plansOf(before, 'catalog/server.js', 'handle'),
    )
  })

  it('does not merge into a map whose other plans were recorded on files changed since, and says so', async () => {
    const before = await readFile(path.join(shop.root, 'vigil.impact.json'), 'utf8')
    await appendFile(path.join(shop.root, 'orders/store.js'), '// changed since the map was recorded\n')
    const result = await vigil(['run', '--record-impact', '--no-baseline', '--plan', 'catalog-contract'])
    expect(result.code).toBe(0)
    expect(result.stderr).toMatch(
      /the impact map was not written: this run holds 1 of \d+ plans, .*changed since \(orders\/store\.js\)/,
    )
    expect(await readFile(path.join(shop.root, 'vigil.impact.json'), 'utf8')).toBe(before)
  })

  it('refuses a patched candidate: the map describes the code as committed', async () => {
    const result = await vigil(['run', '--record-impact', '--patch', 'changes/status-change.patch'])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('--record-impact: the map describes the code as committed')
  })
})
