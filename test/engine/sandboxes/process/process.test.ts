import { mkdirSync, readFileSync, rmSync } from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { PortTakenError } from '../../../../engine/api/sandbox.js'
import { ConfigError, InfrastructureError } from '../../../../engine/errors.js'
import { startSandboxes, type SandboxSession } from '../../../../engine/sandboxes/index.js'
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

function setup(yaml: (pidDir: string) => string): {
  dir: string
  pidDir: string
  loaded: ReturnType<typeof writeConfig>
} {
  const dir = tempDir()
  const pidDir = path.join(dir, 'pids')
  mkdirSync(pidDir)
  cleanups.push(() => {
    killAll(allPids(readPids(pidDir)))
    removeDir(dir)
  })
  return { dir, pidDir, loaded: writeConfig(dir, yaml(pidDir)) }
}

/** The config of a sandbox of payments alone, its pids written to `pids`, with `extra` added to its env. */
function paymentsAlone(extra?: (pids: string) => string): (pids: string) => string {
  return (pids) => `
sandbox:
  provider: process
  services:
    payments:
      command: ${NODE_SERVER}
      env: { NAME: payments, PID_DIR: ${pids}${extra ? `, ${extra(pids)}` : ''} }
`
}

async function start(loaded: ReturnType<typeof writeConfig>, lines: string[] = []): Promise<SandboxSession> {
  const session = await startSandboxes({
    loaded,
    baseline: false,
    signal: new AbortController().signal,
    log: (line) => lines.push(line),
  })
  cleanups.push(() => session.stop())
  return session
}

async function getJson(url: string): Promise<unknown> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) })
  return res.json()
}

