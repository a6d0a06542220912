/**
 * A side's services and its dependencies start at once: a service waits only for the dependencies it
 * references. The dependency here is a real loopback listener whose start the test holds open, so the
 * order is certain rather than a race between a database and a service.
 */
import { mkdirSync } from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { defineDependency } from '../../../../engine/api/dependency.js'
import { InfrastructureError } from '../../../../engine/errors.js'
import { sandboxProviders } from '../../../../engine/sandboxes/index.js'
import { startSession, type SandboxSession } from '../../../../engine/sandboxes/session.js'
import { waitFor } from '../../dev/warm-shop.js'
import {
  allPids,
  killAll,
  NODE_SERVER,
  readPids,
  removeDir,
  survivors,
  tempDir,
  writeConfig,
} from '../helpers.js'

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn()
})

/** A dependency kind whose listener starts once the test opens the gate (or fails when it says so). */
function gated() {
  let open!: () => void
  let fail!: (error: Error) => void
  const gate = new Promise<void>((resolve, reject) => {
    open = resolve
    fail = reject
  })
  const servers: net.Server[] = []
  cleanups.push(() => servers.forEach((s) => s.close()))
  const kind = defineDependency<{ kind: 'gate' }>({
    meta: {
      description: 'a loopback listener that starts when the test opens its gate',
      schema: {
        type: 'object',
        properties: { kind: { const: 'gate' } },
        required: ['kind'],
        additionalProperties: false,
      },
    },
    async start(_options, ctx) {
      // Like every dependency kind, it gives up when the start is cancelled.
      await new Promise<void>((resolve, reject) => {
        ctx.signal.addEventListener('abort', () => reject(new Error('cancelled')), { once: true })
        gate.then(resolve, reject)
      })
      const server = net.createServer((socket) => socket.end())
      servers.push(server)
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      const { port } = server.address() as net.AddressInfo
      return {
        endpoint: {
          name: ctx.name,
          kind: 'gate',
          url: `tcp://127.0.0.1:${port}`,
          host: '127.0.0.1',
          port,
          prefix: '',
          isolation: 'a listener of its own',
        },
        logs: () => [],
        stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
        reset: () => Promise.resolve({ done: 'nothing to reset' }),
      }
    },
  })
  return { kinds: { gate: kind }, open, fail }
}

function setup(freeEnv = '') {
  const dir = tempDir()
  const pidDir = path.join(dir, 'pids')
  mkdirSync(pidDir)
  cleanups.push(() => {
    killAll(allPids(readPids(pidDir)))
    removeDir(dir)
  })
  const service = (name: string, env: string) => `
    ${name}:
      command: ${NODE_SERVER}
      env: { NAME: ${name}, PID_DIR: ${JSON.stringify(pidDir)}${env} }
      ready: { http: /health, timeout: 10s }`
  const loaded = writeConfig(
    dir,
    `
sandbox:
  provider: process
  default: free
  dependencies:
    gate: { kind: gate }
  services:${service('free', freeEnv)}${service('bound', ", GATE_URL: '{{deps.gate.url}}'")}
`,
  )
  return { pidDir, loaded }
}

/** Starts the candidate side alone with the gated dependency kind, its progress lines into `lines`. */
function start(
  loaded: ReturnType<typeof writeConfig>,
  kinds: ReturnType<typeof gated>['kinds'],
  lines: string[] = [],
) {
  return startSession(
    { loaded, baseline: false, signal: new AbortController().signal, log: (l) => lines.push(l) },
    sandboxProviders,
    kinds,
  )
}

describe('a side whose dependency is still starting', () => {
  it('starts the services that do not reference it, and the one that does once it is ready', async () => {
    const { pidDir, loaded } = setup()
    const { kinds, open } = gated()
    const lines: string[] = []
    const starting = start(loaded, kinds, lines)
    starting.then((s) => cleanups.push(() => s.stop())).catch(() => undefined)
    await waitFor(() => lines.some((l) => l.includes('service free: ready')))
    expect(lines.some((l) => l.includes('service bound'))).toBe(false)
    expect(readPids(pidDir).map((p) => p.name)).toEqual(['free'])
    open()
    const session: SandboxSession = await starting
    const gateUrl = session.candidate.deps?.gate?.url
    expect(gateUrl).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/)
    const res = await fetch(`${session.candidate.url('bound')}/env/GATE_URL`, {
      signal: AbortSignal.timeout(5_000),
    })
    expect(await res.json()).toBe(gateUrl)
  })

  it('stops the services already up when the dependency fails, and reports the dependency', async () => {
    const { pidDir, loaded } = setup()
    const { kinds, fail } = gated()
    const lines: string[] = []
    const starting = start(loaded, kinds, lines)
    await waitFor(() => lines.some((l) => l.includes('service free: ready')))
    fail(new Error('the listener could not bind'))
    const error = await starting.catch((e: unknown) => e)
    expect(error).toBeInstanceOf(InfrastructureError)
    expect((error as Error).message).toBe(
      'candidate sandbox: a dependency did not start: the listener could not bind',
    )
    expect(readPids(pidDir).map((p) => p.name)).toEqual(['free'])
    expect(await survivors(allPids(readPids(pidDir)))).toEqual([])
  })

  it('reports a service that fails while the dependency is still starting, without waiting for it', async () => {
    const { loaded } = setup(', CRASH: "1"')
    const { kinds } = gated()
    const error = await start(loaded, kinds).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(InfrastructureError)
    expect((error as Error).message).toMatch(/^candidate sandbox, service free: exited with code 3/)
  })
})
