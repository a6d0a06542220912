/**
 * The held-out measure: the adversarial check against the deliberately vulnerable bed and its safe twin,
 * with two seeds. Every labelled class must be found with both seeds by one of the oracles that describe
 * it; the twin must get no error finding. The table (found / in scope, false failures, cases, time) is
 * printed: `npx vitest run test/engine/kinds/adversarial/bed.test.ts`.
 */
import { afterAll, describe, expect, it } from 'vitest'
import type { ReportDescriptor } from '../../../../engine/api/kind.js'
import { createCheckContext } from '../../../support/check-context.js'
import { BED_CLASSES, BED_WARNINGS, bedParams, startBedApi, type BedApi } from './bed-api.js'

const SEEDS = [7, 1234]

async function run(api: BedApi, seed: number) {
  const t = createCheckContext({
    kind: 'adversarial',
    params: bedParams(),
    plan: { dir: api.dir },
    candidate: { services: api.services },
    seed,
  })
  const started = performance.now()
  try {
    await t.run()
  } finally {
    await t.close()
  }
  return { findings: t.findings, ms: performance.now() - started }
}

const severity = (f: ReportDescriptor) => f.severity ?? 'error'
const found = (
  findings: ReportDescriptor[],
  c: { operation: string; oracles: readonly string[] },
  level: string,
) =>
  findings.some(
    (f) =>
      severity(f) === level && f.data?.operation === c.operation && c.oracles.includes(f.messageId ?? ''),
  )

const rows: string[] = []
afterAll(() => {
  console.log(
    [
      '| bed | seed | found / in scope | warnings found | false failures | false warnings | cases | time |',
      '|---|---|---|---|---|---|---|---|',
      ...rows,
    ].join('\n'),
  )
})

describe('adversarial bed', { timeout: 120_000 }, () => {
  for (const seed of SEEDS) {
    it(`finds every labelled class with seed ${seed}, and nothing on the safe twin`, async () => {
      const vulnerable = await startBedApi()
      const safe = await startBedApi({ safe: true })
      try {
        const v = await run(vulnerable, seed)
        const s = await run(safe, seed)
        const missed = BED_CLASSES.filter((c) => !found(v.findings, c, 'error')).map((c) => c.label)
        const warned = BED_WARNINGS.filter((c) => found(v.findings, c, 'warning')).length
        const falseFailures = s.findings.filter((f) => severity(f) === 'error')
        const falseWarnings = s.findings.filter((f) => severity(f) === 'warning')
        const cases = (r: { findings: ReportDescriptor[] }) =>
          r.findings.find((f) => f.messageId === 'summary')?.data?.cases
        rows.push(
          `| vulnerable | ${seed} | ${BED_CLASSES.length - missed.length} / ${BED_CLASSES.length} | ${warned} / ${BED_WARNINGS.length} | – | – | ${cases(v)} | ${(v.ms / 1000).toFixed(1)} s |`,
          `| safe twin | ${seed} | – | – | ${falseFailures.length} | ${falseWarnings.length} | ${cases(s)} | ${(s.ms / 1000).toFixed(1)} s |`,
        )
        expect(missed).toEqual([])
        expect(warned).toBe(BED_WARNINGS.length)
        expect(falseFailures.map((f) => [f.messageId, f.data?.operation, f.data?.what])).toEqual([])
        expect(falseWarnings.map((f) => [f.messageId, f.data?.operation, f.data?.what])).toEqual([])
      } finally {
        await Promise.all([vulnerable.close(), safe.close()])
      }
    })
  }
})
