/**
 * The contract comparison on large bodies (about 1 MB of JSON, 10,000 elements) against a plain
 * deep-equality of the same bodies, in the same run. Bodies are generated from a fixed seed and
 * parsed from separate JSON texts, so no object is shared between the two sides.
 */
import { compareResponses, learnNoise, type ResponseSnapshot } from '../../engine/kinds/contract/compare.js'
import { diffJson } from '../../engine/api/comparison/diff.js'
import { PointerMatcher } from '../../engine/api/comparison/ignore.js'
import { median, seededRandom, timeRuns, type Bench } from './harness.js'

function body(seed: number, stamp: string): string {
  const next = seededRandom(seed)
  const statuses = ['pending', 'confirmed', 'shipped']
  const items = Array.from({ length: 10_000 }, (_, i) => ({
    id: `o${i}`,
    status: statuses[Math.floor(next() * 3)],
    totalCents: Math.floor(next() * 100_000),
    lines: [{ sku: `sku-${Math.floor(next() * 500)}`, quantity: 1 + Math.floor(next() * 5) }],
    createdAt: stamp,
  }))
  return JSON.stringify({ generatedAt: stamp, items })
}

/** The peer: the plain recursive deep-equality a hand-written comparison would use. */
function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false
    return true
  }
  if (Array.isArray(b)) return false
  const ka = Object.keys(a)
  if (ka.length !== Object.keys(b).length) return false
  for (const k of ka)
    if (!deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false
  return true
}

const snapshot = (text: string): ResponseSnapshot => ({
  status: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.parse(text),
})

export const bench: Bench = {
  name: 'contract comparison',
  async run(log) {
    const text = body(42, '2030-01-01T00:00:00.000Z')
    const baseline = snapshot(text)
    const candidate = snapshot(text)
    // A realistic pair: every element's createdAt and the top-level generatedAt differ (learned as noise).
    const secondary = snapshot(body(42, '2030-01-01T00:00:01.000Z'))
    const noisyCandidate = snapshot(body(42, '2030-01-01T00:00:02.000Z'))
    log(`bodies: ${(text.length / 1024 / 1024).toFixed(2)} MB, 10000 elements`)
    if (!deepEqual(baseline.body, candidate.body)) throw new Error('bench bodies differ')

    const runs = 31
    const peer = median(await timeRuns(() => deepEqual(baseline.body, candidate.body), runs, 3))
    const diff = median(await timeRuns(() => diffJson(baseline.body, candidate.body), runs, 3))
    const ignore = new PointerMatcher(['/**/id'])
    const compared = median(
      await timeRuns(() => compareResponses(baseline, candidate, undefined, { ignore: ['/**/id'] }), runs, 3),
    )
    const noise = learnNoise(baseline, secondary)
    const noisy = median(await timeRuns(() => compareResponses(baseline, noisyCandidate, noise), runs, 3))
    const learning = median(await timeRuns(() => learnNoise(baseline, secondary), runs, 3))
    if (diffJson(baseline.body, candidate.body, { ignore }).length !== 0)
      throw new Error('equal bodies reported different')
    // The walk must really reach the last element: one changed field there is found.
    const changed = snapshot(text)
    const last = (changed.body as { items: Array<{ lines: unknown[] }> }).items[9_999]!
    last.lines.push({ sku: 'x' })
    const found = compareResponses(baseline, changed, noise)
    if (found.length !== 1 || found[0]!.pointer !== '/items/9999/lines') {
      throw new Error(`missed a change: ${JSON.stringify(found)}`)
    }
    log(`deep-equality (peer):                     ${peer.toFixed(2)} ms`)
    log(`diff, equal bodies:                       ${diff.toFixed(2)} ms (${(diff / peer).toFixed(2)}x)`)
    log(
      `comparison with /**/id ignored:           ${compared.toFixed(2)} ms (${(compared / peer).toFixed(2)}x)`,
    )
    log(`comparison, 10,001 fields of noise:        ${noisy.toFixed(2)} ms (${(noisy / peer).toFixed(2)}x)`)
    log(
      `learning that noise (baseline vs baseline): ${learning.toFixed(2)} ms (${(learning / peer).toFixed(2)}x)`,
    )
    return [
      {
        label: 'comparison / deep-equality, 1 MB equal bodies',
        value: compared / peer,
        unit: 'x',
        goal: '<= 3x',
        met: compared / peer <= 3,
      },
      {
        label: 'comparison with learned noise / deep-equality, 1 MB',
        value: noisy / peer,
        unit: 'x',
        goal: '<= 3x',
        met: noisy / peer <= 3,
      },
    ]
  },
}
