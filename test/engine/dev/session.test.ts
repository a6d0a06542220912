/**
 * The warm session on a git copy of the sample shop, with real service processes: an edit to orders
 * restarts orders only and a field rename fails until reverted; nothing changed restarts nothing and runs
 * nothing, but the plans that failed run again until they pass; a dead baseline service, a moved base and a changed config rebuild the sandboxes and say why;
 * slow kinds are deferred and the verdict says it is partial.
 */
import { readFile, writeFile } from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DevSession, type DevSessionOptions } from '../../../engine/dev/session.js'
import { renderCompact, renderMarkdown, validateVerdict } from '../../../reporters/index.js'
import type { Verdict } from '../../../engine/verdict.js'
import { gitShop, waitFor, type GitShop } from './warm-shop.js'

const PLANS = ['orders-contract', 'checkout-flow', 'checkout-load']

let shop: GitShop
let session: DevSession

beforeAll(async () => {
  shop = await gitShop()
  session = new DevSession({ cwd: shop.root, planNames: PLANS })
}, 60_000)
afterAll(async () => {
  await session?.stop()
  await shop?.remove()
}, 60_000)

/**
 * `work` on a session of the test's own on the shop, stopped however the test ends; orders is put back as
 * committed, since the tests edit it.
 */
async function ownSession(
  options: Omit<DevSessionOptions, 'cwd'>,
  work: (session: DevSession) => Promise<void>,
): Promise<void> {
  const own = new DevSession({ cwd: shop.root, ...options })
  try {
    await work(own)
  } finally {
    await own.stop()
    await shop.git('checkout', '--', 'orders')
  }
}

const failedChecks = (v: Verdict) =>
  v.plans.flatMap((p) => p.checks.filter((c) => c.state === 'failed').map((c) => `${p.name} › ${c.check}`))

