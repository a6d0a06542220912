/**
 * `resources:` on load checks, on real process sandboxes of the failure-mode cache: the candidate keeps every
 * request (`HOLE=leak-requests`), the baseline keeps none. Under the same A/B load the leak is caught by the
 * limit relative to the baseline and by the slope, not by a generous absolute limit; the same thresholds pass
 * the bounded cache. The samples of both sides are kept as evidence.
 */
import { describe, expect } from 'vitest'
import { KindTester } from '../../../support/kind-tester.js'
import { failureModeSandboxes } from '../../../support/failure-modes.js'

const SERVICES = { cache: { file: 'cache.js', env: { HOLE: 'none' } } }
const leaking = failureModeSandboxes(SERVICES, {
  default: 'cache',
  candidate: { cache: { HOLE: 'leak-requests' } },
})
const side =
  (session: () => Promise<{ candidate: unknown; baseline?: unknown }>, which: 'candidate' | 'baseline') =>
  async () =>
    (await session())[which] as never

const block = {
  request: 'GET /items/1',
  connections: 4,
  duration: '4s',
  // Generous: latency is not what this check is about, but the A/B rounds load both sides alike.
  regression: { p95: 50, rounds: 4, sequential: false },
  resources: { limits: { rss: '1GB', fds: 500 }, relative: { rss: 1.25 }, leak: '2MB' },
}

describe('load resources', () => {
  const tester = new KindTester({
    kind: 'load',
    testTimeout: 120_000,
    quiet: ['measured', 'decision', 'resources-measured', 'engine-note'],
  })
  tester.run('load', {
    valid: [
      {
        name: 'a cache that keeps nothing stays within the absolute, relative and slope limits under load',
        block,
        candidate: side(leaking, 'baseline'),
        baseline: side(leaking, 'baseline'),
        assert(run) {
          const measured = run.reports.filter((r) => r.messageId === 'resources-measured')
          expect(measured.map((r) => r.data?.side)).toEqual(['candidate', 'baseline'])
          const details = measured[0]!.evidence?.details as Record<string, { samples: unknown[] }>
          // A few samples a second over the load: the JSON verdict keeps them, for a reader to plot.
          expect(details.candidate!.samples.length).toBeGreaterThan(10)
        },
      },
    ],
    invalid: [
      {
        name: 'a cache that keeps every request: caught by the relative limit and the slope, not the absolute one',
        block,
        candidate: side(leaking, 'candidate'),
        baseline: side(leaking, 'baseline'),
        findings: [
          { messageId: 'leak', data: { side: 'candidate', service: 'cache', allowed: '2.0 MB' } },
          { messageId: 'relative', data: { metric: 'rss', allowed: 1.25, traffic: 'load' } },
        ],
        assert(run) {
          expect(run.findings.some((f) => f.messageId === 'limit')).toBe(false)
        },
      },
    ],
    rejected: [
      {
        name: 'a size that is not one',
        block: { ...block, resources: { limits: { rss: 'lots' } } },
        errors: [expect.stringMatching(/^\d+:\d+ load: resources\.limits\.rss must match .*, got "lots"$/)],
      },
    ],
  })
})
