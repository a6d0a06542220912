/**
 * Brokers in the sandbox, against real servers: the embedded MQTT broker (aedes), and nats-server,
 * redis-server, rabbitmq-server and mosquitto from Debian's packages, each started privately on free
 * loopback ports exactly as vigil does for users. Per broker: each side gets its own broker, a service
 * reads it as {{deps.bus.url}}, a capture sees what is published on its side and never the other side's,
 * the client refuses any other address, and nothing is left running after stop. A server binary that is
 * missing skips its case with the Debian package to install.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { BrokerClient, OffSandboxTrafficError, SandboxAddresses } from '../../../engine/clients/index.js'
import { findBinary } from '../../../engine/dependencies/server.js'
import { Redactor } from '../../../engine/http/redact.js'
import { isProcessAlive } from '../../../engine/processes/process-tree.js'
import { stateDir, type RunStateDocument } from '../../../engine/processes/run-state.js'
import { startSandboxes, type SandboxSession } from '../../../engine/sandboxes/index.js'
import type { Sandbox } from '../../../engine/api/sandbox.js'
import { NODE_SERVER, removeDir, survivors, tempDir, writeConfig } from '../sandboxes/helpers.js'

interface Case {
  name: string
  /** The dependency's YAML (flow mapping). */
  dep: string
  /** Binary and Debian package; absent for the embedded broker. */
  needs?: { binary: string; pkg: string }
  /** A shared server to start first (its URL replaces {{shared}} in dep). */
  shared?: string
  timeoutMs?: number
}

const CASES: Case[] = [
  { name: 'mqtt (embedded aedes)', dep: '{ kind: mqtt }' },
  {
    name: 'mqtt (mosquitto)',
    dep: '{ kind: mqtt, server: mosquitto }',
    needs: { binary: 'mosquitto', pkg: 'mosquitto' },
  },
  { name: 'nats', dep: '{ kind: nats }', needs: { binary: 'nats-server', pkg: 'nats-server' } },
  { name: 'redis (streams)', dep: '{ kind: redis }', needs: { binary: 'redis-server', pkg: 'redis-server' } },
  {
    name: 'rabbitmq (a vhost per sandbox on one private server)',
    dep: '{ kind: rabbitmq }',
    needs: { binary: 'rabbitmq-server', pkg: 'rabbitmq-server' },
    timeoutMs: 180_000,
  },
  {
    name: 'nats shared by url (subject prefix per sandbox)',
    dep: '{ kind: nats, url: "{{shared}}" }',
    shared: '{ kind: nats }',
    needs: { binary: 'nats-server', pkg: 'nats-server' },
  },
  {
    name: 'mqtt shared by url (topic prefix per sandbox)',
    dep: '{ kind: mqtt, url: "{{shared}}" }',
    shared: '{ kind: mqtt }',
  },
  {
    name: 'redis shared by url (a database number per sandbox)',
    dep: '{ kind: redis, url: "{{shared}}" }',
    shared: '{ kind: redis }',
    needs: { binary: 'redis-server', pkg: 'redis-server' },
  },
]

const dirs: string[] = []
afterAll(() => dirs.forEach(removeDir))

function config(dep: string): string {
  return `
sandbox:
  provider: process
  dependencies:
    bus: ${dep}
  services:
    app:
      command: ${NODE_SERVER}
      env: { NAME: app, BUS_URL: "{{deps.bus.url}}", BUS_PREFIX: "{{deps.bus.prefix}}" }
      ready: { http: /health, timeout: 20s }
`
}

async function start(yaml: string, runId: string, baseline = true): Promise<SandboxSession> {
  const dir = tempDir()
  dirs.push(dir)
  return startSandboxes({
    loaded: writeConfig(dir, yaml),
    signal: new AbortController().signal,
    log: () => {},
    runId,
    baseline,
  })
}

function trackedPids(runId: string): number[] {
  const doc = JSON.parse(readFileSync(path.join(stateDir(), `${runId}.json`), 'utf8')) as RunStateDocument
  return doc.processes.map((p) => p.pid)
}

async function env(sandbox: Sandbox, name: string): Promise<string> {
  return (
    await fetch(`${sandbox.url()}/env/${name}`, { signal: AbortSignal.timeout(5_000) })
  ).json() as Promise<string>
}

describe.each(CASES)('$name', (c) => {
  const missing = c.needs && !findBinary(c.needs.binary)
  const title = missing
    ? `skipped: ${c.needs!.binary} is not installed (apt-get install ${c.needs!.pkg})`
    : 'each sandbox has its own broker: capture, isolation, refusal, teardown'
  it.skipIf(missing)(title, { timeout: c.timeoutMs ?? 60_000 }, async () => {
    const runId = `brokers-${process.pid}-${Math.random().toString(16).slice(2, 8)}`
    let sharedSession: SandboxSession | undefined
    let dep = c.dep
    if (c.shared) {
      sharedSession = await start(config(c.shared), `${runId}-shared`, false)
      dep = dep.replace('{{shared}}', sharedSession.candidate.deps!.bus!.url)
    }
    const session = await start(config(dep), runId)
    const client = new BrokerClient({
      redactor: new Redactor(),
      addresses: SandboxAddresses.of([session.candidate, session.baseline]),
    })
    try {
      const pids = trackedPids(runId)
      const cand = session.candidate.deps!.bus!
      const base = session.baseline!.deps!.bus!
      expect(cand.kind).toBe(c.dep.match(/kind: (\w+)/)![1])
      // The service got its own side's broker.
      expect(await env(session.candidate, 'BUS_URL')).toBe(cand.url)
      expect(await env(session.baseline!, 'BUS_URL')).toBe(base.url)
      expect(`${cand.url} ${cand.prefix}`).not.toBe(`${base.url} ${base.prefix}`)

      const signal = new AbortController().signal
      const onCandidate = await client.capture(cand, ['order.created'], signal)
      const onBaseline = await client.capture(base, ['order.created'], signal)
      await client.publish(
        cand,
        'order.created',
        JSON.stringify({ orderId: 'o-1', totalCents: 700 }),
        {},
        signal,
      )
      await client.publish(cand, 'order.cancelled', '{"orderId":"o-1"}', {}, signal)
      await onCandidate.waitFor(1, 5_000, signal)
      await new Promise((resolve) => setTimeout(resolve, 300))
      const got = await onCandidate.stop()
      expect(got).toHaveLength(1)
      expect(got[0]).toMatchObject({
        channel: 'order.created',
        json: true,
        payload: { orderId: 'o-1', totalCents: 700 },
      })
      expect(got[0]!.atMs).toBeGreaterThanOrEqual(0)
      // Nothing of the candidate's ever reaches the baseline's broker.
      expect(await onBaseline.stop()).toEqual([])

      // The client talks to the sandboxes' brokers only.
      const foreign = {
        ...cand,
        url: cand.url.replace(/:(\d+)/, (_, p: string) => `:${Number(p) === 1 ? 2 : Number(p) - 1}`),
      }
      await expect(client.capture(foreign, ['x'], signal)).rejects.toBeInstanceOf(OffSandboxTrafficError)
      expect(client.subscribeCommand(cand, 'order.created')).toContain('order.created')

      await client.close()
      await session.stop()
      expect(await survivors(pids, 15_000)).toEqual([])
      expect(isProcessAlive(pids[0] ?? -1)).toBe(false)
    } finally {
      await client.close()
      await session.stop()
      await sharedSession?.stop()
    }
  })
})
