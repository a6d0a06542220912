/** Requests only go to sandbox services: a rendered path that would name another host is refused. */
import { afterEach, describe, expect, it } from 'vitest'
import { OffSandboxPathError, createSandbox, serviceUrl } from '../../../engine/sandboxes/sandbox.js'
import { KindTester } from '../../support/kind-tester.js'
import { startServer, type TestServer } from '../kinds/contract/servers.js'

const servers: TestServer[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()))
})

describe('serviceUrl', () => {
  const sandbox = createSandbox({
    name: 'candidate',
    services: { orders: 'http://127.0.0.1:4100/', catalog: 'http://127.0.0.1:4200' },
    defaultService: 'orders',
  })

  it('joins a path to the named or the default service', () => {
    expect(serviceUrl(sandbox, undefined, '/orders?limit=1')).toBe('http://127.0.0.1:4100/orders?limit=1')
    expect(serviceUrl(sandbox, 'catalog', '/products/tea')).toBe('http://127.0.0.1:4200/products/tea')
    // Two slashes stay a path on the service: the host is already in the base URL.
    expect(new URL(serviceUrl(sandbox, undefined, '//elsewhere.example/x')).host).toBe('127.0.0.1:4100')
  })

  it.each([
    ['@elsewhere.example/x', 'another host as the URL user part'],
    [':4999/x', 'another port'],
    ['http://elsewhere.example/x', 'an absolute URL'],
    ['orders', 'a path without its leading slash'],
    ['', 'an empty path'],
  ])('refuses %j (%s)', (path) => {
    expect(() => serviceUrl(sandbox, 'orders', path)).toThrow(OffSandboxPathError)
    expect(() => serviceUrl(sandbox, 'orders', path)).toThrow(
      `candidate sandbox: request path ${JSON.stringify(path)} does not start with "/"; requests only go to sandbox services (write a path, and pick the service with "service:", here orders)`,
    )
  })
})

describe('a contract request whose rendered path names another host', () => {
  it('is refused before anything is sent, and the other host sees no request', async () => {
    const sandboxService = await startServer(() => ({ status: 200, body: {} }))
    const elsewhere = await startServer(() => ({ status: 200, body: { stolen: true } }))
    servers.push(sandboxService, elsewhere)
    const run = await new KindTester({ kind: 'contract', candidate: sandboxService }).errored({
      name: 'a path naming another host',
      block: { request: { method: 'GET', path: '{{next}}' } },
      // As a `next` link captured from a response might be.
      plan: { vars: { next: `@${new URL(elsewhere.url).host}/steal` } },
      error: /does not start with "\/"; requests only go to sandbox services/,
    })
    expect(run.result.state === 'errored' && run.result.error).toMatchObject({
      name: OffSandboxPathError.name,
      code: 'VIGIL_OFF_SANDBOX',
    })
    expect(elsewhere.calls).toEqual([])
    expect(sandboxService.calls).toEqual([])
  })
})
