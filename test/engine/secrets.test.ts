/**
 * The secrets table, end to end: the real CLI and MCP server on a project that puts every secret of
 * support/secrets.ts — and the Messages API key — in every place a secret can go (support/secret-project.ts),
 * against real services on loopback and a Messages API that echoes the key in its errors. Every output is
 * grepped for every form of every secret: the console, the JSON verdict, JUnit, Markdown, the selection
 * record, the selector cache, the MCP replies, the curl lines and the log tails inside them.
 */
import { execFile } from 'node:child_process'
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { XMLParser } from 'fast-xml-parser'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Finding, Verdict } from '../../engine/verdict.js'
import { startMessagesApi, statusReply, toolReply, type MessagesApiServer } from '../support/messages-api.js'
import {
  API_KEY,
  PLACEMENTS,
  checkName,
  createSecretProject,
  secretEnv,
  type Placement,
} from '../support/secret-project.js'
import { SECRETS, findForms, type SecretName } from '../support/secrets.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const bin = path.join(root, 'bin/vigil.js')

/** Every secret of the table and the API key: what no output may hold in any form. */
const ALL: Record<string, string> = { ...SECRETS, apiKey: API_KEY }
/** The API key as an error body echoes it. */
const ECHOED_KEY = `invalid x-api-key ${API_KEY} (base64 ${Buffer.from(API_KEY).toString('base64')}, url ${encodeURIComponent(API_KEY)})`

interface Result {
  code: number
  stdout: string
  stderr: string
}

function vigil(args: string[], cwd: string, env: Record<string, string>): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      {
        cwd,
        env: { PATH: process.env.PATH ?? '', HOME: os.tmpdir(), NO_COLOR: '1', ...env },
        timeout: 150_000,
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout, stderr }),
    )
  })
}

const read = (file: string) => readFileSync(file, 'utf8')
const secretNames = Object.keys(SECRETS) as SecretName[]
const placementCases = secretNames.flatMap((secret) =>
  (Object.keys(PLACEMENTS) as Placement[]).map((placement) => ({
    placement,
    secret,
    check: checkName(placement, secret),
  })),
)
// A header cannot carry non-ASCII characters: that request is refused before it is sent, and its evidence
// (the request alone) was redacted before too. It runs, but it is no case of this table.
const tableCases = placementCases.filter((c) => !(c.placement === 'header' && c.secret === 'unicode'))

let dir: string
let api: MessagesApiServer
let env: Record<string, string>