describe('process sandbox', () => {
  it('starts a stack in dependency order with ports, env references and captured logs', async () => {
    process.env.VIGIL_TEST_REGION = 'eu-west'
    const { pidDir, loaded } = setup(
      (pids) => `
secrets:
  alice: { value: alice-secret-token }
sandbox:
  provider: process
  default: orders
  headers: { x-route: blue }
  services:
    catalog:
      command: ${NODE_SERVER}
      env: { NAME: catalog, PID_DIR: ${pids} }
      ready: { http: /health, timeout: 10s }
    payments:
      command: ${NODE_SERVER}
      env: { NAME: payments, PID_DIR: ${pids}, REGION: "{{env.VIGIL_TEST_REGION}}", TOKENS: "alice:{{secrets.alice}}" }
    orders:
      command: ${NODE_SERVER}
      env:
        NAME: orders
        PID_DIR: ${pids}
        REQUIRE_UPSTREAM: 1
        UPSTREAM_URL: "{{services.payments.url}}"
        CATALOG_URL: "{{services.catalog.url}}"
        SELF: "{{url}}"
      ready: { http: /health }
`,
    )
    const lines: string[] = []
    const session = await start(loaded, lines)
    const sandbox = session.candidate
    expect(session.baseline).toBeUndefined()
    expect(Object.keys(sandbox.services)).toEqual(['catalog', 'orders', 'payments'])
    expect(sandbox.defaultService).toBe('orders')
    expect(sandbox.headers).toEqual({ 'x-route': 'blue' })
    expect(sandbox.url()).toBe(sandbox.services.orders!.url)
    for (const endpoint of Object.values(sandbox.services))
      expect(endpoint.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)

    const orders = sandbox.url('orders')
    expect(await getJson(`${orders}/env/CATALOG_URL`)).toBe(sandbox.url('catalog'))
    expect(await getJson(`${orders}/env/UPSTREAM_URL`)).toBe(sandbox.url('payments'))
    expect(await getJson(`${orders}/env/SELF`)).toBe(orders)
    expect(await getJson(`${orders}/env/PORT`)).toBe(new URL(orders).port)
    expect(await getJson(`${sandbox.url('payments')}/env/REGION`)).toBe('eu-west')
    expect(await getJson(`${sandbox.url('payments')}/env/TOKENS`)).toBe('alice:alice-secret-token')
    // PATH and the rest of the environment are inherited.
    expect(await getJson(`${orders}/env/PATH`)).toBe(process.env.PATH)

    // orders refuses to start unless payments answered first: it did, so the order was respected.
    expect(sandbox.logs('orders').join('\n')).toContain(`upstream ${sandbox.url('payments')} is ready`)
    expect(
      sandbox
        .logs('catalog')
        .some((l) => /^\d{4}-\d\d-\d\dT[\d:.]+Z stdout catalog: listening on \d+$/.test(l)),
    ).toBe(true)
    expect(sandbox.logs().some((l) => l.startsWith('payments | '))).toBe(true)
    expect(lines.filter((l) => l.includes(': ready on')).length).toBe(3)
    expect(session.timings.map((t) => t.phase)).toEqual(['sandbox:candidate'])
    expect(() => sandbox.url('nope')).toThrow(
      /candidate sandbox: unknown service "nope"; it has catalog, orders, payments/,
    )

    const pids = allPids(readPids(pidDir))
    expect(pids).toHaveLength(3)
    await session.stop()
    await session.stop()
    expect(await survivors(pids)).toEqual([])
    expect(sandbox.logs('orders').at(-1)).toMatch(/vigil (was killed by SIGTERM|exited with code)/)
  })

  it('starts a service whose port was taken (a real EADDRINUSE) again on a new port, and its dependents see the new URL', async () => {
    const { pidDir, loaded } = setup(
      (pids) => `
sandbox:
  provider: process
  default: orders
  services:
    payments:
      command: ${NODE_SERVER}
      env: { NAME: payments, PID_DIR: ${pids}, PORT_TAKEN_ONCE: ${pids}/payments-port-taken }
    orders:
      command: ${NODE_SERVER}
      env: { NAME: orders, PID_DIR: ${pids}, REQUIRE_UPSTREAM: 1, UPSTREAM_URL: "{{services.payments.url}}" }
      ready: { http: /health }
`,
    )
    const lines: string[] = []
    const session = await start(loaded, lines)
    try {
      const sandbox = session.candidate
      const taken = Number(readFileSync(path.join(pidDir, 'payments-port-taken'), 'utf8'))
      const retried = lines.find((l) => l.includes('was taken before the service bound it'))
      expect(retried).toBe(
        `candidate sandbox, service payments: port ${taken} was taken before the service bound it; starting it again on port ${new URL(sandbox.url('payments')).port}`,
      )
      expect(new URL(sandbox.url('payments')).port).not.toBe(String(taken))
      // orders started after the retry, with the new address, and reached payments there.
      expect(await getJson(`${sandbox.url('orders')}/env/UPSTREAM_URL`)).toBe(sandbox.url('payments'))
      expect(sandbox.logs('orders').join('\n')).toContain(`upstream ${sandbox.url('payments')} is ready`)
      expect(sandbox.logs('payments').join('\n')).toContain('listening on')
    } finally {
      await session.stop()
    }
    expect(await survivors(allPids(readPids(pidDir)))).toEqual([])
  })

  it("starts a service's isolated copy whose port was taken again on a new port", async () => {
    const { pidDir, loaded } = setup(paymentsAlone((pids) => `PORT_TAKEN_ONCE: ${pids}/payments-port-taken`))
    const lines: string[] = []
    const session = await start(loaded, lines)
    try {
      // The sandbox's own start used the marker; without it, the copy's first port is taken.
      rmSync(path.join(pidDir, 'payments-port-taken'))
      const copy = await session.candidate.isolate!('payments', new AbortController().signal)
      const taken = Number(readFileSync(path.join(pidDir, 'payments-port-taken'), 'utf8'))
      expect(lines).toContain(
        `candidate sandbox, service payments (copy 1): port ${taken} was taken before the copy bound it; starting it again on a new one`,
      )
      expect(new URL(copy.url).port).not.toBe(String(taken))
      expect(await getJson(`${copy.url}/env/NAME`)).toBe('payments')
      await copy.stop()
    } finally {
      await session.stop()
    }
    expect(await survivors(allPids(readPids(pidDir)))).toEqual([])
  })

  it('fails a restart whose port another process took meanwhile with a PortTakenError, naming the port', async () => {
    const { pidDir, loaded } = setup(paymentsAlone())
    const session = await start(loaded)
    const squatter = net.createServer()
    try {
      const port = Number(new URL(session.candidate.url('payments')).port)
      let release = (): void => undefined
      const after = new Promise<void>((resolve) => (release = resolve))
      const restarting = session.candidate.restart!('payments', new AbortController().signal, {
        startAfter: after,
      })
      restarting.catch(() => undefined)
      // The old process stops before the new one waits for startAfter: the port is free, and taken here.
      for (let tries = 0; ; tries++) {
        const bound = await new Promise<boolean>((resolve) => {
          squatter.once('error', () => resolve(false))
          squatter.listen(port, '127.0.0.1', () => resolve(true))
        })
        if (bound) break
        if (tries > 200) throw new Error(`port ${port} never came free`)
        await new Promise((resolve) => setTimeout(resolve, 25))
      }
      release()
      const error = await restarting.catch((e: unknown) => e)
      expect(error).toBeInstanceOf(PortTakenError)
      expect((error as PortTakenError).message).toMatch(
        new RegExp(`service payments: .* after a restart; another process took its port ${port}`),
      )
    } finally {
      squatter.close()
      await session.stop()
    }
    expect(await survivors(allPids(readPids(pidDir)))).toEqual([])
  })

  it('does not retry a service that failed for another reason than its port', async () => {
    const { loaded } = setup(paymentsAlone(() => 'CRASH: 1'))
    const lines: string[] = []
    await expect(start(loaded, lines)).rejects.toThrow(
      /service payments: exited with code 3 before it was ready/,
    )
    expect(lines.some((l) => l.includes('was taken'))).toBe(false)
    // Its exit is the start's failure, said once by the error: it never ran, so not "while running".
    expect(lines.filter((l) => l.includes('while running'))).toEqual([])
  })

  it('reports a crashing service with its exit code and log tail, and stops the others', async () => {
    const { pidDir, loaded } = setup(
      (pids) => `
sandbox:
  provider: process
  default: api
  services:
    cache: { command: ${NODE_SERVER}, env: { NAME: cache, PID_DIR: ${pids}, GRANDCHILD: 1 } }
    db: { command: ${NODE_SERVER}, env: { NAME: db, CRASH: 1 }, dependsOn: [cache] }
    api:
      command: ${NODE_SERVER}
      env: { NAME: api, DB: "{{services.db.url}}" }
`,
    )
    const error = await start(loaded).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(InfrastructureError)
    const infra = error as InfrastructureError
    expect(infra.code).toBe('VIGIL_SANDBOX_START')
    expect(infra.exitCode).toBe(3)
    expect(infra.message).toBe('candidate sandbox, service db: exited with code 3 before it was ready')
    expect(infra.logTail.some((l) => l.endsWith('stderr db: fatal: cannot open database'))).toBe(true)
    expect(infra.logTail.length).toBeLessThanOrEqual(50)
    // api depends on db and never started; cache was ready before db and was stopped with its grandchild.
    const records = readPids(pidDir)
    expect(records.map((r) => r.name)).toEqual(['cache'])
    expect(await survivors(allPids(records))).toEqual([])
  })

  it('gives up on a service that is never ready, naming the last probe', async () => {
    const { loaded } = setup(
      () => `
sandbox:
  provider: process
  services:
    slow:
      command: ${NODE_SERVER}
      env: { NAME: slow, NEVER_READY: 1 }
      ready: { http: health, timeout: 5s }
`,
    )
    // The deadline leaves a loaded machine time to start node and bind, so the last probe gets its 503
    // (at 800 ms it has been a refused connection: the server was not listening yet).
    const error = (await start(loaded).catch((e: unknown) => e)) as InfrastructureError
    expect(error).toBeInstanceOf(InfrastructureError)
    expect(error.message).toMatch(
      /^candidate sandbox, service slow: was not ready within 5s \(last probe: GET http:\/\/127\.0\.0\.1:\d+\/health: status 503\)$/,
    )
    expect(error.logTail.join('\n')).toContain('slow: listening on')
  })

  it('escalates to SIGKILL for a service that ignores SIGTERM', async () => {
    const { pidDir, loaded } = setup(
      (pids) => `
sandbox:
  provider: process
  stopTimeout: 300ms
  services:
    stubborn: { command: ${NODE_SERVER}, env: { NAME: stubborn, PID_DIR: ${pids}, IGNORE_SIGTERM: 1 } }
`,
    )
    const session = await start(loaded)
    const pids = allPids(readPids(pidDir))
    await session.stop()
    expect(await survivors(pids, 1_000)).toEqual([])
    expect(session.candidate.logs('stubborn').join('\n')).toContain('ignoring SIGTERM')
    expect(session.candidate.logs('stubborn').at(-1)).toMatch(/vigil was killed by SIGKILL$/)
  })

  it('reports a command that cannot be found', async () => {
    const { loaded } = setup(
      () => `
sandbox:
  provider: process
  services:
    ghost: { command: "vigil-no-such-command --flag 'a b'" }
`,
    )
    const error = (await start(loaded).catch((e: unknown) => e)) as InfrastructureError
    expect(error).toBeInstanceOf(InfrastructureError)
    expect(error.message).toMatch(/^candidate sandbox, service ghost: could not start: command not found/)
  })

  it.each([
    [
      'a dependency cycle',
      `  services:\n    a: { command: x, env: { B: "{{services.b.url}}" } }\n    b: { command: x, dependsOn: [a] }\n  default: a\n`,
      /^vigil\.config\.yaml:5:5 sandbox\.services: services depend on each other in a cycle: a → b → a$/,
    ],
    [
      'an unknown service reference',
      `  default: a\n  services:\n    a: { command: x, env: { B: "{{services.nope.url}}" } }\n`,
      /^vigil\.config\.yaml:6:5 sandbox\.services\.a: depends on unknown service "nope"; expected one of a$/,
    ],
    [
      'a misspelt key',
      `  services:\n    a:\n      command: x\n      redy: { http: /health }\n`,
      /^vigil\.config\.yaml:7:7 unknown property "redy" in sandbox\.services\.a; expected one of [^)]*\bprepare\b[^)]*\bversion\b[^)]* \(did you mean "ready"\?\)$/,
    ],
    [
      'a wrong type',
      `  services:\n    a: { command: x, ready: { timeout: soon } }\n`,
      /^vigil\.config\.yaml:5:31 sandbox\.services\.a\.ready\.timeout must be a duration such as 500ms, 15s, 2m or 1h \(or a number of milliseconds\), got "soon"$/,
    ],
    [
      'shell syntax in a command',
      `  services:\n    a: { command: "npm run build && node x.js" }\n`,
      /^vigil\.config\.yaml:5:10 sandbox\.services\.a\.command: "&&" is shell syntax/,
    ],
    [
      'several services without a default',
      `  services:\n    a: x\n    b: y\n`,
      /^vigil\.config\.yaml:4:3 sandbox\.default: required when there are several services \(a, b\)$/,
    ],
    [
      'an unset environment variable',
      `  services:\n    a: { command: x, env: { R: "{{env.VIGIL_TEST_UNSET}}" } }\n`,
      /^vigil\.config\.yaml:5:29 sandbox\.services\.a\.env\.R: \{\{env\.VIGIL_TEST_UNSET\}\}: environment variable VIGIL_TEST_UNSET is not set$/,
    ],
  ])('rejects %s with a located config error', async (_name, body, message) => {
    const dir = tempDir()
    cleanups.push(() => removeDir(dir))
    const loaded = writeConfig(dir, `# sandbox\nsandbox:\n  provider: process\n${body}`)
    const error = await start(loaded).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConfigError)
    const text = (error as Error).message
    expect(text.slice(text.indexOf('vigil.config.yaml'))).toMatch(message)
  })

  it('rejects an unknown provider, suggesting the closest one', async () => {
    const dir = tempDir()
    cleanups.push(() => removeDir(dir))
    const loaded = writeConfig(dir, `sandbox:\n  provider: procss\n  services: { a: x }\n`)
    await expect(start(loaded)).rejects.toThrow(
      /vigil\.config\.yaml:2:3 sandbox\.provider: unknown provider "procss"; expected one of kubernetes, process, url \(did you mean "process"\?\)$/,
    )
  })

  it('rejects a config without a sandbox section', async () => {
    const dir = tempDir()
    cleanups.push(() => removeDir(dir))
    await expect(start(writeConfig(dir, 'plans: [plans]\n'))).rejects.toThrow(/no sandbox is configured/)
  })
})
