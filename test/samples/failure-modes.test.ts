/**
 * The shop's failure-mode plans (fault, race, resources) through the built CLI, as a user runs them: each of
 * the three labelled failure modes fails with a failed check of the kind its expect file names, the clean
 * shop passes them, nothing vigil started is left, and each is caught for the right reason — the oversell
 * needs concurrent checkouts (one at a time it is not seen), the leak is caught by the relative limit or the
 * slope, not by the absolute backstop.
 */
import { cp, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { repoRoot, runVigil } from '../support/cli.js'
import { CHANGES_DIR } from './patched-shop.js'
import { SHOP_ROOT } from './shop-helper.js'
import type { CheckResult, Verdict } from '../../engine/verdict.js'

const CONFIG = 'samples/shop/vigil.config.yaml'
const FAILURE_MODES = ['no-upstream-timeout', 'oversell-race', 'memory-leak'] as const
const RUN_TIMEOUT_MS = 240_000

interface Expectation {
  caughtBy: Array<{ plan: string; kind: string }>
}
const catcher = async (change: string) => {
  const expectation = JSON.parse(
    await readFile(path.join(CHANGES_DIR, `${change}.expect.json`), 'utf8'),
  ) as Expectation
  return expectation.caughtBy[0]!
}

async function run(args: string[], cwd = repoRoot): Promise<{ code: number | null; verdict: Verdict }> {
  const result = await runVigil(['run', ...args, '--json'], { cwd, timeoutMs: RUN_TIMEOUT_MS })
  expect(result.stdout, result.stderr).toMatch(/^\{/)
  return { code: result.code, verdict: JSON.parse(result.stdout) as Verdict }
}

const checks = (verdict: Verdict): CheckResult[] => verdict.plans.flatMap((p) => p.checks)
const failedOf = (verdict: Verdict, kind: string) =>
  checks(verdict).filter((c) => c.kind === kind && c.state === 'failed')

/** `vigil sandboxes gc --dry-run` finds nothing this run left behind. */
async function nothingLeft(runId: string, cwd = repoRoot): Promise<void> {
  const gc = await runVigil(['sandboxes', 'gc', '--dry-run', '--json', '--config', CONFIG], { cwd })
  expect(gc.stdout).not.toContain(runId)
}

describe('the shop’s failure modes', { timeout: RUN_TIMEOUT_MS * 2 }, () => {
  it.each(FAILURE_MODES)(
    '%s exits 1 with a failed check of the kind its expect file names',
    async (change) => {
      const { plan, kind } = await catcher(change)
      const patch = `samples/shop/changes/${change}.patch`
      const { code, verdict } = await run(['--config', CONFIG, '--plan', plan, '--patch', patch])
      expect(code).toBe(1)
      const failed = failedOf(verdict, kind)
      expect(failed.map((c) => c.plan)).toContain(plan)
      if (change === 'memory-leak') {
        const ids = failed.flatMap((c) =>
          c.state === 'failed'
            ? c.findings.filter((f) => f.severity === 'error').map((f) => f.messageId)
            : [],
        )
        // The absolute limits are a backstop far above the shop's needs: the leak shows against the baseline.
        expect(ids.some((id) => id === 'relative' || id === 'leak')).toBe(true)
        expect(ids).not.toContain('limit')
      }
      await nothingLeft(verdict.identity.runId)
    },
  )

  it('the clean shop passes its failure-mode plans', async () => {
    const plans = await Promise.all(FAILURE_MODES.map(async (c) => (await catcher(c)).plan))
    const { code, verdict } = await run(['--config', CONFIG, ...plans.flatMap((p) => ['--plan', p])])
    expect(
      checks(verdict).filter((c) => c.state !== 'passed'),
      JSON.stringify(verdict.errors),
    ).toEqual([])
    expect(code).toBe(0)
    expect(new Set(checks(verdict).map((c) => c.kind))).toEqual(new Set(['fault', 'race', 'resources']))
  })

  it('oversell-race is not caught with one checkout at a time', async () => {
    // A copy of the shop whose race plan releases one request per round instead of ten.
    const parent = await mkdtemp(path.join(os.tmpdir(), 'vigil-shop-race-'))
    const root = path.join(parent, 'shop')
    try {
      await cp(SHOP_ROOT, root, { recursive: true, filter: (src) => path.basename(src) !== '.vigil' })
      await symlink(path.join(repoRoot, 'node_modules'), path.join(root, 'node_modules'), 'dir')
      const planFile = path.join(root, 'plans/checkout-race.md')
      const plan = await readFile(planFile, 'utf8')
      expect(plan).toContain('concurrency: 10\n')
      await writeFile(planFile, plan.replace('concurrency: 10\n', 'concurrency: 1\n'))
      const { plan: name } = await catcher('oversell-race')
      const { code, verdict } = await run(
        ['--config', 'vigil.config.yaml', '--plan', name, '--patch', 'changes/oversell-race.patch'],
        root,
      )
      const race = checks(verdict).find((c) => c.kind === 'race')!
      expect(race.state, JSON.stringify(verdict.errors)).toBe('passed')
      expect(code).toBe(0)
      const rounds = race.state === 'passed' ? race.findings.filter((f) => f.messageId === 'rounds') : []
      // One finding per side's tally, merged when alike: every round of both sides kept its invariant.
      const tallies = rounds.flatMap((f) => [f.message, ...(f.repeats?.examples ?? []).map((e) => e.message)])
      expect(tallies[0]).toMatch(/^candidate: 0 of 5 rounds broke an invariant \(1 requests each\)/)
      for (const tally of tallies) expect(tally).toMatch(/: 0 of 5 rounds broke an invariant/)
    } finally {
      await rm(parent, { recursive: true, force: true })
    }
  })
})
