/**
 * The event kind against real brokers (the embedded MQTT broker, and nats-server when installed): a real
 * process sandbox per side with its own broker, a service that publishes when asked, and the kind run with
 * the real HTTP and broker clients. Valid blocks pass; each broken expectation names its message.
 */
import { createHash } from 'node:crypto'
import { readdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import type { CheckContext, CheckMemory, ReportDescriptor } from '../../../../engine/api/kind.js'
import type { Sandbox } from '../../../../engine/api/sandbox.js'
import {
  clients,
  openClients,
  SandboxAddresses,
  type BrokerClient,
} from '../../../../engine/clients/index.js'
import { findBinary } from '../../../../engine/dependencies/server.js'
import type { HttpClient } from '../../../../engine/http/client.js'
import { Redactor } from '../../../../engine/http/redact.js'
import { loadAsyncApi, selfContained } from '../../../../engine/kinds/event/asyncapi.js'
import event from '../../../../engine/kinds/event/kind.js'
import { keptApart } from '../../../../engine/kinds/event/observe.js'
import type { EventParams } from '../../../../engine/kinds/event/kind.js'
import { startSandboxes, type SandboxSession } from '../../../../engine/sandboxes/index.js'
import { Variables } from '../../../../engine/vars.js'
import { removeDir, tempDir, writeConfig } from '../../sandboxes/helpers.js'
import type { Plan } from '../../../../plans/types.js'

const PUBLISHER = fileURLToPath(new URL('../../../fixtures/brokers/publisher.js', import.meta.url))
const dirs: string[] = []
const sessions: SandboxSession[] = []
afterAll(async () => {
  await Promise.all(sessions.map((s) => s.stop()))
  dirs.forEach(removeDir)
})

async function shop(
  dep: string,
  baselineField?: string,
  baseline = true,
): Promise<{ session: SandboxSession; dir: string }> {
  const dir = tempDir()
  dirs.push(dir)
  const yaml = `
sandbox:
  provider: process
  dependencies: { bus: ${dep} }
  services:
    pub:
      command: ${JSON.stringify([process.execPath, PUBLISHER])}
      env: { BUS_URL: "{{deps.bus.url}}", BUS_PREFIX: "{{deps.bus.prefix}}" }
      ready: { http: /health, timeout: 20s }
${baselineField ? `baseline:\n  services: { pub: { env: { FIELD: ${baselineField} } } }\n` : ''}`
  const session = await startSandboxes({
    loaded: writeConfig(dir, yaml),
    signal: new AbortController().signal,
    log: () => {},
    baseline,
  })
  sessions.push(session)
  return { session, dir }
}

/** One capture of a run: on which broker (URL and prefix), from when to when. */
interface Window {
  broker: string
  start: number
  end?: number
}

interface RunOptions {
  /** Both sides, when not the session's. */
  sandboxes?: { candidate: Sandbox; baseline?: Sandbox }
  /** A warm session's memory of this check. */
  memory?: CheckMemory
  /** Filled with each capture's window. */
  windows?: Window[]
  /**
   * Observe beside other checks first (`ctx.afterComparisons`), with `neighbour` sending its requests through
   * the same HTTP client meanwhile; it is stopped when the check measures (observes alone).
   */
  beside?: {
    neighbour?: (
      http: HttpClient,
      sandboxes: { candidate: Sandbox; baseline?: Sandbox },
      stop: AbortSignal,
    ) => Promise<void>
    /** Counts the observations made alone. */
    measured: { count: number }
  }
}

async function run(
  session: SandboxSession,
  dir: string,
  params: EventParams,
  options: RunOptions = {},
): Promise<ReportDescriptor[]> {
  const redactor = new Redactor()
  const sandboxes = options.sandboxes ?? { candidate: session.candidate, baseline: session.baseline }
  const opened = openClients(clients, ['http', 'broker'], {
    redactor,
    addresses: SandboxAddresses.of([sandboxes.candidate, sandboxes.baseline]),
  })
  const windows = options.windows
  const broker = opened.byName.broker as BrokerClient
  if (windows) {
    // Records every capture's window, the captures themselves untouched.
    const capture = broker.capture.bind(broker)
    broker.capture = async (endpoint, channels, signal) => {
      const window: Window = { broker: `${endpoint.url} ${endpoint.prefix}`, start: performance.now() }
      windows.push(window)
      const inner = await capture(endpoint, channels, signal)
      return {
        get messages() {
          return inner.messages
        },
        waitFor: (...args) => inner.waitFor(...args),
        stop: async () => {
          const messages = await inner.stop()
          window.end ??= performance.now()
          return messages
        },
      }
    }
  }
  const findings: ReportDescriptor[] = []
  const quiet = new AbortController()
  const neighbour = options.beside?.neighbour?.(opened.byName.http as HttpClient, sandboxes, quiet.signal)
  const plan = {
    name: 'events',
    dir,
    file: path.join(dir, 'plan.md'),
    vars: {},
    checks: [],
  } as unknown as Plan
  const ctx = {
    plan,
    check: {
      kind: 'event',
      name: 'e',
      id: 'events/e',
      index: 0,
      location: { file: 'plan.md', line: 1, column: 1 },
      params,
      source: '',
    },
    params,
    sandboxes,
    ...(options.memory ? { memory: options.memory } : {}),
    clients: opened.byName,
    vars: new Variables({
      vars: {},
      envAllow: [],
      secrets: {},
      services: {},
      defaultService: 'pub',
      seed: 1,
      redactor,
    }),
    seed: 1,
    signal: new AbortController().signal,
    timeoutMs: 30_000,
    report: (d: ReportDescriptor) => void findings.push(d),
    progress: () => {},
    measure: async (_claim: unknown, fn: () => Promise<unknown>) => {
      if (options.beside) {
        options.beside.measured.count++
        quiet.abort()
        await neighbour
      }
      return fn()
    },
    ...(options.beside ? { afterComparisons: () => Promise.resolve() } : {}),
  } as unknown as CheckContext<EventParams, 'http' | 'broker'>
  try {
    await event.run(ctx)
  } finally {
    quiet.abort()
    await neighbour
    await opened.close()
  }
  return findings
}

const trigger = { request: 'POST /emit' }
const errors = (findings: ReportDescriptor[]) => findings.filter((f) => (f.severity ?? 'error') === 'error')

describe.each([
  { name: 'embedded mqtt', dep: '{ kind: mqtt }' },
  { name: 'nats', dep: '{ kind: nats }', binary: 'nats-server' },
])('event kind on $name', ({ dep, binary }) => {
  const missing = binary !== undefined && !findBinary(binary)
  it.skipIf(missing)(
    missing
      ? `skipped: ${binary} is not installed (apt-get install ${binary})`
      : 'captures, asserts and compares',
    { timeout: 90_000 },
    async () => {
      const { session, dir } = await shop(dep)
      // A valid block passes, on both sides, with learned noise (the ids differ between baseline runs).
      const ok = await run(session, dir, {
        trigger,
        expect: [
          { channel: 'thing.done', count: 1, json: { '/amountCents': { gt: 0 } } },
          { channel: 'thing.cancelled', count: 0, within: '300ms' },
        ],
        compare: 'baseline',
      })
      expect(ok).toEqual([])

      const bad = await run(session, dir, {
        trigger,
        expect: [{ channel: 'thing.done', count: 2, within: '500ms', json: { '/amountCents': { gt: 100 } } }],
      })
      expect(bad.map((f) => f.messageId).sort()).toEqual(['count', 'json'])
      expect(bad.find((f) => f.messageId === 'count')!.data).toMatchObject({
        channel: 'thing.done',
        actual: 1,
      })
      const evidence = bad[0]!.evidence!
      expect(evidence.transport).toBe('broker')
      expect(evidence.reproduce).toMatch(/thing\.done/)

      writeFileSync(
        path.join(dir, 'events.yaml'),
        'asyncapi: 3.0.0\ninfo: { title: t, version: "1" }\nchannels:\n  done: { address: thing.done }\n',
      )
      const unknown = await run(session, dir, {
        asyncapi: 'events.yaml',
        trigger,
        expect: [{ channel: 'thing.dne' }],
      })
      expect(unknown).toHaveLength(1)
      expect(unknown[0]!.data).toMatchObject({
        channel: 'thing.dne',
        known: 'thing.done',
        hint: ' (did you mean "thing.done"?)',
      })
    },
  )

  it.skipIf(missing)(
    missing
      ? `skipped: ${binary} is not installed (apt-get install ${binary})`
      : 'a field renamed in the candidate is breaking',
    { timeout: 90_000 },
    async () => {
      // The baseline publishes totalCents; the candidate publishes amountCents instead.
      const { session, dir } = await shop(dep, 'totalCents')
      const findings = await run(session, dir, {
        trigger,
        expect: [{ channel: 'thing.done' }],
        compare: 'baseline',
      })
      const removed = errors(findings)
      expect(removed).toHaveLength(1)
      expect(removed[0]).toMatchObject({
        messageId: 'field-removed',
        data: { channel: 'thing.done', pointer: '/totalCents' },
        expected: 'present',
      })

      // One finding per root cause: the schema's "required" for the removed field is the removal, not a second error.
      writeFileSync(
        path.join(dir, 'done.json'),
        JSON.stringify({
          type: 'object',
          required: ['totalCents'],
          properties: { totalCents: { type: 'integer' } },
        }),
      )
      const once = await run(session, dir, {
        trigger,
        expect: [{ channel: 'thing.done', schema: 'done.json' }],
        compare: 'baseline',
      })
      expect(errors(once).map((f) => [f.messageId, f.pointer])).toEqual([['field-removed', '/totalCents']])
      // Without the comparison, the schema says it, with what it expected and found.
      const alone = await run(session, dir, {
        trigger,
        expect: [{ channel: 'thing.done', schema: 'done.json' }],
      })
      expect(errors(alone)).toMatchObject([
        { messageId: 'schema', pointer: '/totalCents', expected: 'present' },
      ])
    },
  )
})

/** A warm session's memory of one check, counting what it gave back. */
function memory(): CheckMemory & { hits: number } {
  const kept = new Map<string, unknown>()
  const m = {
    hits: 0,
    get<T>(key: string): T | undefined {
      const value = kept.get(key) as T | undefined
      if (value !== undefined) m.hits++
      return value
    },
    set(key: string, value: unknown): void {
      kept.set(key, value)
    },
  }
  return m
}

const overlap = (a: Window, b: Window) => a.start < b.end! && b.start < a.end!
const idOf = (e: { url: string; prefix: string }) => `${e.url} ${e.prefix}`

describe.each([
  {
    name: 'nats shared by url (a subject prefix per side)',
    dep: '{ kind: nats, url: "{{shared}}" }',
    shared: '{ kind: nats }',
    binary: 'nats-server',
  },
  {
    name: 'redis shared by url (a database per side)',
    dep: '{ kind: redis, url: "{{shared}}" }',
    shared: '{ kind: redis }',
    binary: 'redis-server',
  },
  {
    name: 'rabbitmq (a virtual host per side on one server)',
    dep: '{ kind: rabbitmq }',
    binary: 'rabbitmq-server',
    timeoutMs: 240_000,
  },
  {
    name: 'mqtt shared by url (a topic prefix per side)',
    dep: '{ kind: mqtt, url: "{{shared}}" }',
    shared: '{ kind: mqtt }',
  },
])('event kind, both sides at once: $name', ({ dep, shared, binary, timeoutMs }) => {
  const missing = binary !== undefined && !findBinary(binary)
  it.skipIf(missing)(
    missing
      ? `skipped: ${binary} is not installed (apt-get install ${binary})`
      : 'observes the sides together without mixing their messages; a warm session observes the baseline once',
    { timeout: timeoutMs ?? 90_000 },
    async () => {
      let dependency = dep
      if (shared) {
        const server = await shop(shared, undefined, false)
        dependency = dep.replace('{{shared}}', server.session.candidate.deps!.bus!.url)
      }
      // The baseline publishes totalCents, the candidate amountCents: a message on the wrong side would show.
      const { session, dir } = await shop(dependency, 'totalCents')
      const candidate = idOf(session.candidate.deps!.bus!)
      const baseline = idOf(session.baseline!.deps!.bus!)
      const params: EventParams = {
        trigger,
        expect: [{ channel: 'thing.done', count: 1, json: { '/amountCents': { gt: 0 } } }],
        compare: 'baseline',
      }
      const windows: Window[] = []
      const remembered = memory()
      const first = await run(session, dir, params, { windows, memory: remembered })
      const onCandidate = windows.filter((w) => w.broker === candidate)
      const onBaseline = windows.filter((w) => w.broker === baseline)
      expect([onCandidate.length, onBaseline.length, windows.length]).toEqual([1, 2, 3])
      // The candidate's capture and the baseline's first at once; the baseline's two one after the other.
      expect(overlap(onCandidate[0]!, onBaseline[0]!)).toBe(true)
      expect(overlap(onBaseline[0]!, onBaseline[1]!)).toBe(false)
      // One message per side (count: 1 held, the candidate's payload only), the field removed and the new
      // one; the ids, different in every message, are noise (not a changed value).
      const summary = (findings: ReportDescriptor[]) =>
        findings.map((f) => [f.messageId, f.severity ?? 'error', f.pointer]).sort()
      expect(summary(first)).toEqual([
        ['field-added', 'info', '/amountCents'],
        ['field-removed', 'error', '/totalCents'],
      ])
      const removed = first.find((f) => f.messageId === 'field-removed')!
      const shown = removed.evidence!.details as { messages: Array<{ payload: Record<string, unknown> }> }
      expect(shown.messages.map((m) => Object.keys(m.payload).sort())).toEqual([['amountCents', 'id']])
      expect(remembered.hits).toBe(0)

      // A warm session's next iteration: the noise is remembered, the baseline observed once, and the ids
      // are still noise.
      windows.length = 0
      const second = await run(session, dir, params, { windows, memory: remembered })
      expect(remembered.hits).toBe(1)
      expect(windows.map((w) => w.broker).sort()).toEqual([baseline, candidate].sort())
      expect(overlap(windows[0]!, windows[1]!)).toBe(true)
      expect(summary(second)).toEqual(summary(first))
    },
  )
})

/**
 * Another check's traffic on both sides until `stop`: POST /emit (with `answer`, the id it published comes
 * back in the answer), a few at a time.
 */
function emitter(answer: boolean) {
  return async (
    http: HttpClient,
    sandboxes: { candidate: Sandbox; baseline?: Sandbox },
    stop: AbortSignal,
  ): Promise<void> => {
    const sides = [sandboxes.candidate, sandboxes.baseline].filter((s) => s !== undefined)
    const lane = async (sandbox: Sandbox) => {
      while (!stop.aborted) {
        await http
          .request({ method: 'POST', url: `${sandbox.url('pub')}/emit${answer ? '?answer=id' : ''}` })
          .catch(() => undefined)
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
    }
    await Promise.all(sides.flatMap((s) => [lane(s), lane(s)]))
  }
}

/**
 * Another check that, once stopped, leaves work behind on both sides: `n` requests answered at once whose
 * messages are published over the next `spreadMs` (from 50 ms on), as a load's last requests are still
 * served when its measurement ends.
 */
function leftBehind(n: number, spreadMs = 200): ReturnType<typeof emitter> {
  return async (http, sandboxes, stop) => {
    await new Promise((resolve) => stop.addEventListener('abort', resolve, { once: true }))
    const sides = [sandboxes.candidate, sandboxes.baseline].filter((s) => s !== undefined)
    await Promise.all(
      sides.flatMap((sandbox) =>
        Array.from({ length: n }, (_, i) =>
          http
            .request({
              method: 'POST',
              url: `${sandbox.url('pub')}/emit?after=${50 + Math.round((spreadMs * i) / n)}`,
            })
            .catch(() => undefined),
        ),
      ),
    )
  }
}

/**
 * The check on a fresh shop (`baselineField`: the baseline's field name), observing beside `neighbour`'s
 * traffic first: its findings, how many times it observed alone, and how long the check took.
 */
async function runBeside(
  params: EventParams,
  neighbour?: ReturnType<typeof emitter>,
  baselineField?: string,
): Promise<{ findings: ReportDescriptor[]; alone: number; ms: number }> {
  const { session, dir } = await shop('{ kind: mqtt }', baselineField)
  const measured = { count: 0 }
  const started = performance.now()
  const findings = await run(session, dir, params, {
    beside: { ...(neighbour ? { neighbour } : {}), measured },
  })
  return { findings, alone: measured.count, ms: performance.now() - started }
}

describe('event kind beside other checks (embedded mqtt)', () => {
  const answered = { request: 'POST /emit?answer=id' }

  it(
    "tells its trigger's messages from another check's by the ids the requests revealed",
    { timeout: 90_000 },
    async () => {
      const { findings, alone } = await runBeside(
        {
          trigger: answered,
          expect: [{ channel: 'thing.done', count: 1, json: { '/amountCents': 42 } }],
          compare: 'baseline',
        },
        emitter(true),
      )
      expect(findings).toEqual([])
      expect(alone).toBe(0)
    },
  )

  it('finds a renamed field beside other checks too', { timeout: 90_000 }, async () => {
    const { findings, alone } = await runBeside(
      { trigger: answered, expect: [{ channel: 'thing.done', count: 1 }], compare: 'baseline' },
      emitter(true),
      'totalCents',
    )
    expect(errors(findings)).toMatchObject([{ messageId: 'field-removed', data: { pointer: '/totalCents' } }])
    expect(alone).toBe(0)
  })

  it('tells a published trigger by the identifiers of its payload', { timeout: 90_000 }, async () => {
    const { findings, alone } = await runBeside(
      {
        trigger: { publish: { channel: 'thing.requested', json: { ref: 'req-20261203-0001' } } },
        expect: [{ channel: 'thing.requested', count: 1, json: { '/ref': 'req-20261203-0001' } }],
      },
      emitter(true),
    )
    expect(findings).toEqual([])
    expect(alone).toBe(0)
  })

  it('observes alone when a message carries nothing a request revealed', { timeout: 90_000 }, async () => {
    // The other check's answers are empty: its messages are nobody's, so the capture cannot be sorted.
    const noisy = await runBeside(
      { trigger: answered, expect: [{ channel: 'thing.done', count: 1 }], compare: 'baseline' },
      emitter(false),
    )
    expect(noisy).toMatchObject({ findings: [], alone: 1 })
    // A trigger whose answer identifies nothing is observed alone at once.
    const quiet = await runBeside({ trigger, expect: [{ channel: 'thing.done', count: 1 }] })
    expect(quiet).toMatchObject({ findings: [], alone: 1 })
  })

  it(
    'observes alone only once what an earlier check left behind has been published',
    { timeout: 90_000 },
    async () => {
      // The neighbour ends the way a load does: its last requests are answered, their messages come later.
      const { findings, alone } = await runBeside(
        { trigger, expect: [{ channel: 'thing.done', count: 1 }], compare: 'baseline' },
        leftBehind(6),
      )
      expect(findings).toEqual([])
      expect(alone).toBe(1)
    },
  )

  it(
    'says so in the evidence when its channels never went silent before the trigger',
    { timeout: 90_000 },
    async () => {
      // Messages keep coming for 4.5 s, past the 3 s the observation waits for silence: the count is off, and
      // the evidence says what else was publishing.
      const { findings } = await runBeside(
        { trigger, expect: [{ channel: 'thing.done', count: 1 }] },
        leftBehind(90, 4_500),
      )
      const count = errors(findings).find((f) => f.messageId === 'count')
      const before = count?.evidence?.summary?.find((s) => s.label === 'before the trigger')
      expect(before?.value).toMatch(
        /^\d+ message\(s\) set aside, from earlier work; the channels were still not silent after \d\.\d+s: something else publishes on them/,
      )
    },
  )

  it('does not wait out `within` for a message that can never be told', { timeout: 90_000 }, async () => {
    // The answer names an id the message does not carry, and nothing else runs: alone, at once.
    const told = await runBeside({
      trigger: { request: 'POST /emit?answer=other' },
      expect: [{ channel: 'thing.done', count: 1, within: '20s' }],
      compare: 'baseline',
    })
    expect(told).toMatchObject({ findings: [], alone: 1 })
    expect(told.ms).toBeLessThan(15_000)
  })
})

describe('event kind, one broker for both sides', () => {
  it('observes one side at a time', { timeout: 90_000 }, async () => {
    // Both sides are the same sandbox: one broker, one prefix. Captures at once would each count both
    // triggers' messages (count: 1 would fail).
    const { session, dir } = await shop('{ kind: mqtt }', undefined, false)
    const windows: Window[] = []
    const findings = await run(
      session,
      dir,
      { trigger, expect: [{ channel: 'thing.done', count: 1 }], compare: 'baseline' },
      { windows, sandboxes: { candidate: session.candidate, baseline: session.candidate } },
    )
    expect(findings).toEqual([])
    expect(windows).toHaveLength(3)
    for (const [i, a] of windows.entries())
      for (const b of windows.slice(i + 1)) expect(overlap(a, b)).toBe(false)
  })

  it('tells brokers that keep the sides apart', () => {
    const at = (url: string, prefix: string) => ({
      name: 'bus',
      kind: 'nats',
      url,
      host: '127.0.0.1',
      port: 4222,
      prefix,
      isolation: '',
    })
    expect(keptApart(at('nats://a:1', ''), at('nats://a:2', ''))).toBe(true)
    expect(keptApart(at('redis://a/1', ''), at('redis://a/2', ''))).toBe(true)
    expect(keptApart(at('nats://a:1', 'v_r_candidate.'), at('nats://a:1', 'v_r_baseline.'))).toBe(true)
    expect(keptApart(at('nats://a:1', ''), at('nats://a:1', ''))).toBe(false)
    expect(keptApart(at('nats://a:1', 'p.'), at('nats://a:1', 'p.'))).toBe(false)
    // A side without a prefix sees the other's prefixed channels; a prefix under another is seen by it.
    expect(keptApart(at('nats://a:1', ''), at('nats://a:1', 'p.'))).toBe(false)
    expect(keptApart(at('nats://a:1', 'p.'), at('nats://a:1', 'p.q.'))).toBe(false)
  })
})

describe('AsyncAPI documents', () => {
  it(
    'are parsed once per content, and kept on disk when they refer to no other file',
    { timeout: 120_000 },
    async () => {
      const dir = tempDir()
      dirs.push(dir)
      const previous = process.env.XDG_CACHE_HOME
      process.env.XDG_CACHE_HOME = path.join(dir, 'cache')
      try {
        const file = path.join(dir, 'events.yaml')
        const doc = (channels: string[]) =>
          `asyncapi: 3.0.0\ninfo: { title: t, version: "1" }\nchannels:\n${channels.map((c, i) => `  c${i}: { address: ${c} }\n`).join('')}`
        writeFileSync(file, doc(['thing.done']))
        expect((await loadAsyncApi(file, 'events.yaml')).channels).toEqual(['thing.done'])
        const kept = readdirSync(path.join(dir, 'cache', 'vigil', 'asyncapi'))
        expect(kept).toHaveLength(1)
        // An edited document is read afresh (a warm session sees the edit).
        writeFileSync(file, doc(['thing.done', 'thing.cancelled']))
        expect((await loadAsyncApi(file, 'events.yaml')).channels).toEqual(['thing.cancelled', 'thing.done'])
        expect(readdirSync(path.join(dir, 'cache', 'vigil', 'asyncapi'))).toHaveLength(2)
        // What is kept is what a run reads: the parser is not asked again (another process would find it).
        const other = path.join(dir, 'other.yaml')
        const text = doc(['thing.shipped'])
        writeFileSync(other, text)
        const digest = createHash('sha256').update(text).digest('hex')
        const version = kept[0]!.split('-')[0]!
        writeFileSync(
          path.join(dir, 'cache', 'vigil', 'asyncapi', `${version}-${digest}.json`),
          JSON.stringify({ version: '3.0.0', channels: ['kept.channel'], json: {} }),
        )
        expect((await loadAsyncApi(other, 'other.yaml')).channels).toEqual(['kept.channel'])
        // A document that refers to another file is not kept: that file's edits would not show.
        expect(selfContained(text)).toBe(true)
        expect(selfContained(`x: { $ref: '#/components/schemas/A' }\ny:\n  $ref: "#/b"`)).toBe(true)
        expect(selfContained(`x: { $ref: './schemas.yaml#/A' }`)).toBe(false)
        expect(selfContained(`{"x": {"$ref": "schemas.json"}}`)).toBe(false)
      } finally {
        if (previous === undefined) delete process.env.XDG_CACHE_HOME
        else process.env.XDG_CACHE_HOME = previous
      }
    },
  )
})
