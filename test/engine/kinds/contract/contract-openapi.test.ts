/** The contract kind working from an OpenAPI document and JSON Schema files, on loopback servers. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import contract from '../../../../engine/kinds/contract/kind.js'
import { ContractSourceError } from '../../../../engine/api/documents/errors.js'
import type { ContractParams } from '../../../../engine/kinds/contract/params.js'
import { createCheckContext } from '../../../support/check-context.js'
import { startServer, type Handler, type TestServer } from './servers.js'

let dir: string
const servers: TestServer[] = []

const DOC = `
openapi: 3.1.0
info: { title: notes, version: '1' }
paths:
  /notes:
    post:
      operationId: createNote
      requestBody:
        content: { application/json: { schema: { type: object }, example: { text: hello } } }
      responses:
        '201': { description: ok, content: { application/json: { schema: { $ref: '#/components/schemas/Note' } } } }
  /notes/{noteId}:
    get:
      operationId: getNote
      tags: [read]
      parameters: [{ name: noteId, in: path, required: true, schema: { type: string, examples: [n-1] } }]
      responses:
        '200': { description: ok, content: { application/json: { schema: { $ref: '#/components/schemas/Note' } } } }
        '404': { description: missing }
components:
  schemas:
    Note:
      type: object
      required: [id, text, state]
      properties:
        id: { type: string }
        text: { type: string }
        state: { type: string, enum: [draft, published] }
`

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-contract-'))
  await writeFile(path.join(dir, 'notes.yaml'), DOC)
  await writeFile(
    path.join(dir, 'note.json'),
    JSON.stringify({
      type: 'object',
      required: ['id'],
      properties: { id: { type: 'string', pattern: '^n-' } },
    }),
  )
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()))
})

async function run(params: ContractParams, candidate: Handler, baseline?: Handler) {
  const c = await startServer(candidate)
  servers.push(c)
  const b = baseline ? await startServer(baseline) : undefined
  if (b) servers.push(b)
  const t = createCheckContext<ContractParams>({
    kind: contract,
    params,
    plan: { dir, file: 'plans/notes.md' },
    candidate: { services: { notes: c.url } },
    ...(b ? { baseline: { services: { notes: b.url } } } : {}),
    secrets: { token: { value: 'super-secret-token' } },
  })
  try {
    await t.run()
  } finally {
    await t.close()
  }
  return { findings: t.findings, candidate: c, baseline: b }
}

const note = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  text: 'hello',
  state: 'draft',
  ...extra,
})

describe('contract from an OpenAPI document', () => {
  it('calls every selected operation with its examples and checks the documented responses', async () => {
    const { findings, candidate } = await run({ openapi: './notes.yaml' }, ({ method, path: p }) =>
      method === 'POST'
        ? { status: 201, body: note('n-9') }
        : { status: 200, body: note(p.split('/')[2]!, { state: 'archived' }) },
    )
    expect(candidate.calls).toEqual([
      { method: 'POST', path: '/notes' },
      { method: 'GET', path: '/notes/n-1' },
    ])
    expect(findings.map((f) => [f.messageId, f.step, f.pointer, f.actual])).toEqual([
      ['schema', 'getNote (GET /notes/{noteId})', '/state', 'archived'],
    ])
  })

  it('matches a literal request to its operation, so the documented schema applies', async () => {
    const { findings } = await run({ openapi: './notes.yaml', request: 'GET /notes/n-2' }, () => ({
      body: { id: 'n-2' },
    }))
    expect(findings.map((f) => [f.messageId, f.pointer])).toEqual([
      ['schema', '/state'],
      ['schema', '/text'],
    ])
  })

  it('filters operations by tag', async () => {
    const { candidate } = await run({ openapi: './notes.yaml', tags: ['read'] }, () => ({
      body: note('n-1'),
    }))
    expect(candidate.calls.map((c) => c.method)).toEqual(['GET'])
  })

  it('validates against a JSON Schema file relative to the plan', async () => {
    const { findings } = await run({ request: 'GET /x', expect: { schema: './note.json' } }, () => ({
      body: { id: 'x-1' },
    }))
    expect(findings.map((f) => [f.messageId, f.pointer, f.data?.reason])).toEqual([
      ['schema', '/id', 'must match pattern "^n-"'],
    ])
  })

  it('errors (throws) when a schema file is missing, naming it', async () => {
    await expect(
      run({ request: 'GET /x', expect: { schema: './missing.json' } }, () => ({ body: {} })),
    ).rejects.toThrow(ContractSourceError)
    await expect(
      run({ request: 'GET /x', expect: { schema: './missing.json' } }, () => ({ body: {} })),
    ).rejects.toThrow(/^\.\/missing\.json: cannot read schema/)
  })
})

describe('contract setup and secrets', () => {
  it('runs setup once per sandbox and uses each sandbox its own captures', async () => {
    const notes =
      (prefix: string): Handler =>
      ({ method, path: p }) =>
        method === 'POST'
          ? { status: 201, body: note(`${prefix}-1`) }
          : { status: 200, body: note(p.split('/')[2]!) }
    const { findings, candidate, baseline } = await run(
      {
        setup: [
          {
            request: { method: 'POST', path: '/notes', json: { text: 'hello' } },
            capture: { noteId: '/id' },
          },
        ],
        request: 'GET /notes/{{noteId}}',
        compare: { ignore: ['/id'] },
      },
      notes('n-cand'),
      notes('n-base'),
    )
    expect(candidate.calls).toEqual([
      { method: 'POST', path: '/notes' },
      { method: 'GET', path: '/notes/n-cand-1' },
    ])
    expect(baseline!.calls).toEqual([
      { method: 'POST', path: '/notes' },
      { method: 'GET', path: '/notes/n-base-1' },
      { method: 'GET', path: '/notes/n-base-1' },
    ])
    expect(findings).toEqual([])
  })

  it('reports a failing setup on the candidate and sends nothing else', async () => {
    const { findings, candidate } = await run(
      {
        setup: [{ name: 'create', request: 'POST /notes', capture: { noteId: '/id' } }],
        request: 'GET /notes/{{noteId}}',
      },
      () => ({ status: 500, body: { error: 'down' } }),
    )
    expect(candidate.calls).toHaveLength(1)
    expect(findings.map((f) => [f.messageId, f.data?.reason])).toEqual([['setup-failed', 'status 500']])
  })

  it('keeps secrets out of findings, values and reproduce commands', async () => {
    const { findings } = await run(
      {
        request: 'GET /me',
        headers: { authorization: 'Bearer {{secrets.token}}' },
        compare: 'baseline',
        expect: { status: 200 },
      },
      ({ headers }) => ({ body: { who: headers.authorization, since: 1 } }),
      ({ headers }) => ({ body: { who: headers.authorization, since: '1' } }),
    )
    expect(findings.map((f) => f.messageId)).toEqual(['type-changed'])
    expect(JSON.stringify(findings)).not.toContain('super-secret-token')
    expect(findings[0]!.evidence?.reproduce).toContain("'authorization: Bearer [REDACTED]'")
  })

  it('reports a candidate that does not answer as a failure with a curl command', async () => {
    const dead = await startServer(() => ({ body: {} }))
    await dead.close()
    const t = createCheckContext<ContractParams>({
      kind: contract,
      params: { request: 'GET /x' },
      candidate: { services: { api: dead.url } },
    })
    await t.run()
    await t.close()
    expect(t.findings.map((f) => [f.messageId, f.data?.sandbox])).toEqual([['request-failed', 'candidate']])
    expect(t.findings[0]!.evidence?.reproduce).toMatch(/^curl .*\/x/)
  })
})
