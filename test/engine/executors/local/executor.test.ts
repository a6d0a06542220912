import { describe, expect, it } from 'vitest'
import type { CheckBlock, Plan } from '../../../../plans/types.js'
import { defineCheckKind, type CheckKind } from '../../../../engine/api/kind.js'
import { checkSeed, executePlans, type ExecuteOptions } from '../../../../engine/executors/local/executor.js'
import { HttpClient } from '../../../../engine/http/client.js'
import { Redactor } from '../../../../engine/http/redact.js'
import { Variables } from '../../../../engine/vars.js'
import type { CheckEvent, CheckResult } from '../../../../engine/verdict.js'
import { createSandbox } from '../../../../engine/sandboxes/index.js'

interface TestParams {
  delayMs?: number
  fail?: string
  throws?: string
  ignoreSignal?: boolean
  leak?: boolean
  /** Requests in flight at once, each listening to the check's signal while it lasts. */
  fanOut?: number
}

/** A minute: longer than any test here waits, so only a timeout, a cancel or a deadline ends it. */
const FOREVER = 60_000

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms)
    // A check that ignores its signal leaves its sleep behind; it must not hold the worker.
    timer.unref()
    signal?.addEventListener('abort', () => {
      clearTimeout(timer)
      reject(signal.reason)
    })
  })

let active = 0
let maxActive = 0
const seeds: Record<string, number> = {}
const test = defineCheckKind<TestParams>({
  meta: { description: 'test kind', schema: {}, messages: { bad: 'Bad thing: {{what}} with {{secret}}.' } },
  async run(ctx) {
    active++
    maxActive = Math.max(maxActive, active)
    seeds[ctx.check.id] = ctx.seed
    try {
      ctx.progress('working')
      if (ctx.params.fanOut) {
        await Promise.all(
          Array.from({ length: ctx.params.fanOut }, async () => {
            const listener = () => undefined
            ctx.signal.addEventListener('abort', listener)
            await sleep(5)
            ctx.signal.removeEventListener('abort', listener)
          }),
        )
      }
      if (ctx.params.delayMs) {
        if (ctx.params.ignoreSignal) await sleep(ctx.params.delayMs)
        else await sleep(ctx.params.delayMs, ctx.signal)
      }
      if (ctx.params.throws) throw new Error(ctx.params.throws)
      if (ctx.params.fail)
        ctx.report({
          messageId: 'bad',
          data: { what: ctx.params.fail, secret: 'hunter22' },
          actual: 'hunter22',
        })
      ctx.report({ severity: 'info', message: 'note' })
    } finally {
      active--
    }
  },
})
const needsBaseline: CheckKind<TestParams> = { ...test, meta: { ...test.meta, requiresBaseline: true } }
const measuring: CheckKind<TestParams> = { ...test, meta: { ...test.meta, exclusive: true } }

function plan(name: string, checks: Array<TestParams & { kind?: string }>, extra: Partial<Plan> = {}): Plan {
  const blocks: CheckBlock[] = checks.map((params, index) => ({
    kind: params.kind ?? 'test',
    name: `c${index}`,
    id: `${name}/c${index}`,
    index,
    location: { file: `plans/${name}.md`, line: 10 + index, column: 1 },
    params: { ...params } as Record<string, unknown>,
    source: '',
  }))
  return {
    name,
    title: name,
    selectionHint: '',
    paths: [],
    tags: [],
    always: false,
    blocking: true,
    vars: {},
    file: `plans/${name}.md`,
    dir: '.',
    frontmatter: {},
    checks: blocks,
    ...extra,
  }
}

async function execute(plans: Plan[], extra: Partial<ExecuteOptions> = {}) {
  const http = new HttpClient({ redactor: new Redactor({ secrets: ['hunter22'] }) })
  const events: string[] = []
  try {
    const result = await executePlans({
      plans,
      kinds: { test, 'needs-baseline': needsBaseline, measuring },
      sandboxes: {
        candidate: createSandbox({
          name: 'candidate',
          services: { api: 'http://127.0.0.1:1' },
          defaultService: 'api',
        }),
      },
      clients: { http },
      redactor: http.redactor,
      createVariables: () => new Variables(),
      concurrency: 4,
      reporter: {
        onCheckStart: (e: CheckEvent) => void events.push(`start ${e.plan}/${e.check}`),
        onCheckProgress: (e: CheckEvent) => void events.push(`progress ${e.plan}/${e.check} ${e.note}`),
        onCheckEnd: (r: CheckResult) => void events.push(`end ${r.plan}/${r.check} ${r.state}`),
      },
      ...extra,
    })
    return { ...result, events }
  } finally {
    await http.close()
  }
}

