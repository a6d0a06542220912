import { describe, expect, it } from 'vitest'
import type { CheckBlock, Plan } from '../../../../plans/types.js'
import { defineCheckKind } from '../../../../engine/api/kind.js'
import { closeClaim, executePlans } from '../../../../engine/executors/local/executor.js'
import { ALONE, MeasureGate } from '../../../../engine/executors/local/measure-gate.js'
import { Redactor } from '../../../../engine/http/redact.js'
import { createSandbox } from '../../../../engine/sandboxes/sandbox.js'
import { Variables } from '../../../../engine/vars.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Runs claims through a gate; returns the order of start/end events. */
async function through(gate: MeasureGate, claims: Array<[string, string[], number]>, ms = 20) {
  const events: string[] = []
  const runs = claims.map(([id, resources, cores]) =>
    gate.run(id, { resources, cores }, async () => {
      events.push(`start ${id}`)
      await sleep(ms)
      events.push(`end ${id}`)
    }),
  )
  gate.open()
  await Promise.all(runs)
  return events
}

describe('measure gate', () => {
  it('waits for open(), then runs measurements that share nothing together, on enough cores', async () => {
    const gate = new MeasureGate(4)
    let started = false
    const run = gate.run('a', { resources: ['service:x'], cores: 1 }, async () => void (started = true))
    await sleep(10)
    expect(started).toBe(false)
    gate.open()
    await run
    expect(started).toBe(true)
    const events = await through(new MeasureGate(4), [
      ['a', ['service:x'], 2],
      ['b', ['service:y'], 2],
    ])
    expect(events.slice(0, 2)).toEqual(['start a', 'start b'])
  })

  it('runs one at a time when they share a service or a generator, or the cores are too few', async () => {
    const serial = ['start a', 'end a', 'start b', 'end b']
    expect(
      await through(new MeasureGate(8), [
        ['a', ['service:x'], 1],
        ['b', ['service:x'], 1],
      ]),
    ).toEqual(serial)
    const generator = [
      ['a', ['service:x', 'load-generator:main-thread'], 1],
      ['b', ['service:y', 'load-generator:main-thread'], 1],
    ] as Array<[string, string[], number]>
    expect(await through(new MeasureGate(8), generator)).toEqual(serial)
    expect(
      await through(new MeasureGate(2), [
        ['a', ['service:x'], 2],
        ['b', ['service:y'], 1],
      ]),
    ).toEqual(serial)
    // An empty claim, or more cores than the machine has, means alone.
    expect(
      await through(new MeasureGate(8), [
        ['a', [], 1],
        ['b', ['service:y'], 1],
      ]),
    ).toEqual(serial)
    expect(
      await through(new MeasureGate(2), [
        ['a', ['service:x'], 3],
        ['b', ['service:y'], 1],
      ]),
    ).toEqual(serial)
  })

  it('keeps plan order: a later measurement never overtakes an earlier one it conflicts with', async () => {
    const gate = new MeasureGate(8)
    const events = await through(gate, [
      ['a', ['service:x'], 1],
      ['b', ['service:x', 'service:y'], 1],
      ['c', ['service:y'], 1],
    ])
    expect(events.indexOf('start c')).toBeGreaterThan(events.indexOf('start b'))
    expect(gate.together.size).toBe(0)
  })

  it('runs work that measures nothing before it opens; a measurement that shares a resource waits for it', async () => {
    const gate = new MeasureGate(4)
    const events: string[] = []
    const step = (name: string) => async () => {
      events.push(`start ${name}`)
      await sleep(40)
      events.push(`end ${name}`)
    }
    const warm = gate.early(
      'w',
      { resources: ['service:x', 'load-generator:main-thread'], cores: 2 },
      step('w'),
    )
    await sleep(5)
    expect(events).toEqual(['start w'])
    const x = gate.run('x', { resources: ['service:x'], cores: 1 }, step('x'))
    const y = gate.run('y', { resources: ['service:y'], cores: 1 }, step('y'))
    gate.open()
    await Promise.all([warm, x, y])
    expect(await warm).toBe(true)
    // y shares nothing with the warm-up: it starts at once; x waits until the warm-up ends.
    expect(events.indexOf('start y')).toBeLessThan(events.indexOf('end w'))
    expect(events.indexOf('start x')).toBeGreaterThan(events.indexOf('end w'))
    // A warm-up is not a measurement: nothing was measured together with it.
    expect(gate.together.has('w')).toBe(false)
    expect([...gate.together.values()].some((others) => others.has('w'))).toBe(false)
  })

  it('declines work beside the checks once it is open, without a core to spare, or with a claim on everything', async () => {
    let ran = 0
    const fn = async () => void ran++
    const open = new MeasureGate(4)
    open.open()
    expect(await open.early('a', { resources: ['service:x'], cores: 1 }, fn)).toBe(false)
    const gate = new MeasureGate(2)
    expect(await gate.early('b', { resources: ['service:x'], cores: 2 }, fn)).toBe(false)
    expect(await gate.early('c', { resources: [], cores: 1 }, fn)).toBe(false)
    expect(ran).toBe(0)
    expect(await gate.early('d', { resources: ['service:x'], cores: 1 }, fn)).toBe(true)
    expect(ran).toBe(1)
  })

  it('runs early work that shares a resource one at a time, and lets the opening cancel what has not started', async () => {
    const gate = new MeasureGate(8)
    const events: string[] = []
    let release!: () => void
    const held = new Promise<void>((resolve) => (release = resolve))
    const claim = { resources: ['load-generator:main-thread', 'service:x'], cores: 1 }
    const first = gate.early('a', claim, async () => {
      events.push('a')
      await held
    })
    const second = gate.early(
      'b',
      { ...claim, resources: ['load-generator:main-thread', 'service:y'] },
      async () => void events.push('b'),
    )
    await sleep(10)
    expect(events).toEqual(['a'])
    gate.open()
    expect(await second).toBe(false)
    release()
    expect(await first).toBe(true)
    expect(events).toEqual(['a'])
  })

  it('closes a claim over what its services call, on both sides; unknown dependencies mean alone', () => {
    const sandbox = (name: string, dependencies?: Record<string, string[]>) =>
      createSandbox({
        name,
        services: {
          orders: 'http://127.0.0.1:1',
          catalog: 'http://127.0.0.1:2',
          payments: 'http://127.0.0.1:3',
        },
        defaultService: 'orders',
        ...(dependencies ? { dependencies } : {}),
      })
    const graph = { orders: ['catalog', 'payments'], catalog: [], payments: [] }
    const claim = { resources: ['service:orders', 'load-generator:k6'], cores: 2 }
    expect(
      closeClaim(claim, { candidate: sandbox('candidate', graph), baseline: sandbox('baseline', graph) }),
    ).toEqual({
      resources: ['load-generator:k6', 'service:catalog', 'service:orders', 'service:payments'],
      cores: 2,
    })
    expect(closeClaim(claim, { candidate: sandbox('candidate') }).resources).toEqual([ALONE])
  })
})

