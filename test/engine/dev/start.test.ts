/**
 * A save while the warm session's sandboxes start, on a git copy of the sample shop with real service
 * processes: orders is saved with a field rename once its candidate process is up (it loaded the file
 * before the save), while the rest of the sandboxes still start. The first iteration must not take the
 * saved file for what that process runs: it restarts orders and fails; the revert passes.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DevSession } from '../../../engine/dev/session.js'
import { gitShop, type GitShop } from './warm-shop.js'

let shop: GitShop
let session: DevSession
const lines: string[] = []

beforeAll(async () => {
  shop = await gitShop()
  const server = path.join(shop.root, 'orders/server.js')
  let saved = false
  session = new DevSession({
    cwd: shop.root,
    planNames: ['orders-contract'],
    log: (line) => {
      lines.push(line)
      // Written in the log's callback, before the session goes on: orders has loaded the old file.
      if (saved || !/^candidate sandbox, service orders: ready on /.test(line)) return
      saved = true
      const text = readFileSync(server, 'utf8')
      writeFileSync(
        server,
        text.replace(
          'sendJson(res, 201, order, {',
          'const { totalCents: total_cents, ...rest } = order\n  sendJson(res, 201, { ...rest, total_cents }, {',
        ),
      )
    },
  })
}, 60_000)
afterAll(async () => {
  await session?.stop()
  await shop?.remove()
}, 60_000)

describe('a save while the sandboxes start', () => {
  it('is seen by the first iteration, which restarts the saved service and runs what was saved', async () => {
    const first = await session.iterate()
    expect(lines.some((l) => /^candidate sandbox, service orders: ready on /.test(l))).toBe(true)
    expect(first.session?.restarted).toEqual(['orders'])
    expect(lines).toContain('candidate sandbox, service orders: restarting (orders/server.js changed)')
    expect(first.status).toBe('fail')

    await shop.git('checkout', '--', 'orders')
    const reverted = await session.iterate()
    expect(reverted.status).toBe('pass')
    expect(reverted.session?.restarted).toEqual(['orders'])
  }, 180_000)
})
