/**
 * Who owns a listening port, told from /proc with real processes: a service's own group, a stranger,
 * nobody; and a readiness probe that reaches a stranger's listener does not make the service ready.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { listenerOwner } from '../../../engine/processes/listeners.js'
import { freePort } from '../../../engine/sandboxes/ports.js'
import { waitReady } from '../../../engine/sandboxes/readiness.js'

const children: ChildProcess[] = []
const servers: Server[] = []
afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL')
  await Promise.all(
    servers.splice(0).map((s) => {
      s.closeAllConnections()
      return new Promise((resolve) => s.close(resolve))
    }),
  )
})

/** A process leading its own group (as a service is), listening on `host` when `host` is given. */
async function groupLeader(host?: string): Promise<{ pid: number; port: number }> {
  const code = host
    ? `require('node:net').createServer().listen(0, ${JSON.stringify(host)}, function () { process.stdout.write(this.address().port + '\\n') })`
    : `process.stdout.write('0\\n'); setInterval(() => {}, 60000)`
  const child = spawn(process.execPath, ['-e', code], {
    detached: true,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  children.push(child)
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer]
  return { pid: child.pid!, port: Number(chunk.toString().trim()) }
}

/** An HTTP server of this process (a stranger to every group the tests spawn) answering 200 to all. */
async function listenHere(host: string): Promise<number> {
  const server = createServer((_req, res) => res.end('ok'))
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, host, resolve))
  return (server.address() as AddressInfo).port
}

describe.runIf(process.platform === 'linux')('listener ownership (Linux: /proc)', () => {
  it('names the group whose process holds the listener, and only that group', async () => {
    const service = await groupLeader('127.0.0.1')
    const other = await groupLeader()
    expect(listenerOwner('127.0.0.1', service.port, service.pid)).toEqual({ owner: 'group' })
    expect(listenerOwner('127.0.0.1', service.port, other.pid)).toEqual({
      owner: 'other',
      pids: [service.pid],
    })
  })

  it('counts a wildcard listener (IPv6 ::, dual stack) as one that accepts 127.0.0.1', async () => {
    const port = await listenHere('::')
    const service = await groupLeader()
    expect(listenerOwner('127.0.0.1', port, service.pid)).toEqual({ owner: 'other', pids: [process.pid] })
    expect(listenerOwner('::1', port, service.pid)).toMatchObject({ owner: 'other' })
  })

  it('does not count a listener on another address of the same port', async () => {
    const port = await listenHere('127.0.0.2')
    const service = await groupLeader()
    expect(listenerOwner('127.0.0.1', port, service.pid)).toEqual({ owner: 'none' })
  })

  it("counts a listener as another process's once the group has no process left", async () => {
    const port = await listenHere('127.0.0.1')
    const gone = spawnSync(process.execPath, ['-e', '']).pid
    expect(listenerOwner('127.0.0.1', port, gone)).toEqual({ owner: 'other', pids: [process.pid] })
  })

  it('says none when nothing listens', async () => {
    const service = await groupLeader()
    expect(listenerOwner('127.0.0.1', await freePort(), service.pid)).toEqual({ owner: 'none' })
  })

  it('keeps a service not ready while a stranger answers its port, for TCP and HTTP probes', async () => {
    const port = await listenHere('127.0.0.1')
    const service = await groupLeader()
    const never = new Promise<never>(() => {})
    for (const probe of [{ tcp: true }, { http: '/health' }]) {
      const outcome = await waitReady({
        host: '127.0.0.1',
        port,
        probe: { ...probe, timeoutMs: 300 },
        signal: new AbortController().signal,
        exited: never,
        pgid: service.pid,
      })
      expect(outcome).toEqual({
        ready: false,
        reason: `127.0.0.1:${port} answers, but its listener is another process's (pid ${process.pid})`,
      })
    }
    // Without a group to check, the probe's word stands (other systems than Linux).
    const unchecked = await waitReady({
      host: '127.0.0.1',
      port,
      probe: { tcp: true, timeoutMs: 300 },
      signal: new AbortController().signal,
      exited: never,
    })
    expect(unchecked).toEqual({ ready: true })
  })

  it('makes a service ready as soon as its own process listens', async () => {
    const service = await groupLeader('127.0.0.1')
    const outcome = await waitReady({
      host: '127.0.0.1',
      port: service.port,
      probe: { tcp: true, timeoutMs: 10_000 },
      signal: new AbortController().signal,
      exited: new Promise<never>(() => {}),
      pgid: service.pid,
    })
    expect(outcome).toEqual({ ready: true })
  })

  it('probes again when the service writes output, at most every 10 ms', async () => {
    const port = await freePort()
    const count = async (spoke?: () => Promise<void>) => {
      let probes = 0
      await waitReady({
        host: '127.0.0.1',
        port,
        probe: { tcp: true, timeoutMs: 1_000 },
        signal: new AbortController().signal,
        exited: new Promise<never>(() => {}),
        // Called after every refused probe.
        stray: () => void probes++,
        ...(spoke ? { spoke } : {}),
      })
      return probes
    }
    // Quiet: on the delay alone (25 ms growing to 100 ms), about a dozen probes in a second.
    expect(await count()).toBeLessThanOrEqual(15)
    // A service that writes all the time: a probe after each line, but not more often than every 10 ms.
    const chatty = await count(() => new Promise((resolve) => setTimeout(resolve, 1)))
    expect(chatty).toBeGreaterThan(25)
    expect(chatty).toBeLessThanOrEqual(101)
  })
})
