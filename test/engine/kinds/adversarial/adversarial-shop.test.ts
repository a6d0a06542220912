/**
 * The sample shop's adversarial plan through `runValidation` — the path `vigil run` takes: real config,
 * real plan, the shop's three services as processes, a labelled change applied to a copy.
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { runValidation } from '../../../../engine/run/run.js'
import type { Finding, Verdict } from '../../../../engine/verdict.js'

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..')

function run(patch?: string): Promise<Verdict> {
  return runValidation({
    configPath: 'samples/shop/vigil.config.yaml',
    cwd: repo,
    planNames: ['orders-adversarial'],
    ...(patch ? { patch: `samples/shop/changes/${patch}.patch` } : {}),
  })
}

function findings(verdict: Verdict): Finding[] {
  return verdict.plans.flatMap((p) => p.checks).flatMap((c) => ('findings' in c ? c.findings : []))
}
const errors = (verdict: Verdict) => findings(verdict).filter((f) => f.severity === 'error')

describe('orders-adversarial on the sample shop', { timeout: 120_000 }, () => {
  it('passes the clean shop, with nothing but its summary', async () => {
    const verdict = await run()
    expect(verdict.errors).toEqual([])
    expect(verdict.status).toBe('pass')
    expect(findings(verdict).map((f) => [f.severity, f.messageId])).toEqual([['info', 'summary']])
    expect(findings(verdict)[0]!.message).toMatch(/^Sent 300 generated cases, 13 authorization probes/)
  })

  it('fails drop-validation with rejects-invalid on a quantity below 1, and a curl line that reproduces it', async () => {
    const verdict = await run('drop-validation')
    expect(verdict.status).toBe('fail')
    const invalid = errors(verdict).filter((f) => f.messageId === 'rejects-invalid')
    const accepted = invalid.find((f) => f.actual === 201)!
    expect(accepted.message).toMatch(
      /^createOrder: case \d+ \(boundary: \/items\/0\/quantity = 0 \(below minimum 1\)\) is invalid but got 201, not a 4xx \(seed \d+\)\.$/,
    )
    expect(accepted.pointer).toBe('/items/0/quantity')
    expect(accepted.evidence?.reproduce).toMatch(
      /^curl -sS -i -X POST http:\/\/127\.0\.0\.1:\d+\/orders -H 'authorization: Bearer \[REDACTED\]' -H 'content-type: application\/json' --data-binary '\{"items":\[\{"sku":"tea","quantity":0\}/,
    )
    expect(accepted.evidence?.details).toMatchObject({
      oracle: 'rejects-invalid',
      kind: 'boundary',
      invalid: true,
    })
    expect(JSON.stringify(verdict)).not.toContain('alice-token')
  })

  it("fails auth-owner-check with authz: bob reads alice's order", async () => {
    const verdict = await run('auth-owner-check')
    expect(verdict.status).toBe('fail')
    expect(errors(verdict).map((f) => [f.messageId, f.step, f.actual])).toEqual([['authz', 'getOrder', 200]])
    const [finding] = errors(verdict)
    expect(finding!.message).toBe(
      "getOrder: probe: another principal's credentials on the owner's resource got 200; expected 401 or 403 or 404.",
    )
    expect(finding!.evidence?.reproduce).toMatch(
      /^curl -sS -i http:\/\/127\.0\.0\.1:\d+\/orders\/ord_[0-9a-f]{16} -H 'authorization: Bearer \[REDACTED\]'$/,
    )
    expect(finding!.evidence?.excerpt?.text).toContain('"owner":"alice"')
  })
})
