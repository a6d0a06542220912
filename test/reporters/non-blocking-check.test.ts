/**
 * A check that is not blocking (`blocking: false` in its block) inside a blocking plan: every reporter
 * shows its failure as a warning that does not fail the run, and the JSON form keeps `blocking: false`.
 */
import { XMLParser } from 'fast-xml-parser'
import { describe, expect, it } from 'vitest'
import type { PlanResult, Verdict } from '../../engine/verdict.js'
import { planState, summarize, verdictStatus } from '../../engine/verdict-builder.js'
import { problems, WARNINGS_TITLE } from '../../reporters/format.js'
import { renderCheckLine, renderSummary } from '../../reporters/console-render.js'
import { ConsoleReporter } from '../../reporters/console.js'
import { renderJunit } from '../../reporters/junit.js'
import { renderMarkdown } from '../../reporters/markdown.js'
import { validateVerdict } from '../../reporters/schema.js'
import { failedCheck, passedCheck, verdict as fixture } from './fixture.js'
import { Capture } from './streams.js'

const soft = { ...failedCheck, check: 'flaky upstream', blocking: false as const }
const checks = [{ ...passedCheck, plan: soft.plan }, soft]
const plan: PlanResult = {
  name: soft.plan,
  title: 'Checkout creates an order',
  file: 'plans/checkout-order.md',
  blocking: true,
  state: planState(true, checks),
  durationMs: 1300,
  checks,
}
const verdict: Verdict = {
  ...fixture,
  ...verdictStatus({ plans: [plan] }),
  plans: [plan],
  errors: [],
  summary: summarize([plan]),
}

describe('a non-blocking check in a blocking plan', () => {
  it('warns: the plan is warned, the run passes, the JSON form is valid', () => {
    expect(plan.state).toBe('warned')
    expect(verdict.status).toBe('pass')
    expect(verdict.summary.checks).toMatchObject({ passed: 1, failed: 0, warned: 1 })
    expect(validateVerdict(JSON.parse(JSON.stringify(verdict)))).toEqual({ valid: true, errors: [] })
    expect(problems(verdict).map((p) => [p.result.check, p.warning])).toEqual([['flaky upstream', true]])
  })

  it('console: a warning triangle live, and the warnings section at the end', async () => {
    expect(renderCheckLine(soft, { warning: true })).toMatch(/^▲ checkout-order › flaky upstream/)
    const out = new Capture(false)
    const reporter = new ConsoleReporter({ stream: out, now: () => 0 })
    reporter.onCheckEnd(soft)
    await reporter.onRunEnd(verdict)
    expect(out.text).toMatch(/^▲ checkout-order › flaky upstream/m)
    const summary = renderSummary(verdict, { color: false })
    expect(summary).toContain(WARNINGS_TITLE)
    expect(summary).not.toMatch(/^Failures$/m)
    expect(summary).toContain(
      'checkout-order › flaky upstream  e2e · plans/checkout-order.md:20:1 · non-blocking',
    )
  })

  it('markdown: under warnings, saying the check is not blocking', () => {
    const md = renderMarkdown(verdict)
    expect(md).toContain(`## ${WARNINGS_TITLE}`)
    expect(md).not.toContain('## Failures')
    expect(md).toContain('· non-blocking check')
  })

  it('junit: no failure, the reason in system-out', () => {
    const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(
      renderJunit(verdict),
    )
    const suites = [xml.testsuites.testsuite].flat() as Array<{ name: string; testcase: unknown }>
    const cases = [suites.find((s) => s.name === soft.plan)!.testcase].flat() as Array<
      Record<string, unknown>
    >
    const c = cases.find((t) => t.name === 'flaky upstream')!
    expect(c.failure).toBeUndefined()
    expect(String(c['system-out'])).toContain(
      'warning: check flaky upstream is not blocking, so its failure does not fail the run.',
    )
  })
})
