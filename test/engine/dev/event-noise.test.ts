/**
 * Event checks in a warm session on a git copy of the sample shop: the first iteration learns the
 * baseline's noise from two observations; the next ones observe the baseline once, say that they reused the
 * noise, still treat the ids and timestamps of `order.created` as noise, and still catch a renamed field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DevSession } from '../../../engine/dev/session.js'
import type { Verdict } from '../../../engine/verdict.js'
import { gitShop, type GitShop } from './warm-shop.js'

let shop: GitShop
let session: DevSession

beforeAll(async () => {
  shop = await gitShop()
  session = new DevSession({ cwd: shop.root, planNames: ['order-events'] })
}, 60_000)
afterAll(async () => {
  await session?.stop()
  await shop?.remove()
}, 60_000)

const findings = (v: Verdict) =>
  v.plans
    .flatMap((p) => p.checks)
    .flatMap((c) => ('findings' in c ? c.findings : []))
    .map((f) => `${f.severity} ${f.messageId} ${f.pointer ?? ''}`.trim())
    .sort()

describe('event checks in a warm session', () => {
  it('reuse the noise of the first iteration and still find a renamed field', async () => {
    const first = await session.iterate()
    expect(first.errors).toEqual([])
    expect(first.status).toBe('pass')
    expect(first.session?.reused).not.toContain('noise')

    // Noise reused: the baseline's order ids and timestamps differ from the candidate's, and are not changes.
    const again = await session.iterate()
    expect(again.status).toBe('pass')
    expect(again.session?.reused).toContain('noise')
    expect(findings(again)).toEqual([])

    await shop.apply('event-field-rename')
    const renamed = await session.iterate()
    expect(renamed.session?.restarted).toEqual(['orders'])
    expect(renamed.session?.reused).toContain('noise')
    expect(renamed.status).toBe('fail')
    expect(findings(renamed)).toContain('error field-removed /totalCents')
    expect(findings(renamed).filter((f) => f.includes('value-changed'))).toEqual([])
  }, 240_000)
})
