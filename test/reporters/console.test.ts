import { describe, expect, it } from 'vitest'
import type { CheckResult, RunStartInfo } from '../../engine/verdict.js'
import { renderCheckLine, renderLiveBlock, renderSummary } from '../../reporters/console-render.js'
import { ConsoleReporter, colorEnabled, consoleReporter } from '../../reporters/console.js'
import {
  erroredCheck,
  failedCheck,
  frozen,
  passedCheck,
  skippedCheck,
  verdict,
  warnedCheck,
} from './fixture.js'
import { Capture, fakeIO } from './streams.js'

// Any SGR colour sequence; cursor movement (A, J) is checked separately.
/* eslint-disable no-control-regex -- these patterns match terminal escape sequences on purpose */
const COLOR = /\x1b\[\d+(;\d+)*m/
const CURSOR = /\x1b\[\d+A\x1b\[J/
/* eslint-enable no-control-regex */

const startInfo: RunStartInfo = {
  runId: 'run-20250102-0001',
  startedAt: verdict.startedAt,
  selection: verdict.selection,
  plans: verdict.plans.map((p) => ({
    name: p.name,
    title: p.title,
    file: p.file,
    blocking: p.blocking,
    checks: p.checks.map((c) => ({ name: c.check, kind: c.kind })),
  })),
  sandboxes: [
    { name: 'candidate', services: { orders: 'http://127.0.0.1:4001', catalog: 'http://127.0.0.1:4000' } },
    { name: 'baseline', services: { orders: 'http://127.0.0.1:5001', catalog: 'http://127.0.0.1:5000' } },
  ],
}

const results: CheckResult[] = [passedCheck, failedCheck, erroredCheck, skippedCheck, warnedCheck]

/** Drives a reporter through a run with a fake clock: every check starts, some report progress, all end. */
async function drive(reporter: ConsoleReporter, clock: { t: number }): Promise<void> {
  reporter.onRunStart(startInfo)
  for (const r of results) {
    if (r.state === 'skipped') continue
    reporter.onCheckStart({ plan: r.plan, check: r.check, kind: r.kind })
    clock.t += 250
  }
  reporter.onCheckProgress({
    plan: 'payments-load',
    check: 'authorise p95',
    kind: 'load',
    note: 'candidate 50%',
  })
  reporter.onCheckProgress({
    plan: 'payments-load',
    check: 'authorise p95',
    kind: 'load',
    note: 'candidate 50%',
  })
  reporter.onCheckProgress({
    plan: 'payments-load',
    check: 'authorise p95',
    kind: 'load',
    note: 'baseline 10%',
  })
  for (const r of results) {
    clock.t += 100
    reporter.onCheckEnd(r)
  }
  await reporter.onRunEnd(verdict)
}

describe('console reporter, plain (not a terminal)', () => {
  const out = new Capture(false)
  const clock = { t: 1000 }
  const run = drive(new ConsoleReporter({ stream: out, now: () => clock.t }), clock)

  it('prints finished checks as lines in completion order, without colour or cursor movement', async () => {
    await run
    const text = out.text
    expect(text).not.toMatch(COLOR)
    expect(text).not.toMatch(CURSOR)
    const lines = text.split('\nFailures\n')[0]!.split('\n')
    const finished = lines.filter((l) => /^[✓✗!▲-] /.test(l))
    expect(finished).toEqual([
      '✓ catalog-browse › product matches its schema  contract · 42ms · 1 note',
      '✗ checkout-order › create order  e2e · 1.23s · 2 errors, 1 warning',
      '! payments-load › authorise p95  load · 310ms',
      '- payments-load › refund regression  skipped: requires a baseline; the run has none (--no-baseline)',
      // search-ranking is not blocking: its failure is a warning while the run is live, too.
      '▲ search-ranking › top result is exact match  contract · 88ms · 1 error',
    ])
  })

  it('prints each distinct progress note once', async () => {
    await run
    const notes = out.text.split('\n').filter((l) => l.startsWith('  … '))
    expect(notes).toEqual([
      '  … payments-load › authorise p95: candidate 50%',
      '  … payments-load › authorise p95: baseline 10%',
    ])
  })

  it('starts with the run, the selection and the sandboxes, and ends with the one-line verdict', async () => {
    await run
    const text = out.text
    expect(text.startsWith('vigil run-20250102-0001 · 4 plans · 5 checks\n')).toBe(true)
    expect(text).toContain('⚠ selection degraded: LLM timed out; the rules selector decided')
    expect(text).toContain('candidate: catalog http://127.0.0.1:4000, orders http://127.0.0.1:4001')
    expect(text.trimEnd().split('\n').at(-1)).toBe(
      'ERROR · 5 checks: 1 passed, 1 failed, 1 warned, 1 errored, 1 skipped · 4 plans: 1 passed, 1 failed, 1 warned, 1 errored · 2 run errors · 5.12s · exit 2',
    )
  })
})

describe('console reporter on a terminal', () => {
  it('redraws a live block in place, and honours NO_COLOR', async () => {
    const { io, stdout } = fakeIO({ tty: true, env: { NO_COLOR: '1' } })
    const reporter = consoleReporter.create({
      target: { kind: 'stream', stream: stdout, name: 'stdout', isTTY: true },
      io,
    })
    expect(reporter).toBeInstanceOf(ConsoleReporter)
    reporter.onRunStart!(startInfo)
    reporter.onCheckStart!({ plan: 'checkout-order', check: 'create order', kind: 'e2e' })
    reporter.onCheckStart!({ plan: 'payments-load', check: 'authorise p95', kind: 'load' })
    reporter.onCheckProgress!({
      plan: 'payments-load',
      check: 'authorise p95',
      kind: 'load',
      note: 'candidate 50%',
    })
    const live = stdout.text
    expect(live).toMatch(CURSOR)
    expect(live).toContain('checkout-order › create order')
    expect(live).toContain('load')
    expect(live).toContain('candidate 50%')
    expect(live).toContain('2 running · 0/5 done')
    reporter.onCheckEnd!(failedCheck)
    reporter.onCheckEnd!(erroredCheck)
    await reporter.onRunEnd!(verdict)
    const text = stdout.text
    expect(text).not.toMatch(COLOR)
    expect(text).toContain('✗ checkout-order › create order  e2e · 1.23s')
    // The last finished check erased the block (nothing runs any more) and drew none after it.
    // eslint-disable-next-line no-control-regex -- matching the cursor-up and clear sequence
    expect(stdout.chunks.at(-2)).toMatch(/^\r\x1b\[\d+A\x1b\[J! payments-load › authorise p95.*\n.*\n$/)
    expect(stdout.chunks.at(-1)).not.toMatch(CURSOR)
    expect(stdout.chunks.at(-1)).toContain('Where time went')
  })

  it('never draws wider than the terminal', () => {
    const running = [
      {
        plan: 'a-very-long-plan-name-'.repeat(4),
        check: 'and a long check name',
        kind: 'e2e',
        note: 'x'.repeat(200),
        startedAt: 0,
      },
    ]
    const lines = renderLiveBlock(running, { done: 1, total: 9, failed: 0, elapsedMs: 1500 }, 1500, 0, 40, 10)
    for (const line of lines) expect([...line].length).toBeLessThanOrEqual(40)
    const many = Array.from({ length: 30 }, (_, i) => ({
      plan: 'p',
      check: `c${i}`,
      kind: 'load',
      startedAt: 0,
    }))
    const block = renderLiveBlock(many, { done: 0, total: 30, failed: 0, elapsedMs: 0 }, 0, 0, 80, 8)
    expect(block).toHaveLength(8)
    expect(block.at(-2)).toContain('… and 24 more running')
  })

  it('colours when FORCE_COLOR is set, even off a terminal', () => {
    expect(renderCheckLine(passedCheck, { color: true })).toMatch(COLOR)
    expect(renderCheckLine(passedCheck, { color: false })).not.toMatch(COLOR)
  })
})

describe('colorEnabled', () => {
  it.each([
    [{}, true, true],
    [{}, false, false],
    [{ NO_COLOR: '1' }, true, false],
    [{ NO_COLOR: '' }, true, true],
    [{ FORCE_COLOR: '1' }, false, true],
    [{ FORCE_COLOR: '0' }, true, false],
    [{ NO_COLOR: '1', FORCE_COLOR: '1' }, true, false],
    [{ TERM: 'dumb' }, true, false],
  ])('env %j, terminal %s → %s', (env, tty, expected) => {
    expect(colorEnabled(env, tty)).toBe(expected)
  })
})

describe('renderSummary', () => {
  const text = renderSummary(frozen(verdict))

  it('lists failures first with every finding, then warnings, notes, run errors, plans, timings, verdict', () => {
    const order = [
      'Failures',
      'Warnings (non-blocking plans and checks)',
      'Notes from passing checks',
      'Run errors',
      'Plans',
      'Resources while the checks ran',
      'Where time went',
      'ERROR ·',
    ]
    const positions = order.map((title) => text.indexOf(`\n${title}`))
    expect(positions.every((p) => p >= 0)).toBe(true)
    expect([...positions].sort((a, b) => a - b)).toEqual(positions)
    expect(text).toContain(
      '     expected:  201\n     actual:    500\n     request:   POST http://127.0.0.1:4001/orders (candidate)',
    )
    const resources = text.slice(
      text.indexOf('\nResources while the checks ran'),
      text.indexOf('\nWhere time went'),
    )
    expect(
      resources
        .split('\n')
        .filter((l) => l.trim())
        .slice(1)
        .map((l) => l.trim().split(/\s{2,}/)),
    ).toEqual([
      [
        'service',
        'peak RSS (candidate / baseline)',
        'CPU s (candidate / baseline)',
        'fds (candidate / baseline)',
      ],
      ['orders', '81.2 MB / 58.0 MB', '2.4 / 1.1', '31 / 24'],
      ['catalog', '45.0 MB / –', '0.3 / –', '19 / –'],
      ['orders (copy: checkout-order › create order)', '70.5 MB / 55.0 MB', '1.2 / 0.9', '27 / 23'],
      ['orders (copy 2: checkout-order › create order)', '49.0 MB / –', '0.4 / –', '21 / –'],
    ])
    expect(text).toContain(
      "     reproduce: curl -sS -i -X POST http://127.0.0.1:4001/orders -H 'authorization: Bearer [REDACTED]'",
    )
    expect(text).toContain(
      '  HttpNetworkError [ECONNREFUSED]: connect ECONNREFUSED 127.0.0.1:4003 <payments>',
    )
    expect(text).toContain('! plans/broken.md:14:3 contract: unknown property "expec"')
  })

  it('has a table of plans sorted by name', () => {
    const rows = text.split('\nPlans\n\n')[1]!.split('\n\n')[0]!.split('\n')
    expect(rows.map((r) => r.trim().split(/\s{2,}/)[0])).toEqual([
      'plan',
      'catalog-browse',
      'checkout-order',
      'payments-load',
      'search-ranking',
      'total',
    ])
    expect(rows[4]).toMatch(/search-ranking\s+warned \(non-blocking\)\s+1\s+0\s+1\s+0\s+0\s+90ms/)
  })

  it('shows control characters instead of sending them to the terminal', () => {
    const v = structuredClone(verdict)
    const check = v.plans[1]!.checks[0]!
    if (check.state === 'failed') check.findings[0]!.message = 'boom \x1b]0;pwned\x07 \x1b[2J'
    const out = renderSummary(v)
    expect(out).not.toContain('\x1b')
    expect(out).toContain('boom \\u001b]0;pwned\\u0007 \\u001b[2J')
  })

  it('is the same whatever order the plans come in', () => {
    expect(renderSummary({ ...verdict, plans: [...verdict.plans].reverse() })).toBe(text)
  })
})
