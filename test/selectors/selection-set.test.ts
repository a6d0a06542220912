/**
 * The json-server labelled set (test/fixtures/selection/json-server/): its labels match their schema and
 * name only plans of its catalog, and its plans are what the set measures — hint-only, valid, ten of them.
 * The diffs themselves are regenerated from json-server's history and are not in the repository.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { validatorFor } from '../../plans/ajv.js'
import { loadPlans } from '../../plans/loader.js'
import { checkSchemas } from '../../engine/run/load-plans.js'
import { labelledChangesSchema } from '../../selectors/eval.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const set = path.join(root, 'test/fixtures/selection/json-server')

interface Labels {
  changes: Array<{ sha: string; must: string[]; may: string[]; sample?: string[] }>
}

describe('the json-server labelled set', () => {
  const labels = JSON.parse(readFileSync(path.join(set, 'labels.json'), 'utf8')) as Labels

  it('matches the published schema, with at least 30 distinct commits', () => {
    const validate = validatorFor(labelledChangesSchema)
    expect(validate(labels), JSON.stringify(validate.errors)).toBe(true)
    expect(labels.changes.length).toBeGreaterThanOrEqual(30)
    expect(new Set(labels.changes.map((c) => c.sha)).size).toBe(labels.changes.length)
    for (const change of labels.changes) {
      expect(
        change.must.filter((p) => change.may.includes(p)),
        change.sha,
      ).toEqual([])
      expect(change.sample?.length, `${change.sha} says which sampling rule picked it`).toBeGreaterThan(0)
    }
  })

  it('labels only plans of its catalog, and the plans are valid and hint-only', async () => {
    const { plans, diagnostics } = await loadPlans({
      roots: [path.join(set, 'plans')],
      cwd: root,
      checkSchemas: checkSchemas(),
    })
    expect(diagnostics).toEqual([])
    expect(plans).toHaveLength(10)
    for (const plan of plans) {
      expect(plan.paths, plan.name).toEqual([])
      expect(plan.always, plan.name).toBe(false)
    }
    const names = new Set(plans.map((p) => p.name))
    const labelled = labels.changes.flatMap((c) => [...c.must, ...c.may])
    expect(labelled.filter((p) => !names.has(p))).toEqual([])
    // Every plan is a must somewhere: none is dead weight in the catalog.
    const must = new Set(labels.changes.flatMap((c) => c.must))
    expect([...names].filter((p) => !must.has(p))).toEqual([])
  })
})