describe('a warm session', () => {
  it('starts the sandboxes once, defers the load checks and says the verdict is partial', async () => {
    const first = await session.iterate()
    expect(first.errors).toEqual([])
    expect(first.status).toBe('pass')
    expect(first.session).toMatchObject({
      iteration: 1,
      complete: false,
      deferred: [{ kind: 'load', checks: 2 }],
      rebuilt: [{ part: 'sandboxes', reason: 'the session started' }],
      restarted: [],
    })
    // Nothing was there to reuse.
    expect(first.session?.reused).toEqual([])
    const load = first.plans.find((p) => p.name === 'checkout-load')!
    expect(load.checks.every((c) => c.state === 'skipped' && /deferred/.test(c.note))).toBe(true)
    expect(validateVerdict(first)).toEqual({ valid: true, errors: [] })
    // Every text says it is partial: a deferred verdict is never read as a full one.
    expect(renderCompact(first)).toMatch(/^PASS .*\(partial: 2 load checks deferred; --all runs them\)$/m)
    expect(renderMarkdown(first)).toContain('Not a full verdict')
  }, 180_000)

  it('restarts orders only after an edit to orders; a field rename fails, the revert passes', async () => {
    const before = session.processes()
    await shop.apply('field-rename')
    const broken = await session.iterate()
    expect(broken.session?.restarted).toEqual(['orders'])
    expect(broken.status).toBe('fail')
    expect(failedChecks(broken).length).toBeGreaterThan(0)
    expect(broken.session?.reused).toEqual(
      expect.arrayContaining(['baseline', 'catalog', 'pools', 'candidate:catalog', 'candidate:payments']),
    )
    expect(broken.session?.reused).not.toContain('candidate:orders')
    const after = session.processes()
    expect(after.baseline).toEqual(before.baseline)
    expect(after.candidate.orders).not.toBe(before.candidate.orders)
    for (const name of ['catalog', 'payments', 'shipping'])
      expect(after.candidate[name], name).toBe(before.candidate[name])

    await shop.git('checkout', '--', 'orders')
    const fixed = await session.iterate()
    expect(fixed.session?.restarted).toEqual(['orders'])
    expect(failedChecks(fixed)).toEqual([])
    expect(fixed.status).toBe('pass')
    // The contract checks compared against noise learned in an earlier iteration of the same baseline.
    expect(fixed.session?.reused).toContain('noise')
  }, 180_000)

  it('restarts nothing and, with nothing changed against the base, runs nothing', async () => {
    await ownSession({}, async (quiet) => {
      const first = await quiet.iterate()
      expect(first.errors).toEqual([])
      expect(first.selection?.plans).toEqual([])
      const again = await quiet.iterate()
      expect(again.session).toMatchObject({ iteration: 2, restarted: [], rebuilt: [] })
      expect(again.session?.reused).toEqual(expect.arrayContaining(['baseline', 'catalog', 'pools']))
      expect(again.summary.checks.total).toBe(0)
      expect(again.status).toBe('pass')
    })
  }, 180_000)

  it('selects again the plans that failed until they pass, once the change no longer selects them', async () => {
    await ownSession({}, async (selecting) => {
      await shop.apply('field-rename')
      const broken = await selecting.iterate()
      expect(broken.status).toBe('fail')
      const failed = broken.plans.filter((p) => p.state === 'failed').map((p) => p.name)
      expect(failed).toEqual(expect.arrayContaining(['checkout-flow', 'orders-contract']))
      expect(broken.selection?.plans.filter((p) => p.source === 'session')).toEqual([])

      // The revert leaves no change against the base: only the plans that failed run, and they pass.
      await shop.git('checkout', '--', 'orders')
      const fixed = await selecting.iterate()
      expect(fixed.selection?.plans).toEqual(
        [...failed].sort().map((name) => ({
          name,
          source: 'session',
          reason: 'failed in iteration #1 and has not passed since; the change no longer selects it',
        })),
      )
      expect(fixed.plans.map((p) => [p.name, p.state])).toEqual(
        [...failed].sort().map((name) => [name, 'passed']),
      )
      expect(fixed.status).toBe('pass')
      expect(validateVerdict(fixed)).toEqual({ valid: true, errors: [] })
      expect(renderCompact(fixed)).toMatch(
        new RegExp(
          `^#2 .*ran again ${[...failed].sort().join(', ')} \\(failed before, not passed since\\)`,
          'm',
        ),
      )

      // Passed: the next iteration, still with nothing changed, runs nothing.
      const after = await selecting.iterate()
      expect(after.selection?.plans).toEqual([])
      expect(after.summary.checks.total).toBe(0)
    })
  }, 180_000)

  it('keeps the rest warm when an edit keeps a candidate service from starting, and starts it once fixed', async () => {
    await ownSession({ planNames: ['orders-contract'] }, async (broken) => {
      expect((await broken.iterate()).status).toBe('pass')
      const before = broken.processes()
      await writeFile(path.join(shop.root, 'orders/server.js'), 'this is not javascript(\n', { flag: 'a' })
      const failed = await broken.iterate()
      expect(failed.status).toBe('error')
      expect(failed.errors).toEqual([
        expect.objectContaining({
          code: 'VIGIL_SANDBOX_START',
          message:
            'candidate sandbox, service orders: exited with code 1 before it was ready after a restart',
        }),
      ])
      expect(failed.errors[0]!.logTail?.some((l) => l.includes('SyntaxError'))).toBe(true)
      expect(renderCompact(failed)).toMatch(/^ {6}\| .*SyntaxError/m)
      // Nothing else was stopped: the baseline and the other candidate services run on.
      const after = broken.processes()
      expect(after.baseline).toEqual(before.baseline)
      expect(after.candidate.orders).toBeUndefined()
      for (const name of ['catalog', 'payments', 'shipping'])
        expect(after.candidate[name], name).toBe(before.candidate[name])

      await shop.git('checkout', '--', 'orders')
      const fixed = await broken.iterate()
      expect(fixed.errors).toEqual([])
      expect(fixed.status).toBe('pass')
      expect(fixed.session).toMatchObject({ restarted: ['orders'], rebuilt: [] })
      expect(fixed.session?.reused).toEqual(expect.arrayContaining(['baseline', 'catalog', 'pools']))
      expect(broken.processes().baseline).toEqual(before.baseline)
    })
  }, 180_000)

  it('starts afresh on new ports after a restart whose port another process took', async () => {
    await ownSession({ planNames: ['orders-contract'] }, async (taken) => {
      const squatter = net.createServer()
      try {
        let url = ''
        const first = await taken.iterate({
          reporter: { onRunStart: (info) => void (url = info.sandboxes[0]?.services.orders ?? url) },
        })
        expect(first.status).toBe('pass')
        const port = Number(new URL(url).port)
        const baseline = taken.processes().baseline
        // Taken the moment the old orders lets it go, before the restarted one binds it.
        let squatting = true
        const squat = (async () => {
          while (squatting) {
            const bound = await new Promise<boolean>((resolve) => {
              squatter.once('error', () => resolve(false))
              squatter.listen(port, '127.0.0.1', () => resolve(true))
            })
            if (bound) return
            await new Promise((resolve) => setTimeout(resolve, 2))
          }
        })()
        await shop.edit('orders/server.js', '// ', '//  ')
        const failed = await taken.iterate()
        squatting = false
        await squat
        expect(failed.errors).toEqual([
          expect.objectContaining({
            code: 'VIGIL_SANDBOX_START',
            message: expect.stringContaining(`another process took its port ${port}`),
          }),
        ])
        // Everything was stopped; the next iteration starts the sandboxes on new ports.
        expect(taken.processes()).toEqual({ candidate: {}, baseline: {} })
        const again = await taken.iterate()
        expect(again.status).toBe('pass')
        expect(again.session?.rebuilt).toEqual([{ part: 'sandboxes', reason: 'the session started' }])
        expect(Object.values(taken.processes().baseline)).not.toEqual(Object.values(baseline))
      } finally {
        squatter.close()
      }
    })
  }, 180_000)

  it('rebuilds a baseline whose service died, and says why', async () => {
    const pid = session.processes().baseline.payments!
    process.kill(-pid, 'SIGKILL')
    await waitFor(() => session.processes().baseline.payments === undefined)
    const verdict = await session.iterate()
    expect(verdict.session?.rebuilt).toEqual(
      expect.arrayContaining([
        {
          part: 'baseline:payments',
          reason: expect.stringMatching(/^baseline service payments died \(pid \d+\)$/),
        },
      ]),
    )
    expect(verdict.session?.reused).not.toContain('baseline')
    expect(verdict.session?.reused).not.toContain('noise')
    expect(verdict.status).toBe('pass')
    expect(session.processes().baseline.payments).toBeGreaterThan(0)
  }, 180_000)

  it('rebuilds when the base moves with a migration or the config changes; other files only move the baseline', async () => {
    const before = session.processes()
    await shop.edit('README.md', '#', '# ')
    await shop.git('commit', '-q', '-am', 'docs')
    const docs = await session.iterate()
    // No dependency read the README: the baseline's worktree moves, every process and database is kept.
    expect(docs.session?.rebuilt).toEqual(
      expect.arrayContaining([
        {
          part: 'baseline:worktree',
          reason: expect.stringMatching(/^HEAD moved from \w+ to \w+; no service's files changed$/),
        },
      ]),
    )
    expect(docs.session?.rebuilt.map((r) => r.part)).not.toContain('sandboxes')
    expect(session.processes()).toEqual(before)

    // A migration is what the database's template was made from: the sandboxes are rebuilt.
    await writeFile(
      path.join(shop.root, 'db/migrations/003_note.sql'),
      'ALTER TABLE orders ADD COLUMN note text;\n',
    )
    await shop.git('add', '-A')
    await shop.git('commit', '-q', '-m', 'note')
    const moved = await session.iterate()
    expect(moved.session?.rebuilt).toEqual(
      expect.arrayContaining([
        { part: 'baseline', reason: expect.stringMatching(/^HEAD moved from \w+ to \w+$/) },
        {
          part: 'sandboxes',
          reason:
            "db/migrations/003_note.sql changed with it, which no service's files claim and a dependency read when it started",
        },
      ]),
    )
    const config = path.join(shop.root, 'vigil.config.yaml')
    await writeFile(config, (await readFile(config, 'utf8')).replace('concurrency: 4', 'concurrency: 3'))
    const changed = await session.iterate()
    expect(changed.session?.rebuilt).toEqual(
      expect.arrayContaining([{ part: 'sandboxes', reason: 'vigil.config.yaml changed' }]),
    )
    expect(changed.status).toBe('pass')
  }, 240_000)
})
