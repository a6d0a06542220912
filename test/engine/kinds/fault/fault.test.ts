/**
 * The fault kind on real process sandboxes of the failure-mode fixtures: a checkout service calling
 * payments, with the hole `no-upstream-timeout` (no timeout, unbounded retries) on the candidate and the
 * fixed twin on the baseline. Each fault type through the proxy on the edge; the fault reaches only the
 * check's copy of checkout; a baseline that mishandles the fault too makes the failure pre-existing.
 */
import { describe, expect, it } from 'vitest'
import { lintFault } from '../../../../engine/kinds/fault/spec.js'
import { KindTester } from '../../../support/kind-tester.js'
import { failureModeSandboxes } from '../../../support/failure-modes.js'

const SERVICES = {
  payments: { file: 'payments.js' },
  checkout: { file: 'checkout.js', env: { PAYMENTS_URL: '{{services.payments.url}}', HOLE: 'none' } },
}
const holed = failureModeSandboxes(SERVICES, {
  default: 'checkout',
  candidate: { checkout: { HOLE: 'no-upstream-timeout' } },
})
const fixed = failureModeSandboxes(SERVICES, { default: 'checkout' })
const holedBoth = failureModeSandboxes(SERVICES, {
  default: 'checkout',
  candidate: { checkout: { HOLE: 'no-upstream-timeout' } },
  baseline: { checkout: { HOLE: 'no-upstream-timeout' } },
})

const checkout = (expect: object, name = 'checkout') => ({
  name,
  request: { method: 'POST', path: '/checkout', json: { sku: 'tea' } },
  timeout: '6s',
  expect,
})
const recovery = [
  checkout({ status: 201, json: { '/payment/status': 'captured' } }, 'checkout after the fault'),
]
const unavailable = {
  edge: 'checkout -> payments',
  fault: { status: 503 },
  steps: [checkout({ status: 503, json: { '/error': { contains: 'unavailable' } }, maxMs: 5000 })],
  attempts: { max: 3 },
  recovery,
}
const hanging = {
  edge: 'checkout -> payments',
  fault: 'hang',
  steps: [checkout({ status: 504, maxMs: 5000 })],
  recovery,
}

const side =
  (session: () => Promise<{ candidate: unknown; baseline?: unknown }>, which: 'candidate' | 'baseline') =>
  async () =>
    (await session())[which] as never

describe('fault', () => {
  const tester = new KindTester({ kind: 'fault', testTimeout: 90_000, quiet: ['applied'] })
  tester.run('fault', {
    valid: [
      {
        name: 'the fixed service answers a clear 503 with bounded retries, and recovers',
        block: unavailable,
        candidate: side(fixed, 'candidate'),
        baseline: side(fixed, 'baseline'),
        assert(run) {
          const applied = run.reports.filter((r) => r.messageId === 'applied')
          expect(applied.map((r) => r.data?.side).sort()).toEqual(['baseline', 'candidate'])
          // Three attempts: the first and two retries, each faulted.
          expect(applied[0]!.data).toMatchObject({ attempts: 3, faulted: 3 })
        },
      },
      {
        name: 'the fixed service times out on a payments service that never answers',
        block: hanging,
        candidate: side(fixed, 'candidate'),
        baseline: null,
      },
      {
        name: 'a 429 with Retry-After for the first request only: the retry succeeds',
        block: {
          edge: 'checkout -> payments',
          fault: { status: 429, retryAfter: 1, times: 1 },
          steps: [checkout({ status: 201 })],
          attempts: { min: 2, max: 2 },
        },
        candidate: side(fixed, 'candidate'),
        baseline: null,
      },
      {
        name: 'added latency under the timeout passes',
        block: {
          edge: 'checkout -> payments',
          fault: { latency: '200ms' },
          steps: [checkout({ status: 201 })],
        },
        candidate: side(fixed, 'candidate'),
        baseline: null,
      },
    ],
    invalid: [
      {
        name: 'no upstream timeout: retries hammer a 503ing payments service, and checkout hangs',
        block: unavailable,
        candidate: side(holed, 'candidate'),
        baseline: side(holed, 'baseline'),
        findings: [
          { messageId: 'network', step: 'checkout', data: { service: 'checkout' } },
          { messageId: 'attempts-max', data: { edge: 'checkout -> payments', expected: 3 } },
        ],
        assert(run) {
          const attempts = run.findings.find((f) => f.messageId === 'attempts-max')!
          expect(attempts.actual as number).toBeGreaterThan(3)
          expect(attempts.evidence?.summary.map((l) => l.label)).toEqual(['edge', 'fault', 'proxy'])
        },
      },
      {
        name: 'no upstream timeout: a payments service that never answers hangs checkout',
        block: hanging,
        candidate: side(holed, 'candidate'),
        baseline: null,
        findings: [{ messageId: 'network', step: 'checkout' }],
        assert(run) {
          const line = run.findings[0]!.evidence?.summary.find((l) => l.label === 'fault')
          expect(line?.value).toMatch(/checkout -> payments: no answer; the proxy saw 1 attempts/)
        },
      },
      {
        name: 'a baseline with the same hole makes the failures pre-existing',
        block: unavailable,
        candidate: side(holedBoth, 'candidate'),
        baseline: side(holedBoth, 'baseline'),
        findings: [
          { messageId: 'network', severity: 'warning', step: 'checkout' },
          { messageId: 'attempts-max', severity: 'warning' },
        ],
      },
    ],
    rejected: [
      {
        name: 'a fault that is not one of the kinds',
        block: { edge: 'checkout -> payments', fault: 'slow', steps: [checkout({})] },
        errors: [expect.stringMatching(/^2:8 fault: /)],
      },
    ],
    errored: [
      {
        name: 'an edge the caller does not have',
        block: { edge: 'payments -> checkout', fault: 'reset', steps: [checkout({})] },
        candidate: side(fixed, 'candidate'),
        baseline: null,
        error: /payments does not call checkout/,
      },
    ],
  })
})

describe('fault lint', () => {
  it('names the mistakes a schema cannot: two faults at once, a stray retryAfter, min above max, a self edge', () => {
    const problems = lintFault({
      edge: 'checkout -> checkout',
      fault: { latency: '1s', reset: true, retryAfter: 2 },
      steps: [],
      attempts: { min: 3, max: 1 },
    })
    expect(problems.map((p) => `${p.pointer} ${p.message}`)).toEqual([
      '/edge edge "checkout -> checkout": a service calling itself is no edge',
      '/fault fault: name exactly one of status, latency, hang, reset, slowBody (found latency, reset)',
      '/fault fault: retryAfter and body go with a status',
      '/attempts attempts: min 3 is above max 1',
    ])
    expect(
      lintFault({ edge: 'checkout -> payments', fault: { status: 429, retryAfter: 1 }, steps: [] }),
    ).toEqual([])
  })
})
