import { describe, expect, it } from 'vitest'
import type { CheckResult, PlanResult, Verdict } from '../../engine/verdict.js'
import { GITHUB_SUMMARY_LIMIT, renderMarkdown } from '../../reporters/markdown.js'
import { mdCode, mdFence, mdText } from '../../reporters/markdown-text.js'
import { failedCheck, frozen, verdict } from './fixture.js'

const md = renderMarkdown(frozen(verdict))

/** The rows of the table under `### title`, split into cells (escaped pipes kept inside cells). */
function tableRows(markdown: string, title: string): string[][] {
  const section = markdown.split(`### ${title}\n`)[1]!.split('\n### ')[0]!
  return section
    .split('\n')
    .filter((line) => line.startsWith('| '))
    .slice(2)
    .map((line) =>
      line
        .slice(2, -2)
        .split(/(?<!\\) \| /)
        .map((cell) => cell.trim()),
    )
}

function section(markdown: string, title: string): string {
  return markdown.split(`### ${title}\n`)[1]!.split('\n### ')[0]!
}

describe('renderMarkdown', () => {
  it('starts with the status, its emoji and the counts', () => {
    const [heading, , counts] = md.split('\n')
    expect(heading).toBe('## 💥 vigil: ERROR — 1 failed, 1 errored, 1 warned of 5 checks')
    expect(counts).toContain('5 checks: 1 passed, 1 failed, 1 warned, 1 errored, 1 skipped')
    expect(counts).toContain('exit 2')
    expect(md).toContain(
      'run `run-20250102-0001` · commit `abc1234` · base `main` · seed 42 · requested by ci',
    )
  })

  it('records the selection: selector, model, the degraded warning and why each plan was picked', () => {
    const selection = section(md, 'Selection')
    expect(selection).toContain(
      'Selected by `hybrid`, model `claude-sonnet-4-5`, diff `sha256:ffee`: 4 plans.',
    )
    expect(selection).toContain(
      '> [!WARNING]\n> Selection degraded: LLM timed out; the rules selector decided.',
    )
    expect(tableRows(md, 'Selection')).toEqual([
      ['`catalog-browse`', 'paths', 'diff touches services/catalog/\\*\\*'],
      ['`checkout-order`', 'llm', 'changes the \\| order total calculation'],
      ['`payments-load`', 'rules', 'payments changed'],
      ['`search-ranking`', 'always', 'always runs'],
    ])
  })

  it('has a table of plans sorted by name with state and counts', () => {
    expect(tableRows(md, 'Plans')).toEqual([
      ['✅', '`catalog-browse` Catalog browsing', 'passed', '1/1 passed', '60ms'],
      ['❌', '`checkout-order` Checkout creates an order', 'failed', '0/1 passed, 1 failed', '1.30s'],
      ['💥', '`payments-load` Payments under load', 'errored', '0/2 passed, 1 errored, 1 skipped', '400ms'],
      ['⚠️', '`search-ranking` Search ranking', 'warned (non-blocking)', '0/1 passed, 1 failed', '90ms'],
    ])
  })

  it('has a <details> per failing check with findings and a sh reproduce block', () => {
    const failures = section(md, 'Failures')
    const blocks = failures.split('<details>').slice(1)
    expect(blocks).toHaveLength(2)
    expect(blocks[0]).toContain(
      '<summary>❌ <code>checkout-order</code> › create order — Expected status 201, got 500.</summary>',
    )
    expect(blocks[0]).toContain('   - expected: `201`\n   - actual: `500`')
    expect(blocks[0]).toContain(
      "   ```sh\n   curl -sS -i -X POST http://127.0.0.1:4001/orders -H 'authorization: Bearer [REDACTED]'",
    )
    expect(blocks[0]).toContain('   ```text\n   {"error":"TypeError: cannot read \'price\' of undefined"}')
    expect(blocks[1]).toContain(
      '💥 <code>payments-load</code> › authorise p95 — connect ECONNREFUSED 127.0.0.1:4003 &lt;payments&gt;',
    )
    expect(blocks[1]).toContain('FATAL: out of memory \\u0007 bell')
    expect(section(md, 'Warnings (non-blocking plans and checks)')).toContain(
      '⚠️ <code>search-ranking</code> › top result is exact match',
    )
  })

  it('lists run errors with their log tails, notes, and where time went', () => {
    const errors = section(md, 'Run errors')
    expect(errors).toContain(
      '- 💥 `VIGIL_PLAN_INVALID` `plans/broken.md:14:3` contract: unknown property "expec"',
    )
    expect(errors).toContain('  ```text\n  starting payments\n  Error: EADDRINUSE\n  ```')
    expect(section(md, 'Notes from passing checks')).toContain(
      'ℹ️ `catalog-browse` › product matches its schema',
    )
    expect(tableRows(md, 'Where time went')[1]).toEqual(['`sandbox:candidate`', '2.10s', '41%'])
  })

  it('shows each service’s peak RSS, CPU seconds and descriptors, candidate beside baseline, then each check’s copies', () => {
    expect(md).toContain('| service | peak RSS (candidate / baseline) | CPU s (candidate / baseline) |')
    expect(tableRows(md, 'Resources while the checks ran')).toEqual([
      ['`orders`', '81.2 MB / 58.0 MB', '2.4 / 1.1', '31 / 24'],
      ['`catalog`', '45.0 MB / –', '0.3 / –', '19 / –'],
      ['`orders` (copy: `checkout-order` › create order)', '70.5 MB / 55.0 MB', '1.2 / 0.9', '27 / 23'],
      ['`orders` (copy 2: `checkout-order` › create order)', '49.0 MB / –', '0.4 / –', '21 / –'],
    ])
  })

  it('says when the run was cancelled and leaves out empty sections', () => {
    const passed: Verdict = {
      ...verdict,
      status: 'pass',
      exitCode: 0,
      cancelled: true,
      errors: [],
      selection: undefined,
      timings: [],
      plans: [verdict.plans.find((p) => p.name === 'catalog-browse')!],
    }
    const out = renderMarkdown(passed)
    expect(out.startsWith('## ✅ vigil: PASS')).toBe(true)
    expect(out).toContain('> The run was cancelled: results are partial.')
    for (const title of ['Selection', 'Failures', 'Run errors', 'Where time went'])
      expect(out).not.toContain(`### ${title}`)
  })

  it('has no plans table when no plan ran (nothing applied to the change)', () => {
    const none: Verdict = { ...verdict, status: 'pass', exitCode: 0, errors: [], plans: [] }
    const out = renderMarkdown(none)
    expect(out.startsWith('## ✅ vigil: PASS')).toBe(true)
    expect(out).not.toContain('### Plans')
    expect(out).toContain('### Selection')
  })

  it('stays under the size limit, cutting sections with a note', () => {
    const big = 'x'.repeat(2000)
    const checks: CheckResult[] = Array.from({ length: 3000 }, (_, i) => ({
      ...failedCheck,
      check: `case ${String(i).padStart(4, '0')}`,
      findings:
        failedCheck.state === 'failed'
          ? failedCheck.findings.map((f) => ({ ...f, message: `${f.message} ${big}` }))
          : [],
    }))
    const plan: PlanResult = { ...verdict.plans[1]!, checks }
    const huge: Verdict = { ...verdict, plans: [plan, ...verdict.plans.slice(2)] }
    const out = renderMarkdown(huge)
    expect(Buffer.byteLength(out)).toBeLessThanOrEqual(GITHUB_SUMMARY_LIMIT)
    expect(out).toMatch(/_\d+ of 3000 failing checks not shown\._/)
    expect(out).toContain('shortened to fit its size limit (GitHub takes at most 1 MiB)')
    // The run errors and the plan table have priority over the failure details.
    expect(out).toContain('### Run errors')
    expect(tableRows(out, 'Plans')).toHaveLength(3)
    const small = renderMarkdown(huge, { maxBytes: 4000 })
    expect(Buffer.byteLength(small)).toBeLessThanOrEqual(4000)
  })

  it('escapes text, code spans and fences', () => {
    expect(mdText('a|b *c* <x> & [l](u)')).toBe('a\\|b \\*c\\* \\<x\\> &amp; \\[l\\](u)')
    expect(mdCode('a `b` | c')).toBe('``a `b` \\| c``')
    expect(mdFence('sh', 'echo ```\nx')).toBe('````sh\necho ```\nx\n````')
  })
})
