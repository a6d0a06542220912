/**
 * `vigil dev --all` schedules the load checks as `vigil run` does, on a git copy of the sample shop with
 * real services: nothing is deferred, the load checks' measured rounds start only once every other check
 * has ended (exclusive rounds), and each load check decides sequentially — it records the rounds it ran
 * and why it stopped, within the rounds its plan allows.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { DevSession } from '../../../engine/dev/session.js'
import type { CheckResult } from '../../../engine/verdict.js'
import { gitShop, type GitShop } from './warm-shop.js'

let shop: GitShop
let session: DevSession

beforeAll(async () => {
  shop = await gitShop()
  session = new DevSession({
    cwd: shop.root,
    planNames: ['checkout-load', 'orders-contract', 'catalog-contract'],
    all: true,
  })
}, 60_000)
afterAll(async () => {
  await session?.stop()
  await shop?.remove()
}, 60_000)

it('runs the load checks with exclusive measured rounds and a sequential decision', async () => {
  const rounds: number[] = []
  const ended: number[] = []
  const verdict = await session.iterate({
    reporter: {
      onCheckProgress(event) {
        if (event.kind === 'load' && /^round /.test(event.note ?? '')) rounds.push(performance.now())
      },
      onCheckEnd(result: CheckResult) {
        if (result.kind !== 'load') ended.push(performance.now())
      },
    },
  })
  expect(verdict.errors).toEqual([])
  expect(verdict.session).toMatchObject({ complete: true, deferred: [] })
  const load = verdict.plans.flatMap((p) => p.checks).filter((c) => c.kind === 'load')
  expect(load).toHaveLength(2)
  // Every other check had ended before the first measured round.
  expect(ended.length).toBeGreaterThan(0)
  expect(rounds.length).toBeGreaterThanOrEqual(2)
  expect(Math.min(...rounds)).toBeGreaterThan(Math.max(...ended))
  for (const check of load) {
    expect(check.state, check.check).not.toMatch(/skipped|errored/)
    const decision = 'findings' in check ? check.findings.find((f) => f.messageId === 'decision') : undefined
    expect(decision, check.check).toBeDefined()
    const details = (decision!.evidence as { details: Record<string, unknown> }).details
    expect(details.sequential).toBe(true)
    expect(details.stoppedBecause).toMatch(/^(clear-pass|clear-regression|under-gap-floor|rounds-exhausted)$/)
    expect(details.rounds as number).toBeGreaterThanOrEqual(1)
    // The shop's plan: 2 s in 16 rounds of 125 ms per side.
    expect(details.plannedRounds).toBe(16)
  }
}, 240_000)
