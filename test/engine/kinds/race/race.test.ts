/**
 * The race kind on real process sandboxes of the failure-mode fixtures: a shop selling one limited item,
 * with the check-then-decrement hole `oversell` on the candidate and the atomic twin on the baseline.
 * Concurrent purchases of the last items oversell the holed shop; one request at a time never does, so
 * the hole is caught for the right reason.
 */
import { describe, expect, it } from 'vitest'
import { KindTester } from '../../../support/kind-tester.js'
import { failureModeSandboxes } from '../../../support/failure-modes.js'
import { seededRandom } from '../../../../engine/api/random.js'
import { shuffled } from '../../../../engine/kinds/race/release.js'

const SERVICES = { shop: { file: 'stock.js', env: { HOLE: 'none' } } }
const holed = failureModeSandboxes(SERVICES, { default: 'shop', candidate: { shop: { HOLE: 'oversell' } } })
const holedBoth = failureModeSandboxes(SERVICES, {
  default: 'shop',
  candidate: { shop: { HOLE: 'oversell' } },
  baseline: { shop: { HOLE: 'oversell' } },
})
const side =
  (session: () => Promise<{ candidate: unknown; baseline?: unknown }>, which: 'candidate' | 'baseline') =>
  async () =>
    (await session())[which] as never

const race = (concurrency: number) => ({
  setup: [{ name: 'three left', request: { method: 'POST', path: '/reset', json: { stock: 3 } } }],
  request: { method: 'POST', path: '/buy', json: { sku: 'limited-tea' } },
  concurrency,
  rounds: 4,
  invariants: [
    {
      name: 'never oversold',
      request: 'GET /stock',
      expect: { json: { '/stock': { gte: 0 }, '/sold': { lte: 3 } } },
    },
  ],
})

describe('race', () => {
  const tester = new KindTester({ kind: 'race', testTimeout: 60_000, quiet: ['rounds'] })
  tester.run('race', {
    valid: [
      {
        name: 'the atomic reservation sells exactly the stock under 10 concurrent purchases',
        block: race(10),
        candidate: side(holed, 'baseline'),
        baseline: null,
        assert(run) {
          expect(run.reports.find((r) => r.messageId === 'rounds')?.data).toMatchObject({
            broken: 0,
            rounds: 4,
          })
        },
      },
      {
        name: 'the check-then-decrement hole is not caught with one request at a time',
        block: race(1),
        candidate: side(holed, 'candidate'),
        baseline: side(holed, 'baseline'),
      },
    ],
    invalid: [
      {
        name: 'the check-then-decrement hole oversells under 10 concurrent purchases',
        block: race(10),
        candidate: side(holed, 'candidate'),
        baseline: side(holed, 'baseline'),
        findings: [
          { messageId: 'broken', step: 'never oversold', data: { rounds: 4, concurrency: 10, round: 1 } },
        ],
        assert(run) {
          const finding = run.findings[0]!
          expect(finding.message).toMatch(
            /rounds of 10 concurrent POST \/buy broke an invariant; round 1 \(seed \d+\)/,
          )
          const labels = finding.evidence?.summary.map((l) => l.label)
          expect(labels).toEqual(['round', 'requests', 'responses', 'invariant'])
          // More than three purchases succeeded in the broken round.
          const responses = finding.evidence?.summary.find((l) => l.label === 'responses')?.value
          expect(Number(/201 ×(\d+)/.exec(responses ?? '')?.[1])).toBeGreaterThan(3)
          expect(finding.evidence?.reproduce).toMatch(/^for i in \$\(seq 10\); do curl -sS -X POST/)
          const baseline = run.reports.find((r) => r.messageId === 'rounds' && r.data?.side === 'baseline')
          expect(baseline?.data).toMatchObject({ broken: 0 })
        },
      },
      {
        name: 'a baseline with the same hole makes the broken rounds pre-existing',
        block: race(10),
        candidate: side(holedBoth, 'candidate'),
        baseline: side(holedBoth, 'baseline'),
        findings: [{ messageId: 'broken', severity: 'warning' }],
      },
    ],
    rejected: [
      {
        name: 'no invariants',
        block: { request: 'POST /buy', concurrency: 5 },
        errors: ['0:1 race: missing required property "invariants"'],
      },
    ],
  })
})

describe('release order', () => {
  it('is the same for the same seed and differs for another', () => {
    const a = shuffled(10, seededRandom(7))
    expect(shuffled(10, seededRandom(7))).toEqual(a)
    expect(shuffled(10, seededRandom(8))).not.toEqual(a)
    expect([...a].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
  })
})
