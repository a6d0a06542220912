/**
 * Restarts on save (`restartOnSave`, the MCP session's and `vigil dev`'s without --watch), on a git copy of
 * the sample shop with real service processes: a save to orders empties the databases the checks wrote to
 * and restarts orders before any iteration is asked for, and the next iteration runs on that process and
 * says so; a save the iteration comes too early
 * for is restarted by the iteration itself; a save that breaks orders' start is reported by the next
 * iteration, not lost; a save to a plan restarts nothing.
 */
import { readdirSync, readlinkSync, writeFileSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DevSession } from '../../../engine/dev/session.js'
import type { Verdict } from '../../../engine/verdict.js'
import { renderCompact, validateVerdict } from '../../../reporters/index.js'
import { survivors } from '../sandboxes/helpers.js'
import { gitShop, waitFor, type GitShop } from './warm-shop.js'

let shop: GitShop
let session: DevSession
const lines: string[] = []
let server = ''
let original = ''

/** Resolves once the log has `count` lines matching `pattern`. */
const logged = (pattern: RegExp, count: number) =>
  waitFor(() => lines.filter((l) => pattern.test(l)).length >= count, 20_000)
const RESTARTED = /candidate sandbox, service orders: restarted on /

/** Processes whose working folder is `dir` (Linux: /proc). */
function processesIn(dir: string): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        return readlinkSync(`/proc/${pid}/cwd`) === dir
      } catch {
        return false
      }
    })
    .map(Number)
}

beforeAll(async () => {
  shop = await gitShop()
  server = path.join(shop.root, 'orders/server.js')
  original = await readFile(server, 'utf8')
  session = new DevSession({
    cwd: shop.root,
    planNames: ['orders-contract'],
    restartOnSave: true,
    log: (line) => lines.push(line),
  })
}, 60_000)
afterAll(async () => {
  await session?.stop()
  await shop?.remove()
}, 60_000)

