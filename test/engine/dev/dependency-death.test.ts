/**
 * A dependency's server that dies between two iterations of a warm session, on a git copy of the sample
 * shop run on NATS (`vigil.nats.config.yaml`: a nats-server of its own per side, from Debian's package):
 * the next iteration starts the sandboxes again and says why, instead of running the checks against a
 * broker that is gone (or failing to empty it). One that dies while the checks run makes that iteration an
 * infrastructure error naming it, not a verdict on the change; the next one starts afresh and passes.
 * Skipped, saying so, where nats-server is not installed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Verdict } from '../../../engine/verdict.js'
import { findBinary } from '../../../engine/dependencies/server.js'
import { DevSession } from '../../../engine/dev/session.js'
import { gitShop, waitFor, type GitShop } from './warm-shop.js'

const hasNats = findBinary('nats-server') !== undefined
let shop: GitShop | undefined
let session: DevSession | undefined
const lines: string[] = []

/** The pid of the candidate's bus as the log last announced it (started, or started again). */
function candidateBus(): number {
  const started = lines.map((l) => /^candidate sandbox, dependency bus .*\(pid (\d+)/.exec(l)).filter(Boolean)
  expect(started.length).toBeGreaterThan(0)
  return Number(started.at(-1)![1])
}

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
      process.kill(candidateBus(), 'SIGKILL')
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

  it.skipIf(!hasNats)(
    'makes an iteration whose broker dies during the checks an infrastructure error naming it (needs nats-server)',
    async () => {
      const pid = candidateBus()
      let killed = false
      const during: Verdict = await session!.iterate({
        reporter: {
          onCheckStart: () => {
            if (!killed) process.kill(pid, 'SIGKILL')
            killed = true
          },
        },
      })
      expect(killed).toBe(true)
      expect(during.status).toBe('error')
      expect(during.exitCode).toBe(3)
      const died = during.errors.find((e) => e.code === 'VIGIL_DEPENDENCY_DIED')
      expect(died?.message).toBe(
        "candidate sandbox, dependency bus was killed by SIGKILL before the checks ended: what failed against it may be its doing, not the change's",
      )
      // Stopped, not cancelled, and no check waited out its timeout against the broker that was gone.
      expect(during.cancelled).toBeUndefined()
      const checks = during.plans.flatMap((p) => p.checks)
      expect(checks.length).toBeGreaterThan(0)
      for (const check of checks)
        expect(check.state === 'errored' ? check.error.code : check.state).not.toBe('VIGIL_CHECK_TIMEOUT')

      const after = await session!.iterate()
      expect(after.errors).toEqual([])
      expect(after.status).toBe('pass')
    },
    180_000,
  )
})
