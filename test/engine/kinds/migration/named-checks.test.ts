/** Which checks the migration gate runs, and how it reads PostgreSQL's error for its database. */
import { describe, expect, it } from 'vitest'
import { databaseError, namedChecks } from '../../../../engine/kinds/migration/run.js'
import type { CheckBlock, Plan } from '../../../../plans/types.js'

function block(kind: string, name: string, index: number): CheckBlock {
  return {
    kind,
    name,
    id: `p/${name}`,
    index,
    location: { file: 'p.md', line: index + 1, column: 1 },
    params: {},
    source: '',
  } as CheckBlock
}

const gate = block('migration', 'Gate', 0)
const read = block('e2e', 'Read back', 1)
const shape = block('contract', 'Shape', 2)
const plan = { name: 'p', checks: [gate, read, shape] } as unknown as Plan

describe('namedChecks', () => {
  it('finds the named checks in the plan, in the order named', () => {
    expect(namedChecks(plan, gate, { checks: ['Shape', 'Read back'] })).toEqual([shape, read])
  })
  it('without steps or names, runs the plan’s other checks; with steps only, none', () => {
    expect(namedChecks(plan, gate, {})).toEqual([read, shape])
    expect(namedChecks(plan, gate, { steps: [{ request: 'GET /x' }] })).toEqual([])
  })
  it('refuses a name the plan lacks, listing the checks it has, and a migration check', () => {
    expect(() => namedChecks(plan, gate, { checks: ['Nope'] })).toThrow(
      'checks: plan p has no check named "Nope" (its other checks: "Read back", "Shape")',
    )
    const other = block('migration', 'Other gate', 3)
    const withTwo = { name: 'p', checks: [gate, read, other] } as unknown as Plan
    expect(() => namedChecks(withTwo, gate, { checks: ['Other gate'] })).toThrow(/is a migration check/)
  })
})

describe('databaseError', () => {
  const lines = [
    '2026-12-02 15:00:00.000 UTC [12] db=vigil_x_db_gate1 LOG:  something',
    '2026-12-02 15:00:00.001 UTC [13] db=vigil_x_db_baseline ERROR:  relation "nope" does not exist',
    '2026-12-02 15:00:00.002 UTC [14] db=vigil_x_db_gate1 ERROR:  column "total_cents" does not exist at character 40',
    '2026-12-02 15:00:00.003 UTC [14] db=vigil_x_db_gate1 STATEMENT:  ',
    '\t  SELECT o.id, o.total_cents',
    '\t  FROM orders o WHERE o.id = $1',
    '2026-12-02 15:00:00.004 UTC [15] db=vigil_x_db_gate1 LOG:  next',
  ]
  it('takes the first error of its own database with the statement, over several lines', () => {
    expect(databaseError(lines, 'vigil_x_db_gate1')).toBe(
      ' — PostgreSQL: column "total_cents" does not exist at character 40, in SELECT o.id, o.total_cents FROM orders o WHERE o.id = $1',
    )
  })
  it('says nothing when its database logged no error', () => {
    expect(databaseError(lines, 'vigil_x_db_candidate')).toBe('')
  })
})