beforeAll(async () => {
  dir = createSecretProject()
  // Every request fails with an error body that echoes the key: hybrid falls back, degraded.
  api = await startMessagesApi({ fallback: statusReply(401, { message: ECHOED_KEY }) })
  env = { ...secretEnv(), ANTHROPIC_BASE_URL: api.url }
})
afterAll(async () => {
  await api?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('vigil ci: a change run with every secret in every place', () => {
  let result: Result
  const outputs: Record<string, string> = {}
  let verdict: Verdict

  beforeAll(async () => {
    result = await vigil(['ci', '--patch', 'change.patch'], dir, env)
    const out = path.join(dir, '.vigil/ci')
    outputs.console = result.stdout + result.stderr
    for (const file of ['verdict.json', 'selection.json', 'junit.xml', 'summary.md'])
      outputs[file] = read(path.join(out, file))
    verdict = JSON.parse(outputs['verdict.json']!) as Verdict
  }, 180_000)

  it('ran every check: a degraded selection kept the plan, each placement failed with redacted evidence', () => {
    expect(result.code, result.stderr).toBe(1)
    const record = JSON.parse(outputs['selection.json']!) as { degraded: boolean; degradedReason: string }
    expect(record.degraded).toBe(true)
    expect(record.degradedReason).toContain(
      'invalid x-api-key [REDACTED] (base64 [REDACTED], url [REDACTED])',
    )
    expect(verdict.selection?.degradedReason).toBe(record.degradedReason)
    const checks = verdict.plans[0]!.checks
    expect(checks.filter((c) => c.state === 'failed')).toHaveLength(placementCases.length + 1)
  })

  it.each(['console', 'verdict.json', 'selection.json', 'junit.xml', 'summary.md'])(
    '%s holds no form of any secret or of the API key',
    (output) => {
      expect(findForms(outputs[output]!, ALL)).toEqual([])
    },
  )

  it.each(tableCases)('verdict.json, $check: request, echo and curl line are redacted', ({ check }) => {
    const result = verdict.plans[0]!.checks.find((c) => c.check === check)!
    expect(result.state).toBe('failed')
    expect(findForms(JSON.stringify(result), ALL)).toEqual([])
    const finding = (result as { findings: Finding[] }).findings[0]!
    // The echo came back in every encoding, each replaced.
    expect(finding.evidence?.excerpt?.text).toBe(
      'raw [REDACTED] | base64 [REDACTED] | base64url [REDACTED] | url [REDACTED] | form [REDACTED] | json "[REDACTED]" | basic Basic [REDACTED]',
    )
    expect(finding.evidence?.reproduce).toMatch(/^curl -sS .*\[REDACTED\]/)
  })

  it.each(tableCases)('junit.xml, $check: the test case holds no form of its secret', ({ check }) => {
    const xml = new XMLParser({ ignoreAttributes: false }).parse(outputs['junit.xml']!) as {
      testsuites: { testsuite: Array<{ testcase: Array<{ '@_name': string }> } | { testcase: unknown }> }
    }
    const suites = [xml.testsuites.testsuite].flat() as Array<{ testcase: Array<{ '@_name': string }> }>
    const testcase = suites.flatMap((s) => [s.testcase].flat()).find((t) => t['@_name'].endsWith(check))
    expect(testcase).toBeDefined()
    const text = JSON.stringify(testcase)
    expect(text).toContain('[REDACTED]')
    expect(findForms(text, ALL)).toEqual([])
  })

  it('the run: step that prints every secret and the inherited API key: output tail and reproduce line', () => {
    const run = verdict.plans[0]!.checks.find((c) => c.check === 'run step')!
    const text = JSON.stringify(run)
    expect(findForms(text, ALL)).toEqual([])
    expect(text).toContain('ANTHROPIC_API_KEY: raw [REDACTED] | base64 [REDACTED]')
    expect(text).toMatch(/S_special='?\[REDACTED\]/)
  })
})

describe('vigil run: a service that prints every secret and crashes', () => {
  it.each([
    ['console', ''],
    ['JSON', 'json:out/crash.json'],
    ['JUnit', 'junit:out/crash.xml'],
    ['Markdown', 'markdown:out/crash.md'],
  ])(
    '%s: the log tail is there, redacted',
    async (_, reporter) => {
      const args = ['run', '--config', 'crash.config.yaml', '--no-baseline']
      const result = await vigil(reporter ? [...args, '--reporter', reporter] : args, dir, env)
      expect(result.code, result.stderr).toBe(3)
      const output = reporter ? read(path.join(dir, reporter.split(':')[1]!)) : result.stdout + result.stderr
      expect(output).toMatch(/S_special: raw \[REDACTED\] \| base64 \[REDACTED\]/)
      expect(output).toContain('ANTHROPIC_API_KEY: raw [REDACTED]')
      expect(findForms(output + result.stdout + result.stderr, ALL)).toEqual([])
    },
    60_000,
  )
})

describe('vigil select: the LLM path', () => {
  it('a reply that echoes the key: neither the record nor the cache file holds it', async () => {
    const echoing = await startMessagesApi({
      fallback: toolReply({
        selected: [
          { name: 'secrets', reason: `key ${API_KEY} or ${Buffer.from(API_KEY).toString('base64')}` },
        ],
        rejected: [],
      }),
    })
    try {
      const cacheDir = path.join(dir, '.vigil/cache-echo')
      const args = [
        'select',
        '--selector',
        'llm',
        '--patch',
        'change.patch',
        '--json',
        '--cache-dir',
        cacheDir,
      ]
      const first = await vigil(args, dir, { ...env, ANTHROPIC_BASE_URL: echoing.url })
      expect(first.code, first.stderr).toBe(0)
      expect(first.stdout).toContain('key [REDACTED] or [REDACTED]')
      const files = readdirSync(cacheDir)
      expect(files).toHaveLength(1)
      const cached = read(path.join(cacheDir, files[0]!))
      expect(cached).toContain('[REDACTED]')
      expect(findForms(cached + first.stdout + first.stderr, ALL)).toEqual([])
      // The second run reads the cache: no API call, the same redacted answer.
      const calls = echoing.requests.length
      const second = await vigil(args, dir, { ...env, ANTHROPIC_BASE_URL: echoing.url })
      expect(echoing.requests.length).toBe(calls)
      expect(findForms(second.stdout + second.stderr, ALL)).toEqual([])
    } finally {
      await echoing.close()
    }
  }, 60_000)

  it('an API error that echoes the key: --selector llm degrades with the key redacted', async () => {
    const result = await vigil(
      ['select', '--selector', 'llm', '--patch', 'change.patch', '--no-cache'],
      dir,
      env,
    )
    expect(result.code).toBe(0)
    expect(result.stdout + result.stderr).toMatch(/DEGRADED.*invalid x-api-key \[REDACTED\]/)
    expect(findForms(result.stdout + result.stderr, ALL)).toEqual([])
  }, 60_000)
})

describe('vigil mcp: the replies', () => {
  let client: Client
  beforeAll(async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [bin, 'mcp', '--config', 'vigil.config.yaml'],
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', HOME: os.tmpdir(), NO_COLOR: '1', ...env },
      stderr: 'pipe',
    })
    client = new Client({ name: 'vigil-test', version: '1.0.0' })
    await client.connect(transport)
  }, 60_000)
  afterAll(async () => {
    await client?.close()
  })

  const call = async (name: string, args: Record<string, unknown>) =>
    (await client.callTool({ name, arguments: args }, undefined, { timeout: 150_000 })) as CallToolResult
  const everything = (result: CallToolResult) => JSON.stringify(result)

  it('select_plans (hybrid, the API echoing the key): the record is degraded and redacted', async () => {
    const result = await call('select_plans', { patch: 'change.patch' })
    expect(result.isError).toBeFalsy()
    expect(everything(result)).toContain('invalid x-api-key [REDACTED]')
    expect(findForms(everything(result), ALL)).toEqual([])
  }, 60_000)

  it('select_plans (llm): the degraded reason is redacted', async () => {
    const result = await call('select_plans', { patch: 'change.patch', selector: 'llm' })
    expect(result.isError).toBeFalsy()
    expect(everything(result)).toContain('invalid x-api-key [REDACTED]')
    expect(findForms(everything(result), ALL)).toEqual([])
  }, 60_000)

  it('run_plans: the verdict and its summary hold no form of any secret', async () => {
    const result = await call('run_plans', { plans: ['secrets'], baseline: false })
    const text = everything(result)
    expect(text).toContain('base64 [REDACTED]')
    expect(findForms(text, ALL)).toEqual([])
  }, 150_000)
})

