/** `npm run demo` end to end, and the comparison of a verdict with a change's expect file. */
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import type { CheckResult, PlanResult, Verdict } from '../../engine/verdict.js'
import { compareWithExpectation, type ChangeExpectation } from '../../samples/shop/demo/expect.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const work = mkdtempSync(path.join(os.tmpdir(), 'vigil-demo-test-'))
afterAll(() => rmSync(work, { recursive: true, force: true }))

function demo(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'samples/shop/demo/demo.ts', ...args],
      // No API key: the offline selector, as on a fresh clone.
      {
        cwd: root,
        env: { PATH: process.env.PATH ?? '', HOME: os.tmpdir(), NO_COLOR: '1' },
        timeout: 150_000,
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout, stderr }),
    )
  })
}

/**
 * True when the clean change's verdict failed only on latency: failed load checks whose error findings
 * are all regressions within 3× of the baseline. On a loaded two-core machine the shop's 1.5× bound has
 * been crossed at 1.57–1.59 by a clean run — scheduling noise, which the load kind's statistics must
 * tell from a change (tested in test/engine/kinds/load/); a regression like slow-lookup's is far beyond 3×.
 */
function onlyLatencyNoise(verdict: Verdict): boolean {
  const bad = verdict.plans
    .flatMap((p) => p.checks)
    .filter((c) => c.state === 'failed' || c.state === 'errored')
  return (
    bad.length > 0 &&
    bad.every(
      (c) =>
        c.kind === 'load' &&
        c.state === 'failed' &&
        c.findings
          .filter((f) => f.severity === 'error')
          .every((f) => f.messageId === 'regression' && (f.evidence?.details as { ratio: number }).ratio < 3),
    )
  )
}

describe('npm run demo', () => {
  it('gates a faulty and a clean change of the shop, both as their expect files say, and exits 0', async () => {
    const out = path.join(work, 'out')
    const { code, stdout, stderr } = await demo(['--out', out])
    const cleanFile = path.join(out, 'additive-field/verdict.json')
    const clean = existsSync(cleanFile) ? (JSON.parse(readFileSync(cleanFile, 'utf8')) as Verdict) : undefined
    // Latency noise on the clean change is the one failure this test does not hold against the demo.
    const noise = code === 1 && clean?.status === 'fail' && onlyLatencyNoise(clean)
    expect(noise ? 0 : code, stdout + stderr).toBe(0)
    expect(stdout).toContain(
      '$ vigil ci --config samples/shop/vigil.config.yaml --patch samples/shop/changes/field-rename.patch',
    )
    // The selection with reasons, live progress lines and both verdicts.
    expect(stdout).toMatch(/orders-contract\s+paths\s+paths orders\/\*\* matched orders\/server\.js/)
    expect(stdout).toMatch(/FAIL · \d+ checks/)
    expect(stdout).toMatch(noise ? /FAIL · \d+ checks[^]*FAIL · \d+ checks/ : /PASS · \d+ checks/)
    expect(stdout).toMatch(/field-rename\s+fail\s+fail\s+1\s+orders-contract ✓, checkout-flow ✓.*as expected/)
    if (noise) {
      expect(stdout).toMatch(/additive-field\s+pass\s+fail\s+1\s+—.*NOT as expected/)
      expect(stdout).toContain('A verdict is not as expected.')
    } else {
      expect(stdout).toMatch(/additive-field\s+pass\s+pass\s+0\s+—.*as expected/)
      expect(stdout).toContain('Both verdicts are as expected.')
    }
    for (const change of ['field-rename', 'additive-field'])
      for (const file of ['verdict.json', 'selection.json', 'junit.xml', 'summary.md'])
        expect(existsSync(path.join(out, change, file)), `${change}/${file}`).toBe(true)
    const verdict = JSON.parse(readFileSync(path.join(out, 'field-rename/verdict.json'), 'utf8')) as {
      status: string
    }
    expect(verdict.status).toBe('fail')
  }, 180_000)

  it('refuses a change that does not exist, with exit 2', async () => {
    const { code, stderr } = await demo(['--faulty', 'no-such-change'])
    expect(code).toBe(2)
    expect(stderr).toContain('no change "no-such-change" in samples/shop/changes')
  }, 30_000)
})

const check = (plan: string, kind: string, state: 'passed' | 'failed', name = 'c'): CheckResult =>
  ({ plan, check: name, kind, location: { file: 'p.md' }, state, durationMs: 1, findings: [] }) as CheckResult
const plan = (name: string, checks: CheckResult[]): PlanResult => ({
  name,
  title: name,
  file: `${name}.md`,
  blocking: true,
  state: checks.some((c) => c.state === 'failed') ? 'failed' : 'passed',
  durationMs: 1,
  checks,
})

describe('compareWithExpectation', () => {
  const expected: ChangeExpectation = {
    description: 'renames a field',
    plans: ['contract', 'flow', 'adversarial'],
    verdict: 'fail',
    caughtBy: [
      { plan: 'contract', kind: 'contract' },
      { plan: 'flow', kind: 'e2e', check: 'Checkout' },
      { plan: 'adversarial', kind: 'adversarial' },
    ],
  }
  const selection = { plans: [{ name: 'contract' }, { name: 'flow' }], rejected: [{ name: 'other' }] }

  it('matches when the verdict and every catch in the catalog are as expected', () => {
    const result = compareWithExpectation(
      expected,
      {
        status: 'fail',
        exitCode: 1,
        errors: [],
        plans: [
          plan('contract', [check('contract', 'contract', 'failed')]),
          plan('flow', [check('flow', 'e2e', 'failed', 'Checkout')]),
        ],
      },
      selection,
    )
    expect(result.matches).toBe(true)
    expect(result.caught).toEqual(['contract ✓', 'flow ✓', 'adversarial –'])
    expect(result.notes).toContain('expected plans not in the catalog yet: adversarial')
  })

  it('does not match when the right verdict comes from the wrong check, or the verdict differs', () => {
    const wrongCheck = compareWithExpectation(
      expected,
      {
        status: 'fail',
        exitCode: 1,
        errors: [],
        plans: [
          plan('contract', [check('contract', 'contract', 'failed')]),
          plan('flow', [check('flow', 'e2e', 'failed', 'Browse')]),
        ],
      },
      selection,
    )
    expect(wrongCheck.matches).toBe(false)
    expect(wrongCheck.notes).toContain('flow › Checkout (e2e) did not fail')

    const errored = compareWithExpectation(
      { ...expected, verdict: 'pass', caughtBy: [] },
      {
        status: 'error',
        exitCode: 3,
        errors: [{ code: 'VIGIL_PATCH', message: 'does not apply' }],
        plans: [],
      },
      selection,
    )
    expect(errored.matches).toBe(false)
    expect(errored.notes[0]).toBe('verdict error (exit 3), expected pass — VIGIL_PATCH: does not apply')
  })

  it('names a plan the selector left out when the expect file needs it', () => {
    const result = compareWithExpectation(
      expected,
      {
        status: 'fail',
        exitCode: 1,
        errors: [],
        plans: [plan('contract', [check('contract', 'contract', 'failed')])],
      },
      { plans: [{ name: 'contract' }], rejected: [{ name: 'flow' }] },
    )
    expect(result.matches).toBe(false)
    expect(result.notes).toContain('flow was not selected, so flow › Checkout (e2e) never ran')
    expect(result.notes).toContain('the selector left out flow (the expect file lists them)')
  })
})
