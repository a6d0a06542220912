/**
 * The plans a warm session selects again: failed or errored ones, until they pass; not those it selects
 * anyway, and not those the catalog no longer has.
 */
import { describe, expect, it } from 'vitest'
import { UnresolvedPlans } from '../../../engine/dev/unresolved.js'
import type { PlanResult, PlanState, VerdictSelection } from '../../../engine/verdict.js'

const plan = (name: string, state: PlanState): PlanResult => ({
  name,
  title: name,
  file: `plans/${name}.md`,
  blocking: true,
  state,
  durationMs: 1,
  checks: [],
})
const selection = (...names: string[]): VerdictSelection => ({
  selector: 'rules',
  plans: names.map((name) => ({ name, source: 'paths', reason: 'orders/** matched orders/server.js' })),
})
const again = (s: VerdictSelection) => s.plans.filter((p) => p.source === 'session').map((p) => p.name)

describe('UnresolvedPlans', () => {
  it('adds what failed or errored, in name order, with the iteration it first failed in', () => {
    const plans = new UnresolvedPlans()
    plans.record(2, [plan('events', 'errored'), plan('contract', 'failed'), plan('flow', 'passed')])
    plans.record(3, [plan('contract', 'failed')])
    const s = plans.addTo(selection(), new Set(['events', 'contract', 'flow']))
    expect(s.plans).toEqual([
      {
        name: 'contract',
        source: 'session',
        reason: 'failed in iteration #2 and has not passed since; the change no longer selects it',
      },
      {
        name: 'events',
        source: 'session',
        reason: 'failed in iteration #2 and has not passed since; the change no longer selects it',
      },
    ])
  })

  it('leaves a plan the change selects as the change selects it, and forgets one that passed', () => {
    const plans = new UnresolvedPlans()
    plans.record(1, [plan('contract', 'failed'), plan('flow', 'failed'), plan('load', 'failed')])
    plans.record(2, [plan('flow', 'passed'), plan('load', 'warned'), plan('contract', 'skipped')])
    const s = plans.addTo(selection('contract'), new Set(['contract', 'flow', 'load']))
    expect(s.plans.map((p) => [p.name, p.source])).toEqual([['contract', 'paths']])
    // Skipped (its checks deferred) says nothing: still unresolved when the change stops selecting it.
    expect(again(plans.addTo(selection(), new Set(['contract', 'flow', 'load'])))).toEqual(['contract'])
  })

  it('forgets a plan the catalog no longer has, and returns the selection itself when nothing is added', () => {
    const plans = new UnresolvedPlans()
    plans.record(1, [plan('old-name', 'failed')])
    const s = selection('flow')
    expect(plans.addTo(s, new Set(['flow', 'new-name']))).toBe(s)
    // Forgotten for good: the name coming back later is another plan.
    expect(again(plans.addTo(selection(), new Set(['old-name'])))).toEqual([])
  })
})
