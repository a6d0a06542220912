/**
 * Adversarial `isolation: sandbox` through the real process sandbox and the check runner: the cases go to a
 * fresh copy of the service, started for the check and stopped after it, so the state a case poisons is
 * not the state the other checks see. Without isolation the same cases leave the shared service broken.
 */
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CheckBlock, Plan } from '../../../../plans/types.js'
import { clients, openClients, SandboxAddresses, type OpenClients } from '../../../../engine/clients/index.js'
import { runCheck } from '../../../../engine/executors/local/check-runner.js'
import { HttpClient } from '../../../../engine/http/client.js'
import { Redactor } from '../../../../engine/http/redact.js'
import { checkKinds } from '../../../../engine/kinds/index.js'
import { startSandboxes, type SandboxSession } from '../../../../engine/sandboxes/index.js'
import { Variables } from '../../../../engine/vars.js'
import type { CheckResult, Finding, HttpEvidence } from '../../../../engine/verdict.js'
import { removeDir, tempDir, writeConfig } from '../../sandboxes/helpers.js'

const SERVER = fileURLToPath(new URL('./poison-server.js', import.meta.url))
const OPENAPI = {
  openapi: '3.0.3',
  info: { title: 'widgets', version: '1' },
  paths: {
    '/health': { get: { operationId: 'health', responses: { '200': { description: 'up' } } } },
    '/widgets': {
      post: {
        operationId: 'createWidget',
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                additionalProperties: false,
                required: ['name'],
                properties: { name: { type: 'string', pattern: '^[a-z]{1,20}$' } },
              },
              example: { name: 'gear' },
            },
          },
        },
        responses: { '201': { description: 'created' }, '400': { description: 'invalid' } },
      },
    },
  },
}

let dir: string
let session: SandboxSession
let addresses: SandboxAddresses
let opened: OpenClients
const redactor = new Redactor()
const plain = new HttpClient({ redactor })

beforeAll(async () => {
  dir = tempDir('vigil-isolation-')
  writeFileSync(path.join(dir, 'openapi.json'), JSON.stringify(OPENAPI))
  const loaded = writeConfig(
    dir,
    `sandbox:
  provider: process
  services:
    api:
      command: ${JSON.stringify([process.execPath, SERVER])}
      ready: { http: /health, timeout: 10s }
`,
  )
  session = await startSandboxes({
    loaded,
    baseline: false,
    signal: new AbortController().signal,
    log: () => {},
    cwd: dir,
    redactor,
  })
  addresses = SandboxAddresses.of([session.candidate])
  opened = openClients(clients, ['http'], { redactor, addresses })
}, 30_000)

afterAll(async () => {
  await opened?.close()
  await plain.close()
  await session?.stop()
  if (dir) removeDir(dir)
})

function check(params: Record<string, unknown>): { plan: Plan; check: CheckBlock } {
  const block: CheckBlock = {
    kind: 'adversarial',
    name: 'widgets survive',
    id: 'widgets/widgets survive',
    index: 0,
    location: { file: 'plans/widgets.md', line: 5, column: 1 },
    params: { openapi: 'openapi.json', cases: 150, oracles: ['no-server-error', 'healthy'], ...params },
    source: '',
  }
  const plan: Plan = {
    name: 'widgets',
    title: 'Widgets',
    selectionHint: 'widgets',
    paths: [],
    tags: [],
    always: false,
    blocking: true,
    vars: {},
    file: 'plans/widgets.md',
    dir,
    frontmatter: {},
    checks: [block],
  }
  return { plan, check: block }
}

async function run(params: Record<string, unknown>): Promise<CheckResult> {
  const { plan, check: block } = check(params)
  return runCheck({
    plan,
    check: block,
    kind: checkKinds.adversarial,
    sandboxes: { candidate: session.candidate },
    clients: opened.byName,
    addresses,
    redactor,
    vars: new Variables({ services: { api: session.candidate.url('api') }, defaultService: 'api' }),
    seed: 7,
    timeoutMs: 30_000,
    signal: new AbortController().signal,
  })
}

/** A valid create on the shared service, as another check would send it. */
async function createOnShared(): Promise<number> {
  const exchange = await plain.request({
    method: 'POST',
    url: `${session.candidate.url('api')}/widgets`,
    json: { name: 'later' },
  })
  return exchange.response.status
}

const findingsOf = (result: CheckResult): Finding[] => ('findings' in result ? result.findings : [])

describe('adversarial isolation: sandbox', { timeout: 60_000 }, () => {
  it('without it, a deeply nested case poisons the shared service for every check after it', async () => {
    const result = await run({})
    expect(result.state).toBe('failed')
    expect(findingsOf(result).map((f) => f.messageId)).toContain('healthy')
    expect(await createOnShared()).toBe(500)
    await plain.request({ method: 'POST', url: `${session.candidate.url('api')}/__reset` })
    expect(await createOnShared()).toBe(201)
  })

  it('with it, the cases poison a copy started for the check, stopped after it; the shared service is untouched', async () => {
    const shared = new URL(session.candidate.url('api'))
    const result = await run({ isolation: 'sandbox' })
    // The poisoning is still found — on the copy.
    expect(result.state).toBe('failed')
    const findings = findingsOf(result)
    expect(findings.map((f) => f.messageId)).toContain('healthy')
    const sent = findings
      .map((f) => (f.evidence as HttpEvidence | undefined)?.request?.url)
      .filter((u): u is string => u !== undefined)
    expect(sent.length).toBeGreaterThan(0)
    const copy = new URL(sent[0]!)
    expect(copy.hostname).toBe('127.0.0.1')
    expect(copy.port).not.toBe(shared.port)
    for (const u of sent) expect(new URL(u).port).toBe(copy.port)
    // The shared service never saw a case.
    expect(await createOnShared()).toBe(201)
    // The copy is gone, and so is its address.
    expect(addresses.allows(copy)).toBe(false)
    const gone = new HttpClient({ redactor })
    try {
      await expect(
        gone.request({ method: 'GET', url: `${copy.origin}/health`, timeoutMs: 2000 }),
      ).rejects.toThrow()
    } finally {
      await gone.close()
    }
  })

  it('a sandbox that cannot start copies makes the check errored, saying what to use instead', async () => {
    const { plan, check: block } = check({ isolation: 'sandbox' })
    const { isolate: _drop, ...withoutIsolation } = session.candidate
    const result = await runCheck({
      plan,
      check: block,
      kind: checkKinds.adversarial,
      sandboxes: { candidate: withoutIsolation as typeof session.candidate },
      clients: opened.byName,
      addresses,
      redactor,
      vars: new Variables({ services: { api: session.candidate.url('api') }, defaultService: 'api' }),
      seed: 7,
      timeoutMs: 30_000,
      signal: new AbortController().signal,
    })
    expect(result).toMatchObject({
      state: 'errored',
      error: {
        code: 'VIGIL_ISOLATION',
        message: expect.stringMatching(/cannot start a copy of a service.*reset hook/),
      },
    })
  })
})