const states = (r: { plans: Array<{ checks: CheckResult[] }> }) =>
  r.plans.flatMap((p) => p.checks.map((c) => c.state))

describe('executePlans', () => {
  it('runs checks in parallel up to the concurrency, and returns them in plan order', async () => {
    maxActive = 0
    const delays = [120, 10, 80, 30, 60, 5, 100, 20]
    const result = await execute(
      [
        plan(
          'a',
          delays.slice(0, 4).map((delayMs) => ({ delayMs })),
        ),
        plan(
          'b',
          delays.slice(4).map((delayMs) => ({ delayMs })),
        ),
      ],
      {
        concurrency: 3,
      },
    )
    expect(maxActive).toBe(3)
    expect(result.plans.map((p) => p.name)).toEqual(['a', 'b'])
    expect(result.plans.flatMap((p) => p.checks.map((c) => `${c.plan}/${c.check}`))).toEqual([
      'a/c0',
      'a/c1',
      'a/c2',
      'a/c3',
      'b/c0',
      'b/c1',
      'b/c2',
      'b/c3',
    ])
    expect(states(result).every((s) => s === 'passed')).toBe(true)
    // End events come in completion order: the short a/c1 ends before the long a/c0.
    expect(result.events.indexOf('end a/c1 passed')).toBeLessThan(result.events.indexOf('end a/c0 passed'))
    expect(result.events).toContain('progress a/c0 working')
    expect(result.timings.map((t) => t.phase)).toEqual(['plan:a', 'plan:b'])
  })

  it('runs exclusive checks alone, after the shared ones, and still reports them in plan order', async () => {
    maxActive = 0
    const result = await execute(
      [
        plan('a', [{ kind: 'measuring', delayMs: 40 }, { delayMs: 60 }, { kind: 'measuring', delayMs: 20 }]),
        plan('b', [{ delayMs: 30 }, { delayMs: 10 }]),
      ],
      { concurrency: 4 },
    )
    expect(result.plans.flatMap((p) => p.checks.map((c) => `${c.plan}/${c.check} ${c.state}`))).toEqual([
      'a/c0 passed',
      'a/c1 passed',
      'a/c2 passed',
      'b/c0 passed',
      'b/c1 passed',
    ])
    const starts = result.events.filter((e) => e.startsWith('start ') || e.startsWith('end '))
    // Every shared check has ended before the first exclusive one starts; exclusive ones never overlap.
    const firstExclusive = starts.indexOf('start a/c0')
    for (const shared of ['a/c1', 'b/c0', 'b/c1']) {
      expect(starts.indexOf(`end ${shared} passed`)).toBeLessThan(firstExclusive)
    }
    expect(starts.slice(firstExclusive)).toEqual([
      'start a/c0',
      'end a/c0 passed',
      'start a/c2',
      'end a/c2 passed',
    ])
  })

  it('tells failed from errored, renders messages and redacts secrets', async () => {
    const result = await execute([plan('p', [{ fail: 'x' }, { throws: 'kaput hunter22' }, {}])])
    const [failed, errored, passed] = result.plans[0]!.checks
    expect(failed).toMatchObject({ state: 'failed', location: { file: 'plans/p.md', line: 10 } })
    if (failed?.state !== 'failed') throw new Error('expected failed')
    expect(failed.findings[0]).toMatchObject({
      messageId: 'bad',
      message: 'Bad thing: x with [REDACTED].',
      actual: '[REDACTED]',
      severity: 'error',
    })
    expect(errored).toMatchObject({ state: 'errored', error: { name: 'Error', message: 'kaput [REDACTED]' } })
    expect(passed).toMatchObject({ state: 'passed', findings: [{ message: 'note', severity: 'info' }] })
    expect(result.plans[0]!.state).toBe('errored')
  })

  it('lets a check have more than ten requests in flight on its signal without a leak warning', async () => {
    const warnings: string[] = []
    const onWarning = (w: Error) => void warnings.push(`${w.name}: ${w.message}`)
    process.on('warning', onWarning)
    try {
      const result = await execute([plan('fan', [{ fanOut: 25 }])])
      expect(states(result)).toEqual(['passed'])
      // Node emits warnings on the next tick.
      await new Promise((resolve) => setImmediate(resolve))
    } finally {
      process.off('warning', onWarning)
    }
    expect(warnings.filter((w) => w.includes('MaxListenersExceeded'))).toEqual([])
  })

  it('ends a check at its timeout as errored, even when the kind ignores its signal', async () => {
    const result = await execute([
      plan('slow', [{ delayMs: FOREVER, ignoreSignal: true }, { delayMs: FOREVER }], { timeoutMs: 100 }),
    ])
    for (const check of result.plans[0]!.checks) {
      expect(check).toMatchObject({
        state: 'errored',
        error: { code: 'VIGIL_CHECK_TIMEOUT', message: 'timed out after 100 ms' },
      })
      // The 100 ms timeout, with room for a loaded machine; the sleep alone would take a minute.
      if (check.state === 'errored') expect(check.durationMs).toBeLessThan(20_000)
    }
  })

  it('on cancel, ends in-flight checks as cancelled and skips those not started', async () => {
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 150)
    const result = await execute([plan('c', [{ delayMs: FOREVER }, { delayMs: FOREVER }, { delayMs: 10 }])], {
      concurrency: 2,
      signal: controller.signal,
    })
    expect(result.cancelled).toBe(true)
    const [a, b, c] = result.plans[0]!.checks
    expect(a).toMatchObject({ state: 'errored', error: { code: 'VIGIL_CANCELLED', message: 'cancelled' } })
    expect(b).toMatchObject({ state: 'errored', error: { code: 'VIGIL_CANCELLED' } })
    expect(c).toMatchObject({ state: 'skipped', note: 'not started: cancelled' })
  })

  it('stops at the run deadline', async () => {
    const result = await execute([plan('d', [{ delayMs: FOREVER }, { delayMs: FOREVER }])], {
      concurrency: 1,
      deadlineMs: 100,
    })
    expect(result.cancelled).toBe(true)
    expect(states(result)).toEqual(['errored', 'skipped'])
    expect(result.plans[0]!.checks[0]).toMatchObject({ error: { code: 'VIGIL_DEADLINE' } })
  })

  it('turns failures of a non-blocking plan into a warning', async () => {
    const result = await execute([plan('soft', [{ fail: 'meh' }], { blocking: false }), plan('hard', [{}])])
    expect(result.plans.map((p) => p.state)).toEqual(['warned', 'passed'])
  })

  it('turns failures of a non-blocking check into a warning, and says so on its result', async () => {
    const mixed = plan('mixed', [{ fail: 'meh' }, {}])
    const soft = { ...mixed, checks: [{ ...mixed.checks[0]!, blocking: false }, mixed.checks[1]!] }
    const result = await execute([soft, plan('hard', [{ fail: 'bad' }])])
    expect(result.plans.map((p) => p.state)).toEqual(['warned', 'failed'])
    expect(result.plans[0]!.checks.map((c) => [c.state, c.blocking])).toEqual([
      ['failed', false],
      ['passed', undefined],
    ])
  })

  it('skips kinds that need a baseline when there is none, and errors on unknown kinds', async () => {
    const result = await execute([plan('k', [{ kind: 'needs-baseline' }, { kind: 'nope' }])])
    expect(result.plans[0]!.checks[0]).toMatchObject({
      state: 'skipped',
      note: expect.stringMatching(/needs a baseline/),
    })
    expect(result.plans[0]!.checks[1]).toMatchObject({
      state: 'errored',
      error: { code: 'VIGIL_UNKNOWN_KIND' },
    })
  })

  it('gives each check a seed that depends on the run seed, plan and check only', async () => {
    await execute([plan('s', [{}, {}])], { seed: 42 })
    expect(seeds['s/c0']).toBe(checkSeed(42, 's', 's/c0'))
    expect(seeds['s/c0']).not.toBe(seeds['s/c1'])
    expect(checkSeed(42, 's', 's/c0')).not.toBe(checkSeed(43, 's', 's/c0'))
  })

  it('keeps running when a reporter hook throws', async () => {
    const result = await execute([plan('r', [{}])], {
      reporter: {
        onCheckStart: () => {
          throw new Error('reporter broke')
        },
      },
    })
    expect(states(result)).toEqual(['passed'])
  })
})
