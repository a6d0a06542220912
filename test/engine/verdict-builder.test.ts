import { describe, expect, it } from 'vitest'
import { buildVerdict, planState, summarize, verdictStatus } from '../../engine/verdict-builder.js'
import type { CheckResult, PlanResult } from '../../engine/verdict.js'

const loc = { file: 'plans/p.md', line: 1 }
const check = (state: CheckResult['state']): CheckResult => {
  const base = { plan: 'p', check: state, kind: 'e2e', location: loc }
  if (state === 'skipped') return { ...base, state, note: 'n' }
  if (state === 'errored')
    return { ...base, state, durationMs: 1, error: { name: 'Error', message: 'x' }, findings: [] }
  return { ...base, state, durationMs: 1, findings: [] }
}
const planResult = (name: string, blocking: boolean, states: CheckResult['state'][]): PlanResult => {
  const checks = states.map(check)
  return {
    name,
    title: name,
    file: `plans/${name}.md`,
    blocking,
    state: planState(blocking, checks),
    durationMs: 1,
    checks,
  }
}

describe('verdict', () => {
  it.each([
    [true, ['passed', 'skipped'], 'passed'],
    [true, ['skipped'], 'skipped'],
    [true, [], 'skipped'],
    [true, ['passed', 'failed'], 'failed'],
    [true, ['failed', 'errored'], 'errored'],
    [false, ['failed'], 'warned'],
    [false, ['errored'], 'warned'],
    [false, ['passed'], 'passed'],
  ] as const)('blocking=%s %j → %s', (blocking, states, expected) => {
    expect(planState(blocking, states.map(check))).toBe(expected)
  })

  it.each([
    [{ plans: [planResult('a', true, ['passed'])] }, 'pass', 0],
    [{ plans: [planResult('a', false, ['failed'])] }, 'pass', 0],
    [{ plans: [planResult('a', true, ['failed'])] }, 'fail', 1],
    [{ plans: [planResult('a', true, ['errored'])] }, 'error', 3],
    [{ plans: [planResult('a', true, ['passed'])], cancelled: true }, 'error', 3],
    [
      { plans: [planResult('a', true, ['failed'])], errors: [{ code: 'VIGIL_PLAN', message: 'bad' }] },
      'error',
      2,
    ],
    [
      {
        plans: [],
        errors: [
          { code: 'VIGIL_PLAN', message: 'p' },
          { code: 'VIGIL_INFRASTRUCTURE', message: 's' },
        ],
      },
      'error',
      3,
    ],
  ] as const)('%# status and exit code', (input, status, exitCode) => {
    expect(verdictStatus(input as never)).toEqual({ status, exitCode })
  })

  it('counts plans and checks, warnings apart from failures', () => {
    const plans = [
      planResult('a', true, ['passed', 'failed', 'skipped']),
      planResult('b', false, ['failed', 'errored', 'passed']),
    ]
    expect(summarize(plans)).toEqual({
      plans: { total: 2, passed: 0, failed: 1, errored: 0, skipped: 0, warned: 1 },
      checks: { total: 6, passed: 2, failed: 1, errored: 0, skipped: 1, warned: 2 },
    })
  })

  it('builds a complete verdict', () => {
    const verdict = buildVerdict({
      startedAt: new Date('2024-01-02T03:04:05.000Z'),
      durationMs: 12.6,
      identity: { runId: 'r1', seed: 1 },
      plans: [planResult('a', true, ['passed'])],
      timings: [{ phase: 'plan:a', durationMs: 3.4 }],
    })
    expect(verdict).toMatchObject({
      schemaVersion: 1,
      status: 'pass',
      exitCode: 0,
      startedAt: '2024-01-02T03:04:05.000Z',
      durationMs: 13,
      errors: [],
      timings: [{ phase: 'plan:a', durationMs: 3 }],
    })
    expect(verdict).not.toHaveProperty('cancelled')
  })
})
