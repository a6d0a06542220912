import { describe, expect, it } from 'vitest'
import { extractVerdict, planErrored, planFromVerdict } from '../../engine/executors/kubernetes/result.js'
import type { Plan } from '../../plans/types.js'

const plan = {
  name: 'checkout',
  title: 'Checkout',
  file: 'plans/checkout.md',
  blocking: true,
  checks: [
    { name: 'creates an order', kind: 'e2e', location: { file: 'plans/checkout.md', line: 10, column: 1 } },
    { name: 'reads it back', kind: 'contract', location: { file: 'plans/checkout.md', line: 20, column: 1 } },
  ],
} as unknown as Plan

const verdict = {
  schemaVersion: 3,
  errors: [],
  plans: [
    {
      name: 'checkout',
      checks: [
        {
          check: 'creates an order',
          state: 'passed',
          durationMs: 3,
          findings: [],
          location: { file: '/workspace/plans/checkout.md' },
        },
      ],
    },
  ],
}

describe('Job results', () => {
  it('finds the verdict between the markers of a pod log mixed with stderr lines', () => {
    const log = `vigil: candidate sandbox: orders=http://orders.ns.svc:8080\n<<<vigil-verdict\n${JSON.stringify(verdict, null, 2)}\n\nvigil-verdict>>>\n`
    expect(extractVerdict(log)?.plans[0]?.name).toBe('checkout')
    expect(extractVerdict(JSON.stringify(verdict))?.schemaVersion).toBe(3)
  })

  it.each([
    ['no verdict', 'vigil: unexpected error'],
    ['truncated JSON', `<<<vigil-verdict\n${JSON.stringify(verdict).slice(0, 40)}`],
    ['another document', JSON.stringify({ schemaVersion: 1, plans: [], errors: [] })],
    [
      'a check with an unknown state',
      JSON.stringify({ ...verdict, plans: [{ name: 'x', checks: [{ check: 'a', state: 'exploded' }] }] }),
    ],
    ['empty', undefined],
  ])('treats %s as no result', (_what, text) => {
    expect(extractVerdict(text)).toBeUndefined()
  })

  it('merges the Job’s checks under the plan’s own identity; a check the Job did not report is errored', () => {
    const result = planFromVerdict(
      plan,
      extractVerdict(
        JSON.stringify({ ...verdict, errors: [{ code: 'VIGIL_X', message: 'orders unreachable' }] }),
      )!,
      1234.6,
    )
    expect(result).toMatchObject({
      name: 'checkout',
      file: 'plans/checkout.md',
      state: 'errored',
      durationMs: 1235,
    })
    expect(result.checks[0]).toMatchObject({
      state: 'passed',
      location: { file: 'plans/checkout.md', line: 10 },
      kind: 'e2e',
    })
    expect(result.checks[1]).toMatchObject({
      state: 'errored',
      error: { code: 'VIGIL_K8S_JOB', message: 'in-cluster run: orders unreachable' },
    })
  })

  it('a non-blocking plan whose Job failed only warns', () => {
    const result = planErrored(
      { ...plan, blocking: false } as Plan,
      'in-cluster run: Job x failed',
      ['last line'],
      10,
    )
    expect(result.state).toBe('warned')
    expect(result.checks.every((c) => c.state === 'errored' && c.error.logTail?.[0] === 'last line')).toBe(
      true,
    )
  })
})
