/** `dependencies:` in the sandbox config: validated against each kind's schema at load time, file:line:col. */
import { afterAll, describe, expect, it } from 'vitest'
import { ConfigError, InfrastructureError } from '../../../engine/errors.js'
import { startSandboxes, validateSandboxConfig } from '../../../engine/sandboxes/index.js'
import { NODE_SERVER, removeDir, tempDir, writeConfig } from '../sandboxes/helpers.js'

const dirs: string[] = []
afterAll(() => dirs.forEach(removeDir))

function load(body: string) {
  const dir = tempDir()
  dirs.push(dir)
  return writeConfig(dir, body)
}

const sandbox = (deps: string, env = '{{deps.bus.url}}') => `sandbox:
  provider: process
  dependencies:
${deps}
  services:
    app:
      command: ${NODE_SERVER}
      env: { BUS: "${env}" }
`

function configError(body: string): string {
  try {
    validateSandboxConfig(load(body))
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    return (error as Error).message
  }
  throw new Error('no config error')
}

describe('dependencies in the sandbox config', () => {
  it('names an unknown kind at its line and column, with a suggestion', () => {
    expect(configError(sandbox('    bus: { kind: natz }'))).toMatch(
      /vigil\.config\.yaml:4:12 sandbox\.dependencies\.bus\.kind: unknown dependency kind "natz"; expected one of mqtt, nats, postgres, rabbitmq, redis \(did you mean "nats"\?\)/,
    )
  })

  it('validates the options against the kind’s schema', () => {
    expect(configError(sandbox('    bus: { kind: nats, jetstrem: true }'))).toMatch(
      /vigil\.config\.yaml:4:24 unknown property "jetstrem" in sandbox\.dependencies\.bus; expected one of kind, url, binary, timeout, jetstream \(did you mean "jetstream"\?\)/,
    )
    expect(configError(sandbox('    bus: { kind: mqtt, url: "http://127.0.0.1:1883" }'))).toMatch(
      /:4:\d+ sandbox\.dependencies\.bus\.url must match \^\(mqtt\):\/\/, got "http:\/\/127\.0\.0\.1:1883"/,
    )
    expect(configError(sandbox('    bus: { kind: redis, timeout: soon }'))).toMatch(
      /:4:25 sandbox\.dependencies\.bus\.timeout must be a duration such as 500ms/,
    )
  })

  it('refuses dependencies on a kubernetes sandbox: brokers there are services of the manifests', () => {
    const body = `sandbox:
  provider: kubernetes
  dependencies: { bus: { kind: nats } }
  services: { api: { image: x, port: 80 } }
`
    expect(configError(body)).toMatch(
      /:3:\d+ sandbox\.dependencies: a kubernetes sandbox runs its brokers .* \(bus\)/,
    )
  })

  it('a reference to an undeclared dependency is a config error naming the placeholder', async () => {
    const loaded = load(sandbox('    bus: { kind: mqtt }', '{{deps.queue.url}}'))
    const error = await startSandboxes({
      loaded,
      signal: new AbortController().signal,
      log: () => {},
      baseline: false,
    }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as Error).message).toMatch(
      /:8:\d+ sandbox\.services\.app\.env\.BUS: \{\{deps\.queue\.url\}\} refers to an unknown dependency "queue"; the sandbox has bus/,
    )
  })

  it('a missing server binary is an infrastructure error naming the Debian package', async () => {
    const loaded = load(sandbox('    bus: { kind: nats, binary: no-such-nats-server }'))
    const error = await startSandboxes({
      loaded,
      signal: new AbortController().signal,
      log: () => {},
      baseline: false,
    }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(InfrastructureError)
    expect((error as Error).message).toBe(
      'candidate sandbox, dependency bus (nats): the no-such-nats-server binary was not found on PATH; install the Debian package nats-server (apt-get install nats-server), or give the dependency the `url:` of a running server',
    )
  })

  it('a shared server outside loopback needs allowHosts', async () => {
    const loaded = load(sandbox('    bus: { kind: nats, url: "nats://broker.example.com:4222" }'))
    const error = await startSandboxes({
      loaded,
      signal: new AbortController().signal,
      log: () => {},
      baseline: false,
    }).catch((e: unknown) => e)
    expect((error as Error).message).toMatch(
      /:4:\d+ dependencies\.bus\.url: host broker\.example\.com is not loopback; list it in allowHosts/,
    )
  })
})