describe('restarts on save', () => {
  it('a save to orders restarts it before the iteration, which runs on that process and says so', async () => {
    expect((await session.iterate()).status).toBe('pass')
    const first = session.processes().candidate
    await writeFile(server, `${original}// saved\n`)
    await logged(RESTARTED, 1)
    const saved = session.processes().candidate
    expect(saved.orders).not.toBe(first.orders)
    expect(
      lines.some((l) => /service orders: restarting \(orders\/server\.js changed\) on save/.test(l)),
    ).toBe(true)

    const verdict = await session.iterate()
    expect(verdict.status).toBe('pass')
    expect(verdict.session).toMatchObject({ restarted: ['orders'], restartedOnSave: ['orders'] })
    expect(verdict.session?.reused).not.toContain('candidate:orders')
    expect(verdict.session?.reused).toContain('candidate:catalog')
    // The first iteration's checks wrote to the databases: the save emptied them before orders restarted.
    expect(verdict.session?.reset).toEqual(expect.arrayContaining(['baseline:db', 'candidate:db']))
    expect(lines.findIndex((l) => /candidate sandbox, dependency db: reset/.test(l))).toBeLessThan(
      lines.findIndex((l) => RESTARTED.test(l)),
    )
    // The iteration reset and restarted nothing itself: the process is the one the save started.
    expect(verdict.timings.some((t) => t.phase === 'reset' || t.phase.startsWith('restart:'))).toBe(false)
    expect(session.processes().candidate).toEqual(saved)
    expect(validateVerdict(verdict)).toEqual({ valid: true, errors: [] })
    expect(renderCompact(verdict)).toMatch(/^#2 restarted orders \(on save\)/m)
  }, 180_000)

  it('an iteration asked for at once restarts the saved service itself; a field rename fails, the revert passes', async () => {
    const before = lines.filter((l) => RESTARTED.test(l)).length
    // The iteration is queued as soon as the file is written, long before the save's quiet time ends.
    await shop.edit(
      'orders/server.js',
      'sendJson(res, 201, order, {',
      'const { totalCents: total_cents, ...rest } = order\n  sendJson(res, 201, { ...rest, total_cents }, {',
    )
    const broken = await session.iterate()
    expect(broken.status).toBe('fail')
    expect(broken.session?.restarted).toEqual(['orders'])
    expect(broken.session?.restartedOnSave).toBeUndefined()
    // The restart queued by the save found nothing left to do.
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(lines.filter((l) => RESTARTED.test(l))).toHaveLength(before + 1)

    await shop.git('checkout', '--', 'orders')
    await logged(RESTARTED, before + 2)
    const fixed = await session.iterate()
    expect(fixed.status).toBe('pass')
    expect(fixed.session?.restartedOnSave).toEqual(['orders'])
  }, 180_000)

  it('a save an iteration has read is not restarted after it, on the next edit written at once', async () => {
    await writeFile(server, `${original}// edit a\n`)
    // The save settles while this iteration runs (it restarts orders): a restart on save waits behind it.
    const first = session.iterate()
    let second!: Promise<Verdict>
    let before = 0
    await first.then((verdict) => {
      expect(verdict.session?.restarted).toEqual(['orders'])
      before = lines.filter((l) => RESTARTED.test(l)).length
      // The agent's next edit, written and asked for the moment the verdict is back: before the waiting
      // restart on save has read the files, which would find this edit (or half of it) there.
      writeFileSync(server, `${original}// edit b\n`)
      second = session.iterate()
    })
    const verdict = await second
    expect(verdict.status).toBe('pass')
    expect(verdict.session?.restarted).toEqual(['orders'])
    expect(verdict.session?.restartedOnSave).toBeUndefined()
    expect(lines.filter((l) => RESTARTED.test(l))).toHaveLength(before + 1)
    await writeFile(server, original)
    await session.iterate()
  }, 180_000)

  it('a save to a plan restarts nothing', async () => {
    const pids = session.processes()
    const plan = path.join(shop.root, 'plans/orders-contract.md')
    await writeFile(plan, `${await readFile(plan, 'utf8')}\n`)
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    expect(session.processes()).toEqual(pids)
    const verdict = await session.iterate()
    expect(verdict.session?.restarted).toEqual([])
    expect(verdict.session?.rebuilt).toEqual([{ part: 'catalog', reason: 'plan or document files changed' }])
  }, 180_000)

  it('a save that breaks the start is reported by the next iteration, with the service’s output', async () => {
    await writeFile(server, `${original}\nthrow new Error('orders cannot start: broken on purpose')\n`)
    await logged(/a restart on save failed; the next iteration does it again/, 1)
    const verdict = await session.iterate()
    expect(verdict.status).toBe('error')
    expect(verdict.errors[0]?.message).toMatch(/service orders/)
    expect(JSON.stringify(verdict.errors)).toContain('broken on purpose')

    // The rest stayed warm: the fix restarts orders alone (on its save, or in the iteration).
    await writeFile(server, original)
    const again = await session.iterate()
    expect(again.status).toBe('pass')
    expect(again.session?.rebuilt).toEqual([])
    expect(again.session?.restarted).toEqual(['orders'])
    expect(again.session?.reused).toContain('baseline')
  }, 180_000)

  it('stopping while a restart on save is under way cuts it short and leaves no process', async () => {
    await session.iterate()
    const restarting = lines.filter((l) => / on save$/.test(l)).length
    await writeFile(server, `${original}// saved again\n`)
    await logged(/ on save$/, restarting + 1)
    const { candidate, baseline } = session.processes()
    const pids = [...Object.values(candidate), ...Object.values(baseline)]
    expect(processesIn(shop.root).length).toBeGreaterThan(0)
    const begin = performance.now()
    await session.stop()
    expect(performance.now() - begin).toBeLessThan(10_000)
    expect(await survivors(pids)).toEqual([])
    // Nor the restart's new process: nothing runs in the shop's folder.
    expect(processesIn(shop.root)).toEqual([])
  }, 180_000)
})
