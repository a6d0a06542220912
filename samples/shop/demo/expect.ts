/**
 * Does a `vigil ci` outcome match a labelled change's `<name>.expect.json`? The verdict must be the
 * expected one, and every check the change must be caught by must have failed. Plans the expect file
 * names that the catalog does not have (yet) are noted, not held against the run.
 */
import type { Verdict } from '../../../engine/verdict.js'

/** `changes/<name>.expect.json` (schema: changes/expect.schema.json). */
export interface ChangeExpectation {
  description: string
  plans: string[]
  verdict: 'pass' | 'fail'
  caughtBy: Array<{ plan: string; kind: string; check?: string }>
}

/** The parts of a selection record the comparison reads. */
export interface SelectionSummary {
  plans: Array<{ name: string }>
  rejected: Array<{ name: string }>
}

export interface Comparison {
  /** True when the verdict and every catch in the catalog are as expected. */
  matches: boolean
  /** `orders-contract ✓` per expected catch: ✓ caught, ✗ missed, – not in the catalog. */
  caught: string[]
  /** Why it does not match, and facts worth knowing (selection differences). */
  notes: string[]
}

export function compareWithExpectation(
  expected: ChangeExpectation,
  verdict: Pick<Verdict, 'status' | 'exitCode' | 'plans' | 'errors'>,
  selection: SelectionSummary,
): Comparison {
  const notes: string[] = []
  let matches = true
  if (verdict.status !== expected.verdict) {
    matches = false
    const errors = verdict.errors.map((e) => `${e.code}: ${e.message}`).join('; ')
    notes.push(
      `verdict ${verdict.status} (exit ${verdict.exitCode}), expected ${expected.verdict}${errors ? ` — ${errors}` : ''}`,
    )
  }
  const catalog = new Set([...selection.plans, ...selection.rejected].map((p) => p.name))
  const selected = new Set(selection.plans.map((p) => p.name))
  const caught = expected.caughtBy.map((c) => {
    const label = `${c.plan}${c.check ? ` › ${c.check}` : ''} (${c.kind})`
    if (!catalog.has(c.plan)) {
      notes.push(`${c.plan} is not in the catalog, so ${label} could not be checked`)
      return `${c.plan} –`
    }
    const plan = verdict.plans.find((p) => p.name === c.plan)
    const hit = plan?.checks.some(
      (k) =>
        k.kind === c.kind &&
        (c.check === undefined || k.check === c.check) &&
        (k.state === 'failed' || k.state === 'errored'),
    )
    if (!hit) {
      matches = false
      notes.push(plan ? `${label} did not fail` : `${c.plan} was not selected, so ${label} never ran`)
    }
    return `${c.plan} ${hit ? '✓' : '✗'}`
  })
  const missed = expected.plans.filter((p) => catalog.has(p) && !selected.has(p))
  if (missed.length) notes.push(`the selector left out ${missed.join(', ')} (the expect file lists them)`)
  const extra = [...selected].filter((p) => !expected.plans.includes(p))
  if (extra.length) notes.push(`the selector also picked ${extra.join(', ')}`)
  const absent = expected.plans.filter((p) => !catalog.has(p))
  if (absent.length) notes.push(`expected plans not in the catalog yet: ${absent.join(', ')}`)
  return { matches, caught, notes }
}
