import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../plans/index.js'
import { tempTree } from './helpers.js'

async function configError(text: string): Promise<ConfigError> {
  const cwd = await tempTree({ 'vigil.config.yaml': text })
  const error = await loadConfig(undefined, cwd).catch((e: unknown) => e)
  expect(error).toBeInstanceOf(ConfigError)
  return error as ConfigError
}

describe('loadConfig', () => {
  it('applies the defaults when there is no config and no path', async () => {
    const cwd = await tempTree({})
    const loaded = await loadConfig(undefined, cwd)
    expect(loaded).toMatchObject({ found: false, dir: cwd, file: path.join(cwd, 'vigil.config.yaml') })
    expect(loaded.config).toEqual({
      plans: ['plans'],
      concurrency: 8,
      timeout: '10m',
      timeoutMs: 600_000,
      checkTimeout: '60s',
      checkTimeoutMs: 60_000,
      env: [],
      secrets: {},
      redact: { headers: [] },
      allowHosts: [],
      allowFiles: [],
      baseline: {},
      selector: {},
      executor: { kind: 'local' },
      kubernetes: {},
      logs: { graceMs: 100, lines: 20 },
    })
  })

  it('reads a full config, parsing durations and keeping open sections', async () => {
    const cwd = await tempTree({
      'app/vigil.config.yaml': `plans: [plans, "extra/**/*.md"]
concurrency: 4
timeout: 2m
checkTimeout: 1m30s
env: [SHOP_REGION]
secrets:
  alice: { value: alice-token }
  bob: { env: SHOP_BOB_TOKEN }
redact: { headers: [x-shop-key] }
sandbox:
  provider: process
  default: orders
  services:
    orders: { command: node orders/server.js, ready: { http: /health } }
selector: { default: rules, threshold: 0.2 }
`,
    })
    const loaded = await loadConfig('app/vigil.config.yaml', cwd)
    expect(loaded.found).toBe(true)
    expect(loaded.dir).toBe(path.join(cwd, 'app'))
    expect(loaded.config).toMatchObject({
      plans: ['plans', 'extra/**/*.md'],
      concurrency: 4,
      timeoutMs: 120_000,
      checkTimeoutMs: 90_000,
      env: ['SHOP_REGION'],
      secrets: { alice: { value: 'alice-token' }, bob: { env: 'SHOP_BOB_TOKEN' } },
      redact: { headers: ['x-shop-key'] },
      sandbox: { provider: 'process', default: 'orders' },
      selector: { default: 'rules', threshold: 0.2 },
      executor: { kind: 'local' },
    })
  })

  it('reports every problem as file:line:col message', async () => {
    const error = await configError(`plan: [plans]
concurrency: 0
timeout: forever
secrets:
  bob: { env: A, value: bee-token }
  carol: {}
sandbox: { default: orders }
`)
    expect(error.code).toBe('VIGIL_CONFIG')
    expect(error.message.split('\n')).toEqual([
      'vigil.config.yaml:1:1 unknown property "plan"; expected one of $schema, plans, concurrency, timeout, checkTimeout, env, secrets, redact, allowHosts, allowFiles, sandbox, baseline, selector, executor, kubernetes, logs (did you mean "plans"?)',
      'vigil.config.yaml:2:14 concurrency must be >= 1, got 0',
      'vigil.config.yaml:3:10 timeout must be a duration like 500ms, 30s, 5m or 1h, got "forever"',
      'vigil.config.yaml:5:8 secrets.bob: set either value or env, not both',
      'vigil.config.yaml:6:3 missing required property "value" or "env" in secrets.carol',
      'vigil.config.yaml:7:1 missing required property "provider" in sandbox',
    ])
    expect(error.diagnostics).toHaveLength(6)
  })

  it('reports invalid YAML with its position', async () => {
    const error = await configError('plans: [plans\nconcurrency: 2\n')
    expect(error.message).toMatch(/^vigil\.config\.yaml:\d+:\d+ invalid YAML: /)
  })

  it('fails clearly on a given path that does not exist', async () => {
    const cwd = await tempTree({})
    await expect(loadConfig('missing.yaml', cwd)).rejects.toThrow(
      'missing.yaml:1:1 cannot read config: no such file',
    )
  })
})
