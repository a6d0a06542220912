/**
 * The contract plans of the sample shop through `runValidation` — the code path `vigil run` takes:
 * real config, real plans, real service processes for baseline and candidate, the patch applied to
 * a temporary copy of the shop.
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { runValidation } from '../../../../engine/run/run.js'
import type { CheckResult, Finding, Verdict } from '../../../../engine/verdict.js'

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..')
const config = 'samples/shop/vigil.config.yaml'
const plans = ['catalog-contract', 'orders-contract']

async function run(patch?: string): Promise<Verdict> {
  return runValidation({
    configPath: config,
    cwd: repo,
    planNames: plans,
    ...(patch ? { patch: `samples/shop/changes/${patch}.patch` } : {}),
  })
}

function checks(verdict: Verdict): CheckResult[] {
  return verdict.plans.flatMap((p) => p.checks)
}

function findingsOf(verdict: Verdict, check: string): Finding[] {
  const result = checks(verdict).find((c) => c.check === check)
  expect(result, `check ${check}`).toBeDefined()
  return 'findings' in result! ? result.findings : []
}

const errors = (findings: Finding[]) => findings.filter((f) => f.severity === 'error')

describe('contract plans of the sample shop', { timeout: 90_000 }, () => {
  it('the clean shop passes', async () => {
    const verdict = await run()
    expect(verdict.errors).toEqual([])
    expect(checks(verdict).map((c) => [c.plan, c.check, c.state])).toEqual([
      ['catalog-contract', 'Every catalog operation', 'passed'],
      ['catalog-contract', 'Unknown products', 'passed'],
      ['orders-contract', 'Creating an order', 'passed'],
      ['orders-contract', 'Reading an order back', 'passed'],
      ['orders-contract', "Listing a customer's orders", 'passed'],
      ['orders-contract', 'Errors keep their shape', 'passed'],
    ])
    expect(verdict.status).toBe('pass')
    expect(verdict.exitCode).toBe(0)
    // Nothing but information: no warning about changed values either.
    expect(
      checks(verdict)
        .flatMap((c) => ('findings' in c ? c.findings : []))
        .filter((f) => f.severity !== 'info'),
    ).toEqual([])
  })

  it('field-rename fails "Creating an order" with the removed field, explained as a rename', async () => {
    const verdict = await run('field-rename')
    expect(verdict.status).toBe('fail')
    expect(verdict.exitCode).toBe(1)
    const created = errors(findingsOf(verdict, 'Creating an order'))
    // One finding per root cause: the rename, not also the schema's "required" for the same field.
    expect(created.map((f) => [f.messageId, f.pointer])).toEqual([['field-removed', '/totalCents']])
    expect(created[0]!.message).toBe('Field /totalCents was removed; candidate has /total_cents.')
    // expected and actual say what the sentence says: the field was expected present and is absent.
    expect(created[0]).toMatchObject({ expected: 'present', actual: 'absent' })
    expect(created[0]!.evidence?.reproduce).toMatch(/^curl .* -X POST .*\/orders/)
    // Secrets never reach the verdict.
    expect(JSON.stringify(verdict)).not.toContain('alice-token')
    // Only the creation's answer changed: what is stored and listed keeps the old name.
    expect(errors(findingsOf(verdict, "Listing a customer's orders"))).toEqual([])
  })

  it('status-change fails "Creating an order" once, on the status change against the baseline', async () => {
    const verdict = await run('status-change')
    expect(verdict.status).toBe('fail')
    const created = errors(findingsOf(verdict, 'Creating an order'))
    // One finding per root cause: the status change, which also says the expectation must follow it.
    expect(created.map((f) => [f.messageId, f.expected, f.actual])).toEqual([['status-changed', 201, 200]])
    expect(created.map((f) => f.message)).toEqual([
      "Status changed from 201 to 200. If the change is intended, accept it by adding allowStatus: ['201->200'] to the request's compare mapping, and expect status 200 (expect.status).",
    ])
    const failed = checks(verdict)
      .filter((c) => c.state !== 'passed')
      .map((c) => c.check)
    expect(failed).toEqual(['Creating an order'])
  })

  it('additive-field passes: the new field and generatedAt are reported, not breaking', async () => {
    const verdict = await run('additive-field')
    expect(verdict.status).toBe('pass')
    expect(checks(verdict).every((c) => c.state === 'passed')).toBe(true)
    const notes = findingsOf(verdict, 'Creating an order')
    expect(notes.filter((f) => f.messageId === 'field-added').map((f) => [f.pointer, f.severity])).toEqual([
      ['/estimatedDelivery', 'info'],
      ['/generatedAt', 'info'],
    ])
  })
})
