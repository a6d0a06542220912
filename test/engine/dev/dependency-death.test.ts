/**
 * A dependency's server that dies between two iterations of a warm session, on a git copy of the sample
 * shop run on NATS (`vigil.nats.config.yaml`: a nats-server of its own per side, from Debian's package):
 * the next iteration starts the sandboxes again and says why, instead of running the checks against a
 * broker that is gone (or failing to empty it). Skipped, saying so, where nats-server is not installed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { findBinary } from '../../../engine/dependencies/server.js'
import { DevSession } from '../../../engine/dev/session.js'
import { gitShop, waitFor, type GitShop } from './warm-shop.js'

const hasNats = findBinary('nats-server') !== undefined
let shop: GitShop | undefined
let session: DevSession | undefined
const lines: string[] = []

beforeAll(async () => {
  if (!hasNats) return
  shop = await gitShop()
  session = new DevSession({
    cwd: shop.root,
    configPath: 'vigil.nats.config.yaml',
    planNames: ['order-events'],
    log: (line) => lines.push(line),
  })
}, 60_000)
afterAll(async () => {
  await session?.stop()
  await shop?.remove()
}, 60_000)

describe('a warm session whose broker dies between iterations', () => {
  it.skipIf(!hasNats)(
    'starts the sandboxes again and says which server died (needs nats-server: apt-get install nats-server)',
    async () => {
      expect((await session!.iterate()).status).toBe('pass')
      const started = lines
        .map((l) => /^candidate sandbox, dependency bus .*\(pid (\d+)/.exec(l))
        .find(Boolean)
      expect(started).toBeTruthy()
      process.kill(Number(started![1]), 'SIGKILL')
      await waitFor(() => lines.some((l) => /^candidate sandbox, dependency bus: .* while running$/.test(l)))

      const next = await session!.iterate()
      expect(next.errors).toEqual([])
      expect(next.status).toBe('pass')
      expect(next.session?.rebuilt).toEqual(
        expect.arrayContaining([
          { part: 'sandboxes', reason: 'candidate sandbox, dependency bus was killed by SIGKILL' },
        ]),
      )
      expect(lines).toContain(
        'rebuilding the sandboxes: candidate sandbox, dependency bus was killed by SIGKILL',
      )
    },
    180_000,
  )
})
