/**
 * The event kind against real brokers (the embedded MQTT broker, and nats-server when installed): a real
 * process sandbox per side with its own broker, a service that publishes when asked, and the kind run with
 * the real HTTP and broker clients. Valid blocks pass; each broken expectation names its message.
 */
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import type { CheckContext, ReportDescriptor } from '../../../../engine/api/kind.js'
import { clients, openClients, SandboxAddresses } from '../../../../engine/clients/index.js'
import { findBinary } from '../../../../engine/dependencies/server.js'
import { Redactor } from '../../../../engine/http/redact.js'
import event from '../../../../engine/kinds/event/kind.js'
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

async function shop(dep: string, baselineField?: string): Promise<{ session: SandboxSession; dir: string }> {
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
  })
  sessions.push(session)
  return { session, dir }
}

async function run(session: SandboxSession, dir: string, params: EventParams): Promise<ReportDescriptor[]> {
  const redactor = new Redactor()
  const opened = openClients(clients, ['http', 'broker'], {
    redactor,
    addresses: SandboxAddresses.of([session.candidate, session.baseline]),
  })
  const findings: ReportDescriptor[] = []
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
    sandboxes: { candidate: session.candidate, baseline: session.baseline },
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
    measure: (_claim: unknown, fn: () => Promise<unknown>) => fn(),
  } as unknown as CheckContext<EventParams, 'http' | 'broker'>
  try {
    await event.run(ctx)
  } finally {
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
