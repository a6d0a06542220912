/** The clients registry: opened by name for the kinds that need them, and bound to the sandboxes' addresses. */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  clients,
  defineClient,
  OffSandboxTrafficError,
  openClients,
  SandboxAddresses,
} from '../../../engine/clients/index.js'
import type { HttpClient } from '../../../engine/http/client.js'
import { Redactor } from '../../../engine/http/redact.js'
import { runCheck } from '../../../engine/executors/local/check-runner.js'
import { defineCheckKind } from '../../../engine/api/kind.js'
import { createSandbox } from '../../../engine/sandboxes/index.js'

let url: string
const server = createServer((req, res) => res.end(`${req.method} ${req.url}`))
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

describe('SandboxAddresses', () => {
  const addresses = SandboxAddresses.of([
    createSandbox({
      name: 'candidate',
      services: { api: 'http://127.0.0.1:4001', db: 'tcp://127.0.0.1:6379' },
      defaultService: 'api',
    }),
    undefined,
    createSandbox({ name: 'baseline', services: { api: 'http://localhost:4002/' }, defaultService: 'api' }),
  ])

  it('allows the host and port of each service, whatever the path or the scheme', () => {
    expect(addresses.allows(new URL('http://127.0.0.1:4001/orders?x=1'))).toBe(true)
    expect(addresses.allows(new URL('tcp://127.0.0.1:6379'))).toBe(true)
    expect(addresses.allows(new URL('http://LOCALHOST:4002/x'))).toBe(true)
    expect(addresses.allows(new URL('tcp://127.0.0.1:4001'))).toBe(true)
  })

  it('refuses another port, host or scheme, and names the sandboxes’ addresses', () => {
    for (const other of [
      'http://127.0.0.1:4003/',
      'https://127.0.0.1/',
      'http://127.0.0.2:4001/',
      'http://user@evil.example/',
    ]) {
      expect(addresses.allows(new URL(other)), other).toBe(false)
    }
    expect(() => addresses.check(new URL('http://127.0.0.1:9/x'))).toThrow(OffSandboxTrafficError)
    expect(() => addresses.check(new URL('http://127.0.0.1:9/x'))).toThrow(
      "127.0.0.1:9 is not a sandbox address; vigil sends traffic only to the sandboxes' services " +
        '(127.0.0.1:4001, 127.0.0.1:6379, localhost:4002)',
    )
  })
})

describe('openClients', () => {
  it('opens the http client a kind needs, bound to the sandbox: its service answers, another port is refused unsent', async () => {
    const opened = openClients(clients, ['http', 'http', 'no-such-client'], {
      redactor: new Redactor(),
      addresses: new SandboxAddresses([url]),
    })
    expect(Object.keys(opened.byName)).toEqual(['http'])
    const http = opened.byName.http as HttpClient
    const exchange = await http.request({ method: 'GET', url: `${url}/orders` })
    expect(exchange.response.text()).toBe('GET /orders')
    const other = url.replace(
      /:(\d+)$/,
      (_, port: string) => `:${Number(port) === 65535 ? 1 : Number(port) + 1}`,
    )
    await expect(http.request({ method: 'GET', url: `${other}/x` })).rejects.toThrow(OffSandboxTrafficError)
    await opened.close()
  })

  it('closes every client it opened, and only those', async () => {
    const closed: string[] = []
    const registry = {
      a: defineClient({ open: () => 'a', close: async (c) => void closed.push(c) }),
      b: defineClient({ open: () => 'b', close: async (c) => void closed.push(c) }),
    }
    const opened = openClients(registry, ['b'], {
      redactor: new Redactor(),
      addresses: new SandboxAddresses([]),
    })
    await opened.close()
    expect(closed).toEqual(['b'])
  })
})

describe('a kind’s needs', () => {
  it('errors the check, naming the client, when the run has not opened one the kind needs', async () => {
    const kind = defineCheckKind({
      meta: { description: 'x', schema: {}, messages: {}, needs: ['http'] },
      run: async () => undefined,
    })
    const result = await runCheck({
      plan: {
        name: 'p',
        title: 'p',
        selectionHint: '',
        paths: [],
        tags: [],
        always: false,
        blocking: true,
        vars: {},
        file: 'p.md',
        dir: '.',
        frontmatter: {},
        checks: [],
      },
      check: {
        kind: 'probe',
        name: 'c',
        id: 'p/c',
        index: 0,
        location: { file: 'p.md', line: 1, column: 1 },
        params: {},
        source: '',
      },
      kind,
      sandboxes: {
        candidate: createSandbox({ name: 'candidate', services: { api: url }, defaultService: 'api' }),
      },
      clients: {},
      redactor: new Redactor(),
      vars: { get: () => undefined, set: () => undefined, render: (v) => v },
      seed: 1,
      timeoutMs: 5000,
      signal: new AbortController().signal,
    })
    expect(result.state).toBe('errored')
    expect(result.state === 'errored' && result.error.message).toBe(
      'the probe kind needs the client http, which this run has not opened (engine/clients/index.ts has none by that name)',
    )
  })
})
