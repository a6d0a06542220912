/**
 * The sample plan samples/shop/plans/checkout-load.md end to end through runValidation: the clean shop
 * passes, and the `slow-lookup` change (one catalog call per item) fails with a regression finding.
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { runValidation } from '../../../../engine/run/run.js'
import type { Finding, Verdict } from '../../../../engine/verdict.js'

const repo = fileURLToPath(new URL('../../../../', import.meta.url))
const configPath = path.join(repo, 'samples/shop/vigil.config.yaml')

function loadChecks(verdict: Verdict) {
  const plan = verdict.plans.find((p) => p.name === 'checkout-load')
  expect(plan, JSON.stringify(verdict.errors)).toBeDefined()
  return plan!.checks
}

const errorsOf = (findings: Finding[]) => findings.filter((f) => f.severity === 'error')

describe('checkout-load on the sample shop', { timeout: 120_000 }, () => {
  it('passes on the clean shop (baseline and candidate from the same tree)', async () => {
    const verdict = await runValidation({ configPath, cwd: repo, planNames: ['checkout-load'] })
    const checks = loadChecks(verdict)
    expect(checks.map((c) => [c.check, c.state])).toEqual([
      ['Order creation', 'passed'],
      ['Catalog lookup', 'passed'],
    ])
    for (const c of checks) if ('findings' in c) expect(errorsOf(c.findings)).toEqual([])
    expect(verdict.status).toBe('pass')
  })

  it('fails slow-lookup with a regression finding: baseline p95, candidate p95, ratio', async () => {
    const verdict = await runValidation({
      configPath,
      cwd: repo,
      planNames: ['checkout-load'],
      patch: 'samples/shop/changes/slow-lookup.patch',
    })
    expect(verdict.status).toBe('fail')
    const orders = loadChecks(verdict).find((c) => c.check === 'Order creation')!
    expect(orders.state).toBe('failed')
    const regression =
      'findings' in orders ? orders.findings.find((f) => f.messageId === 'regression') : undefined
    expect(regression?.message).toMatch(
      /^Candidate (med|p\(95\)) latency [\d.]+ ms is [\d.]+× the baseline’s [\d.]+ ms/,
    )
    const details = regression!.evidence!.details as Record<string, number> & { p95: Record<string, number> }
    expect(details.candidateMs).toBeGreaterThan(details.baselineMs! * 1.5)
    expect(details.ratio).toBeGreaterThan(1.5)
    expect(details.allowedRatio).toBe(1.5)
    // A failure is final only after the confirmation rounds: at least 7 with two statistics.
    expect(details.rounds).toBeGreaterThanOrEqual(7)
    // The p95 of both sides is always part of the evidence, whichever statistic regressed. When the median
    // regressed, the tail may still be noise on a busy machine, so only its presence is held here.
    expect(details.p95.candidateMs).toBeGreaterThan(0)
    expect(details.p95.baselineMs).toBeGreaterThan(0)
    expect(details.p95.ratio).toBeCloseTo(details.p95.candidateMs! / details.p95.baselineMs!, 2)
    expect(JSON.stringify(verdict)).not.toContain('alice-token')
  })
})
