/**
 * A dependency's server whose port another process took between vigil finding it free and the server binding
 * it: started again on new ports, as a service is, instead of failing the sandbox. The race is made certain
 * with a real nats-server told to bind a port this test holds on its first attempt(s). Skipped, saying so,
 * where nats-server is not installed (apt-get install nats-server).
 */
import { createServer, type AddressInfo, type Server } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DependencyStartContext } from '../../../engine/api/dependency.js'
import { InfrastructureError } from '../../../engine/errors.js'
import { findBinary, startServer, type ServerSpec } from '../../../engine/dependencies/server.js'

const natsServer = findBinary('nats-server')
let holder: Server
let held = 0

beforeAll(async () => {
  holder = createServer()
  held = await new Promise<number>((resolve) =>
    holder.listen(0, '127.0.0.1', () => resolve((holder.address() as AddressInfo).port)),
  )
})
afterAll(() => new Promise<void>((resolve) => holder.close(() => resolve())))

function context(lines: string[]): DependencyStartContext {
  return {
    sandbox: 'candidate',
    name: 'bus',
    runId: 'port-taken',
    signal: new AbortController().signal,
    allowHosts: [],
    log: (line: string) => lines.push(line),
    where: () => '',
    shared: () => Promise.reject(new Error('not shared')),
  } as unknown as DependencyStartContext
}

/** nats-server on the port this test holds for its first `taken` attempts, then on the one vigil chose. */
function nats(taken: number): ServerSpec {
  let attempts = 0
  return {
    binary: 'nats-server',
    debianPackage: 'nats-server',
    kind: 'nats',
    argv: (port) => ['nats-server', '-a', '127.0.0.1', '-p', String(attempts++ < taken ? held : port)],
    timeoutMs: 10_000,
  }
}

describe('a dependency server whose port was taken', () => {
  it.skipIf(!natsServer)(
    'starts again on a new port and says so (needs nats-server: apt-get install nats-server)',
    async () => {
      const lines: string[] = []
      const server = await startServer(context(lines), nats(2))
      try {
        expect(server.port).not.toBe(held)
        expect(server.died()).toBeUndefined()
        expect(
          lines.filter((l) =>
            l.includes('was taken before the server bound it; starting it again on new ones'),
          ),
        ).toHaveLength(2)
        expect(lines.join('\n')).not.toContain('while running')
      } finally {
        await server.stop()
      }
    },
    60_000,
  )

  it.skipIf(!natsServer)(
    'gives up after two new ports, with the server log saying why (needs nats-server)',
    async () => {
      const lines: string[] = []
      const failed = await startServer(context(lines), nats(3)).then(
        () => undefined,
        (error: unknown) => error,
      )
      expect(failed).toBeInstanceOf(InfrastructureError)
      const error = failed as InfrastructureError
      expect(error.code).toBe('VIGIL_DEPENDENCY_START')
      expect(error.message).toMatch(
        /^candidate sandbox, dependency bus \(nats, nats-server\): exited with code 1/,
      )
      expect(error.logTail.join('\n')).toContain('address already in use')
      expect(
        lines.filter((l) =>
          l.includes('was taken before the server bound it; starting it again on new ones'),
        ),
      ).toHaveLength(2)
    },
    60_000,
  )
})