interface Params {
  service: string
  cores: number
}
const events: string[] = []
const shared = defineCheckKind<{ ms: number }>({
  meta: { description: 'shared', schema: {}, messages: {} },
  async run(ctx) {
    await sleep(ctx.params.ms)
    events.push(`shared end ${ctx.check.name}`)
  },
})
const measuring = defineCheckKind<Params & { warmUp?: boolean }>({
  meta: { description: 'measuring', schema: {}, messages: {}, exclusive: 'measure' },
  async run(ctx) {
    events.push(`set-up ${ctx.check.name}`)
    if (ctx.params.warmUp) {
      const beside = await ctx.warmUp?.(
        { resources: [`service:${ctx.params.service}`], cores: ctx.params.cores },
        async () => void events.push(`warm-up ${ctx.check.name}`),
      )
      events.push(`warmed ${ctx.check.name} ${beside ? 'beside' : 'inside'}`)
    }
    await ctx.measure({ resources: [`service:${ctx.params.service}`], cores: ctx.params.cores }, async () => {
      events.push(`measure ${ctx.check.name}`)
      await sleep(50)
    })
  },
})

/** A measuring kind's part beside the other checks, as an event check observes: it may ask to measure (alone) after. */
const observing = defineCheckKind<{ ms: number; alone?: boolean }>({
  meta: { description: 'observing', schema: {}, messages: {}, exclusive: 'measure' },
  async run(ctx) {
    await sleep(ctx.params.ms)
    events.push(`observed ${ctx.check.name}`)
    if (ctx.params.alone)
      await ctx.measure({ resources: [], cores: 1 }, async () => void events.push(`alone ${ctx.check.name}`))
  },
})

