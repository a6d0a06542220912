/** The contract kind working from an OpenAPI document and JSON Schema files, on loopback servers (KindTester). */
import { expect } from 'vitest'
import { KindTester, type KindCase } from '../../../support/kind-tester.js'
import { startServer, type Handler, type TestServer } from './servers.js'

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

const tester = new KindTester<TestServer>({
  kind: 'contract',
  quiet: ['noise-learned'],
  files: {
    'notes.yaml': DOC,
    'note.json': { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^n-' } } },
  },
  secrets: { token: { value: 'super-secret-token' } },
})

const notes = (handler: Handler) => () => startServer(handler, 'notes')
const note = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  text: 'hello',
  state: 'draft',
  ...extra,
})
const calls =
  (expected: TestServer['calls']): KindCase<TestServer>['assert'] =>
  ({ candidate }) =>
    void expect(candidate.calls).toEqual(expected)

tester.run('contract from an OpenAPI document', {
  valid: [
    {
      name: 'filters operations by tag',
      block: { openapi: './notes.yaml', tags: ['read'] },
      candidate: notes(() => ({ body: note('n-1') })),
      assert: ({ candidate }) => void expect(candidate.calls.map((c) => c.method)).toEqual(['GET']),
    },
  ],
  invalid: [
    {
      name: 'calls every selected operation with its examples and checks the documented responses',
      block: { openapi: './notes.yaml' },
      candidate: notes(({ method, path: p }) =>
        method === 'POST'
          ? { status: 201, body: note('n-9') }
          : { status: 200, body: note(p.split('/')[2]!, { state: 'archived' }) },
      ),
      findings: [{ messageId: 'schema', step: 'getNote (GET /notes/{noteId})', pointer: '/state' }],
      assert: (run) => {
        calls([
          { method: 'POST', path: '/notes' },
          { method: 'GET', path: '/notes/n-1' },
        ])!(run)
        expect(run.findings[0]!.actual).toBe('archived')
      },
    },
    {
      name: 'matches a literal request to its operation, so the documented schema applies',
      block: { openapi: './notes.yaml', request: 'GET /notes/n-2' },
      candidate: notes(() => ({ body: { id: 'n-2' } })),
      findings: [
        { messageId: 'schema', pointer: '/state' },
        { messageId: 'schema', pointer: '/text' },
      ],
    },
    {
      name: 'validates against a JSON Schema file relative to the plan',
      block: { request: 'GET /x', expect: { schema: './note.json' } },
      candidate: notes(() => ({ body: { id: 'x-1' } })),
      findings: [{ messageId: 'schema', pointer: '/id', data: { reason: 'must match pattern "^n-"' } }],
    },
  ],
  rejected: [
    {
      // Lint finds it before any run: the run never blames the change for a plan's mistake.
      name: 'a schema file that does not exist, with the path it resolved to',
      block: { request: 'GET /x', expect: { schema: './missing.json' } },
      errors: [
        '3:11 contract: expect.schema "./missing.json" does not exist (resolved to plans/missing.json, relative to the plan\'s folder)',
      ],
    },
  ],
})

const prefixed =
  (prefix: string): Handler =>
  ({ method, path: p }) =>
    method === 'POST'
      ? { status: 201, body: note(`${prefix}-1`) }
      : { status: 200, body: note(p.split('/')[2]!) }

tester.run('contract setup and secrets', {
  valid: [
    {
      name: 'runs setup once per sandbox and uses each sandbox its own captures',
      block: {
        setup: [
          {
            request: { method: 'POST', path: '/notes', json: { text: 'hello' } },
            capture: { noteId: '/id' },
          },
        ],
        request: 'GET /notes/{{noteId}}',
        compare: { ignore: ['/id'] },
      },
      candidate: notes(prefixed('n-cand')),
      baseline: notes(prefixed('n-base')),
      assert: ({ candidate, baseline, findings }) => {
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
      },
    },
  ],
  invalid: [
    {
      name: 'reports a failing setup on the candidate and sends nothing else',
      block: {
        setup: [{ name: 'create', request: 'POST /notes', capture: { noteId: '/id' } }],
        request: 'GET /notes/{{noteId}}',
      },
      candidate: notes(() => ({ status: 500, body: { error: 'down' } })),
      findings: [{ messageId: 'setup-failed', data: { reason: 'status 500' } }],
      assert: ({ candidate }) => void expect(candidate.calls).toHaveLength(1),
    },
    {
      name: 'keeps secrets out of findings, values and reproduce commands',
      block: {
        request: 'GET /me',
        headers: { authorization: 'Bearer {{secrets.token}}' },
        compare: 'baseline',
        expect: { status: 200 },
      },
      candidate: notes(({ headers }) => ({ body: { who: headers.authorization, since: 1 } })),
      baseline: notes(({ headers }) => ({ body: { who: headers.authorization, since: '1' } })),
      findings: [{ messageId: 'type-changed' }],
      assert: ({ findings, reports }) => {
        expect(JSON.stringify(findings)).not.toContain('super-secret-token')
        expect(JSON.stringify(reports.map((r) => r.evidence))).not.toContain('super-secret-token')
        expect(findings[0]!.evidence?.reproduce).toContain("'authorization: Bearer [REDACTED]'")
      },
    },
    {
      name: 'reports a candidate that does not answer as a failure with a curl command',
      block: { request: 'GET /x' },
      candidate: async () => {
        const dead = await startServer(() => ({ body: {} }))
        await dead.close()
        return dead
      },
      findings: [{ messageId: 'request-failed', data: { sandbox: 'candidate' } }],
      assert: ({ findings }) => void expect(findings[0]!.evidence?.reproduce).toMatch(/^curl .*\/x/),
    },
  ],
})
