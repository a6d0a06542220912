/**
 * A service that ignores the port it is given (a hard-coded port, a variable of its own): the start
 * fails at once with an error saying the service must listen on `$PORT`, and is not retried on new
 * ports. Real Node processes on loopback.
 */
import { writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { InfrastructureError } from '../../../../engine/errors.js'
import { startSandboxes } from '../../../../engine/sandboxes/index.js'
import { freePort } from '../../../../engine/sandboxes/ports.js'
import { removeDir, tempDir, writeConfig } from '../helpers.js'

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn()
})

/** A service listening on the port in `$LISTEN_ON`, whatever `$PORT` says. */
const STUBBORN = `
const http = require('node:http')
const port = Number(process.env.LISTEN_ON)
http.createServer((req, res) => res.end('ok')).listen(port, '127.0.0.1', () => {
  console.log('Server listening on http://127.0.0.1:' + port)
})
`

async function startWith(
  env: string,
  extraEnv = '',
): Promise<{ error: unknown; lines: string[]; ms: number }> {
  const dir = tempDir('vigil-port-')
  cleanups.push(() => removeDir(dir))
  writeFileSync(path.join(dir, 'server.js'), STUBBORN)
  const loaded = writeConfig(
    dir,
    `sandbox:
  provider: process
  services:
    api:
      command: ${JSON.stringify([process.execPath, 'server.js'])}
      env: { ${env}${extraEnv} }
      ready: { http: /health, timeout: 20s }
`,
  )
  const lines: string[] = []
  const begin = performance.now()
  try {
    const session = await startSandboxes({
      loaded,
      baseline: false,
      signal: new AbortController().signal,
      log: (line) => lines.push(line),
    })
    cleanups.push(() => session.stop())
    return { error: undefined, lines, ms: performance.now() - begin }
  } catch (error) {
    return { error, lines, ms: performance.now() - begin }
  }
}

async function holdPort(): Promise<{ port: number; server: Server }> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return { port: (server.address() as { port: number }).port, server }
}

describe('a service that ignores the port it is given', () => {
  it('listening elsewhere: fails at once, naming where it listens and $PORT, without waiting for the deadline', async () => {
    const own = await freePort()
    const { error, lines, ms } = await startWith(`LISTEN_ON: "${own}"`)
    expect(error).toBeInstanceOf(InfrastructureError)
    const message = (error as Error).message
    expect(message).toMatch(
      new RegExp(
        `^candidate sandbox, service api: it listens on 127\\.0\\.0\\.1:${own}, not on port (\\d+): the service must listen on the port in \\$PORT \\(\\1\\)$`,
      ),
    )
    expect(message).not.toContain(`port ${own})`)
    // Well before the 20 s readiness deadline.
    expect(ms).toBeLessThan(15_000)
    expect(lines.some((l) => l.includes('starting it again'))).toBe(false)
  }, 30_000)

  it('on a hard-coded port that is taken: says so and names $PORT, instead of retrying on new ports', async () => {
    const { port } = await holdPort()
    const { error, lines } = await startWith(`LISTEN_ON: "${port}"`)
    expect(error).toBeInstanceOf(InfrastructureError)
    expect((error as Error).message).toMatch(
      new RegExp(
        `service api: exited with code 1 before it was ready; it tried to listen on port ${port}, which was taken, not on port \\d+: the service must listen on the port in \\$PORT`,
      ),
    )
    expect(lines.some((l) => l.includes('starting it again'))).toBe(false)
  }, 30_000)

  it('names the configured variable beside PORT', async () => {
    const own = await freePort()
    const { error } = await startWith(`LISTEN_ON: "${own}"`, ', HTTP_PORT: "{{port}}"')
    expect((error as Error).message).toMatch(
      /the service must listen on the port in \$PORT or \$HTTP_PORT \(\d+\)$/,
    )
  }, 30_000)

  it('a service that listens on $PORT starts as before', async () => {
    const { error } = await startWith('LISTEN_ON: "{{port}}"')
    expect(error).toBeUndefined()
  }, 30_000)
})
