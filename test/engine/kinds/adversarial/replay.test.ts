/**
 * `vigil reproduce` of adversarial findings on the sample shop: the one case that found it — a generated
 * case rebuilt from its seed and index, an authorization probe — sent again to both sides after the run.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { reproduceFinding } from '../../../../engine/run/reproduce.js'
import { runValidation } from '../../../../engine/run/run.js'
import type { Finding, Verdict } from '../../../../engine/verdict.js'

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..')
const tmp = mkdtempSync(path.join(os.tmpdir(), 'vigil-replay-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

async function runAndSave(patch: string): Promise<{ file: string; errors: Finding[] }> {
  const verdict: Verdict = await runValidation({
    configPath: 'samples/shop/vigil.config.yaml',
    cwd: repo,
    planNames: ['orders-adversarial'],
    patch: `samples/shop/changes/${patch}.patch`,
  })
  const file = path.join(tmp, `${patch}.json`)
  writeFileSync(file, JSON.stringify(verdict))
  const errors = verdict.plans
    .flatMap((p) => p.checks)
    .flatMap((c) => ('findings' in c ? c.findings : []))
    .filter((f) => f.severity === 'error')
  return { file, errors }
}

describe('replaying adversarial findings', { timeout: 120_000 }, () => {
  it('rebuilds a generated case from its seed and index, and sends it to both sides', async () => {
    const { file, errors } = await runAndSave('drop-validation')
    const accepted = errors.find((f) => f.messageId === 'rejects-invalid' && f.actual === 201)!
    const result = await reproduceFinding({ verdictFile: file, findingId: accepted.id!, cwd: repo })
    expect(result.reproduced).toBe(true)
    // Each side's setup creates an order first; then the case.
    const orders = result.exchanges.filter((e) => e.request.body?.includes('"quantity":0'))
    // The candidate accepts the zero quantity the baseline refuses: the same bytes to both.
    expect(orders.map((e) => [e.side, e.response?.status])).toEqual([
      ['candidate', 201],
      ['baseline', 400],
    ])
    expect(orders[0]!.request.body).toBe(orders[1]!.request.body)
    expect(result.findings.find((f) => f.id === accepted.id)?.message).toBe(accepted.message)
    expect(orders[0]!.logs?.services.orders?.some((l) => l.includes('POST /orders 201'))).toBe(true)
  })

  it('sends an authorization probe again: bob reads the order alice created on that side', async () => {
    const { file, errors } = await runAndSave('auth-owner-check')
    const [probe] = errors
    const result = await reproduceFinding({ verdictFile: file, findingId: probe!.id!, cwd: repo })
    expect(result.reproduced).toBe(true)
    const reads = result.exchanges.filter((e) => /\/orders\/ord_/.test(e.request.url))
    expect(reads.map((e) => [e.side, e.response?.status])).toEqual([
      ['candidate', 200],
      ['baseline', 404],
    ])
    expect(JSON.stringify(result)).not.toContain('bob-token')
  })
})
