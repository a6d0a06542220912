/**
 * The resources kind on real process sandboxes of the failure-mode fixtures: a cache service with the
 * hole `leak` (every request's item kept forever) on the candidate and its bounded twin on the baseline.
 * The leak is caught by the limit relative to the baseline and by the slope, while a generous absolute
 * limit alone lets it through; the bounded cache passes all three.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { KindTester } from '../../../support/kind-tester.js'
import { failureModeSandboxes } from '../../../support/failure-modes.js'
import { leakSlope } from '../../../../engine/api/leak.js'
import { parseSize } from '../../../../plans/size.js'

const SERVICES = { cache: { file: 'cache.js', env: { HOLE: 'none' } } }
const leaking = failureModeSandboxes(SERVICES, { default: 'cache', candidate: { cache: { HOLE: 'leak' } } })
// The candidate's service is started by the sandbox (1), then copied for the measurement (2), then for the
// second measurement (3): only the first measured copy leaks.
const startsDir = mkdtempSync(path.join(os.tmpdir(), 'vigil-resources-starts-'))
afterAll(() => rmSync(startsDir, { recursive: true, force: true }))
const once = failureModeSandboxes(SERVICES, {
  default: 'cache',
  candidate: {
    cache: { HOLE: 'leak-once', LEAK_START: '2', STARTS: path.join(startsDir, 'starts') },
  },
})
const side =
  (session: () => Promise<{ candidate: unknown; baseline?: unknown }>, which: 'candidate' | 'baseline') =>
  async () =>
    (await session())[which] as never

const block = {
  request: 'GET /items/{{index}}',
  requests: 2000,
  concurrency: 4,
  limits: { rss: '1GB', fds: 200, threads: 64 },
  relative: { rss: 1.25 },
  leak: '12MB',
}

describe('resources', () => {
  const tester = new KindTester({
    kind: 'resources',
    testTimeout: 120_000,
    quiet: ['measured', 'unconfirmed'],
  })
  tester.run('resources', {
    valid: [
      {
        name: 'the bounded cache stays within the absolute, relative and slope limits',
        block,
        candidate: side(leaking, 'baseline'),
        baseline: side(leaking, 'baseline'),
        assert(run) {
          // Two, or four when a comparison failed once and was measured again (not counted: a valid run).
          const measured = run.reports.filter((f) => f.messageId === 'measured')
          expect([2, 4]).toContain(measured.length)
          const details = measured[0]!.evidence?.details as Record<
            string,
            { samples: unknown[]; rssByRequests: unknown[] }
          >
          // The JSON verdict keeps the series, for a reader to plot.
          expect(Object.values(details)[0]!.samples.length).toBeGreaterThan(2)
          expect(Object.values(details)[0]!.rssByRequests.length).toBeGreaterThanOrEqual(100)
        },
      },
      {
        name: 'a comparison that fails once and not on a second measurement in the opposite order is not counted',
        block,
        candidate: side(once, 'candidate'),
        baseline: side(once, 'baseline'),
        assert(run) {
          expect(run.reports.filter((f) => f.messageId === 'measured')).toHaveLength(4)
          // The copy that leaks grows faster than the baseline's every time; its peak mostly, not always.
          const unconfirmed = run.findings.filter((f) => f.messageId === 'unconfirmed')
          expect(unconfirmed.some((f) => f.message.startsWith('cache: the leak slope limit failed'))).toBe(
            true,
          )
          for (const f of unconfirmed)
            expect(f.message).toMatch(
              /measured first, candidate first; .* measured again, baseline first\): not counted\.$/,
            )
        },
      },
    ],
    invalid: [
      {
        name: 'the leak: caught by the relative limit and the slope, not by the generous absolute limit',
        block,
        candidate: side(leaking, 'candidate'),
        baseline: side(leaking, 'baseline'),
        findings: [
          { messageId: 'leak', data: { side: 'candidate', service: 'cache', allowed: '12.0 MB' } },
          { messageId: 'relative', data: { metric: 'rss', allowed: 1.25 } },
        ],
        assert(run) {
          expect(run.findings.some((f) => f.messageId === 'limit')).toBe(false)
          // Both held on the second measurement, the baseline first, and say so.
          for (const f of run.findings.filter((f) => f.severity === 'error'))
            expect(f.evidence?.summary.find((l) => l.label === 'confirmed')?.value).toMatch(
              /measured first, candidate first; .* measured again, baseline first$/,
            )
        },
      },
    ],
    rejected: [
      {
        name: 'no limit of any sort',
        block: { request: 'GET /items/1' },
        errors: [expect.stringMatching(/^0:1 resources: /)],
      },
    ],
  })
})

describe('leak slope', () => {
  it('sees through garbage-collection saw-teeth: a flat floor is no leak, a rising one is', () => {
    // Memory climbs 3 MB over each 100 requests and a collection drops it back: the floor stays flat.
    const teeth = Array.from({ length: 200 }, (_, i) => ({
      requests: (i + 1) * 10,
      rss: 50e6 + ((i % 10) / 10) * 3e6,
    }))
    expect(Math.abs(leakSlope(teeth)!.bytesPer1000)).toBeLessThan(0.1e6)
    // The same teeth on a floor rising 4 MB per 1000 requests, with one late spike.
    const rising = teeth.map((p) => ({
      ...p,
      rss: p.rss + p.requests * 4e3 + (p.requests === 1900 ? 80e6 : 0),
    }))
    expect(leakSlope(rising)!.bytesPer1000).toBeCloseTo(4e6, -5)
  })

  it('reads sizes', () => {
    expect(parseSize('300MB')).toBe(300e6)
    expect(parseSize('1.5 GiB')).toBe(1.5 * 1024 ** 3)
    expect(() => parseSize('lots')).toThrow(/not a size/)
  })
})