function plan(checks: Array<{ kind: string; params: Record<string, unknown> }>): Plan {
  const blocks: CheckBlock[] = checks.map((c, index) => ({
    kind: c.kind,
    name: `c${index}`,
    id: `p/c${index}`,
    index,
    location: { file: 'plans/p.md', line: index + 1, column: 1 },
    params: c.params,
    source: '',
  }))
  return {
    name: 'p',
    title: 'p',
    selectionHint: '',
    paths: [],
    tags: [],
    always: false,
    blocking: true,
    vars: {},
    file: 'plans/p.md',
    dir: '.',
    frontmatter: {},
    checks: blocks,
  }
}

/** Runs one plan of these checks through the executor, on a candidate with services `a` and `b`; `events` restarts. */
function execute(checks: Array<{ kind: string; params: Record<string, unknown> }>) {
  events.length = 0
  const candidate = createSandbox({
    name: 'candidate',
    services: { a: 'http://127.0.0.1:1', b: 'http://127.0.0.1:2' },
    defaultService: 'a',
    dependencies: { a: [], b: [] },
  })
  return executePlans({
    plans: [plan(checks)],
    kinds: { shared, measuring, observing },
    sandboxes: { candidate },
    clients: {},
    redactor: new Redactor({ secrets: [] }),
    createVariables: () => new Variables(),
    concurrency: 4,
  })
}

describe('executor: measurements', () => {
  it('sets measurements up while shared checks run, measures after them, and says which measured together', async () => {
    const result = await execute([
      { kind: 'measuring', params: { service: 'a', cores: 1 } },
      { kind: 'shared', params: { ms: 80 } },
      { kind: 'measuring', params: { service: 'b', cores: 1 } },
      { kind: 'measuring', params: { service: 'a', cores: 1 } },
    ])
    const sharedEnd = events.indexOf('shared end c1')
    expect(events.indexOf('set-up c0')).toBeLessThan(sharedEnd)
    expect(events.indexOf('set-up c3')).toBeLessThan(sharedEnd)
    for (const c of ['c0', 'c2', 'c3']) expect(events.indexOf(`measure ${c}`)).toBeGreaterThan(sharedEnd)
    const checks = result.plans[0]!.checks
    expect(checks.map((c) => c.state)).toEqual(['passed', 'passed', 'passed', 'passed'])
    const notes = checks.map((c) =>
      'findings' in c
        ? c.findings.filter((f) => f.messageId === 'measured-together').map((f) => f.message)
        : [],
    )
    // c0 and c2 load different services: together on 2 cores. c3 shares `a` with c0, so it waits for it.
    expect(notes[0]![0]).toMatch(/^Measured at the same time as p › c2/)
    expect(notes[1]).toEqual([])
    expect(notes[2]![0]).toMatch(/p › c0/)
    expect(notes[3]!.join(' ')).not.toMatch(/p › c0/)
  })

  it("opens only once every measuring check's part beside the others has ended: no measurement starts under an observation", async () => {
    await execute([
      { kind: 'shared', params: { ms: 20 } },
      { kind: 'measuring', params: { service: 'a', cores: 1 } },
      { kind: 'observing', params: { ms: 150 } },
    ])
    expect(events.indexOf('observed c2')).toBeGreaterThan(events.indexOf('shared end c0'))
    expect(events.indexOf('measure c1')).toBeGreaterThan(events.indexOf('observed c2'))
    // One that comes to the gate to measure alone counts as arrived: the gate opens, measurements keep plan order.
    await execute([
      { kind: 'measuring', params: { service: 'a', cores: 1 } },
      { kind: 'observing', params: { ms: 100, alone: true } },
    ])
    expect(events).toEqual(['set-up c0', 'observed c1', 'measure c0', 'alone c1'])
  })

  it('lets a measuring check warm up beside the shared checks when a core is left for them', async () => {
    await execute([
      { kind: 'shared', params: { ms: 80 } },
      { kind: 'measuring', params: { service: 'a', cores: 1, warmUp: true } },
    ])
    // One core of a machine with at least two: the warm-up ran while the shared check still did.
    expect(events.indexOf('warm-up c1')).toBeLessThan(events.indexOf('shared end c0'))
    expect(events).toContain('warmed c1 beside')
    expect(events.indexOf('measure c1')).toBeGreaterThan(events.indexOf('shared end c0'))
  })
})