describe('a secret shorter than 6 characters is a config error that names it', () => {
  it.each([
    ['vigil run', ['run', '--no-baseline']],
    ['vigil select', ['select', '--patch', 'change.patch', '--selector', 'rules']],
    ['vigil sandbox --check', ['sandbox', '--check', '--no-baseline']],
  ])(
    '%s: exit 2, the secret, its variable and its line; never its value',
    async (_, args) => {
      const result = await vigil(args, dir, { ...env, T_SIX: 'five5' })
      const output = result.stdout + result.stderr
      expect(result.code, output).toBe(2)
      expect(output).toMatch(
        /vigil\.config\.yaml:\d+:\d+ secrets\.six: the secret's value \(environment variable T_SIX\) has 5 characters; a secret needs at least 6/,
      )
      expect(output).not.toContain('five5')
    },
    60_000,
  )

  it('an inline value too, for every command that reads the config (the schema says so, located at the value)', async () => {
    writeFileSync(
      path.join(dir, 'inline.config.yaml'),
      'plans: [plans]\nsecrets:\n  pin: { value: "1234" }\nsandbox:\n  provider: url\n  services: { echo: { url: "http://127.0.0.1:9" } }\n',
    )
    for (const args of [['run'], ['plans', 'lint']]) {
      const result = await vigil([...args, '--config', 'inline.config.yaml'], dir, env)
      expect(result.code).toBe(2)
      expect(result.stdout + result.stderr).toContain(
        'inline.config.yaml:3:17 secrets.pin.value is too short (4 characters, at least 6)',
      )
    }
  }, 60_000)
})
