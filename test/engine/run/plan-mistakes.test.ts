/**
 * The mistakes a plan author makes are plan errors: `vigil plans lint` reports each at file:line:col, and a
 * run exits 2 naming the plan — never a failed or errored check blamed on the change.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../../plans/config.js'
import { formatDiagnostic } from '../../../plans/diagnostics.js'
import { loadPlansForRun } from '../../../engine/run/load-plans.js'
import { runValidation } from '../../../engine/run/run.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-mistakes-'))
  await mkdir(path.join(dir, 'plans'))
  // Nothing listens on port 1: a check that ran would fail or error, which is exactly what must not happen.
  await writeFile(
    path.join(dir, 'vigil.config.yaml'),
    'plans: [plans]\nenv: [SHOP_REGION]\nsecrets:\n  alice: { value: alice-token }\n' +
      'sandbox:\n  provider: url\n  services:\n    api: http://127.0.0.1:1\n',
  )
  await writeFile(
    path.join(dir, 'openapi.yaml'),
    'openapi: 3.0.3\ninfo: { title: api, version: "1" }\npaths:\n  /orders:\n' +
      '    get: { operationId: listOrders, responses: { "200": { description: ok } } }\n' +
      '    post: { operationId: createOrder, responses: { "201": { description: ok } } }\n' +
      '  /orders/{id}:\n    get: { operationId: getOrder, responses: { "200": { description: ok } } }\n',
  )
  await writeFile(
    path.join(dir, 'order.schema.json'),
    '{\n  "type": "object",\n  "properties": {\n    "total": { "type": "integer", "minimum": 10, "maximum": 1 }\n  }\n}\n',
  )
})
afterAll(() => rm(dir, { recursive: true, force: true }))

const plan = (name: string, kind: string, body: string, front = '') =>
  `---\nname: ${name}\ntitle: ${name}\nselectionHint: a plan with one mistake in it, for the lint tests\n${front}---\n\n` +
  `\`\`\`${kind}\n${body}\n\`\`\`\n`

async function lint(name: string, text: string): Promise<string[]> {
  await writeFile(path.join(dir, 'plans', `${name}.md`), text)
  try {
    const loaded = await loadConfig(path.join(dir, 'vigil.config.yaml'), dir)
    const result = await loadPlansForRun(loaded, [`plans/${name}.md`], dir)
    return result.diagnostics.map(formatDiagnostic)
  } finally {
    await rm(path.join(dir, 'plans', `${name}.md`))
  }
}

async function run(name: string, text: string) {
  await writeFile(path.join(dir, 'plans', `${name}.md`), text)
  try {
    return await runValidation({ configPath: 'vigil.config.yaml', cwd: dir, baseline: false })
  } finally {
    await rm(path.join(dir, 'plans', `${name}.md`))
  }
}

const mistakes: Array<[string, string, RegExp]> = [
  [
    'type-typo',
    plan(
      'type-typo',
      'e2e',
      'steps:\n  - name: s\n    request: GET /x\n    expect:\n      json:\n        /id: { type: strng }',
    ),
    /^plans\/type-typo\.md:13:22 e2e: .*type must be one of .*got "strng" \(did you mean "string"\?\)$/,
  ],
  [
    'bad-regex',
    plan(
      'bad-regex',
      'e2e',
      "steps:\n  - name: s\n    request: GET /x\n    expect:\n      json:\n        /id: { matches: '^ord_(' }",
    ),
    /^plans\/bad-regex\.md:13:25 e2e: .*matches must be a valid regex, got "\^ord_\("$/,
  ],
  [
    'variable-typo',
    plan(
      'variable-typo',
      'e2e',
      'steps:\n  - name: s\n    request: GET /users/{{emial}}',
      'vars: { email: a@b.c }\n',
    ),
    /^plans\/variable-typo\.md:11:14 e2e: \{\{emial\}\}: variable "emial" is not defined \(did you mean \{\{email\}\}\?\); define it/,
  ],
  [
    'capture-later',
    plan(
      'capture-later',
      'e2e',
      'steps:\n  - name: a\n    request: GET /orders/{{orderId}}\n  - name: b\n    request: POST /orders\n    capture: { orderId: /id }',
    ),
    /^plans\/capture-later\.md:10:14 e2e: \{\{orderId\}\}: variable "orderId" is not defined/,
  ],
  [
    'unknown-secret',
    plan(
      'unknown-secret',
      'e2e',
      "steps:\n  - name: s\n    request: GET /x\n    headers: { authorization: 'Bearer {{secrets.alcie}}' }",
    ),
    /^plans\/unknown-secret\.md:11:31 e2e: \{\{secrets\.alcie\}\}: "alcie" is not in the config's secrets \(did you mean \{\{secrets\.alice\}\}\?\)$/,
  ],
  [
    'unlisted-env',
    plan('unlisted-env', 'e2e', 'steps:\n  - name: s\n    request: GET /x?region={{env.HOME}}'),
    /^plans\/unlisted-env\.md:10:14 e2e: \{\{env\.HOME\}\}: "HOME" is not in the config's env allow-list/,
  ],
  [
    'missing-schema',
    plan('missing-schema', 'contract', 'request: GET /x\nexpect: { schema: ./schemas/nope.json }'),
    /^plans\/missing-schema\.md:9:19 contract: expect\.schema "\.\/schemas\/nope\.json" does not exist \(resolved to plans\/schemas\/nope\.json, relative to the plan's folder\)$/,
  ],
  [
    'unsafe-compare',
    plan('unsafe-compare', 'contract', 'request: POST /orders\ncompare: baseline'),
    /^plans\/unsafe-compare\.md:9:10 contract: compare with the baseline never happens for POST \/orders: .*`compare: \{ unsafe: true \}`/,
  ],
  [
    'unsafe-compare-entry',
    plan(
      'unsafe-compare-entry',
      'contract',
      'requests:\n  - request: GET /x\n  - request: { method: DELETE, path: /x }\n    compare: true',
    ),
    /^plans\/unsafe-compare-entry\.md:11:14 contract: compare with the baseline never happens for DELETE \/x/,
  ],
  [
    'empty-range',
    plan(
      'empty-range',
      'e2e',
      'steps:\n  - name: s\n    request: GET /x\n    expect:\n      json:\n        /n: { gt: 10, lt: 5 }',
    ),
    /^plans\/empty-range\.md:13:19 e2e: gt: 10 and lt: 5 leave no value that passes; swap them or fix one$/,
  ],
  [
    'minimum-above-maximum',
    plan(
      'minimum-above-maximum',
      'contract',
      'request: GET /x\nexpect:\n  schema: { type: object, properties: { n: { type: integer, minimum: 10, maximum: 1 } } }',
    ),
    /^plans\/minimum-above-maximum\.md:10:70 contract: minimum 10 is above maximum 1: no value is allowed; swap them or fix one$/,
  ],
  [
    'length-on-number',
    plan(
      'length-on-number',
      'contract',
      'request: GET /x\nexpect:\n  schema:\n    type: object\n    properties:\n      total: { type: number, minLength: 1 }',
    ),
    /^plans\/length-on-number\.md:13:41 contract: minLength applies to strings, and this schema's type is number: it is never checked; use minimum\/maximum$/,
  ],
  [
    'unknown-operation',
    plan('unknown-operation', 'contract', 'openapi: ../openapi.yaml\noperations: [getOrdr]'),
    /^plans\/unknown-operation\.md:9:14 contract: operations\[0\] "getOrdr" is not an operation of \.\.\/openapi\.yaml; it has getOrder, listOrders, createOrder$/,
  ],
  [
    'unknown-operation-adversarial',
    plan(
      'unknown-operation-adversarial',
      'adversarial',
      'openapi: ../openapi.yaml\noperations: [creatOrder]',
    ),
    /^plans\/unknown-operation-adversarial\.md:9:14 adversarial: operations\[0\] "creatOrder" is not an operation of \.\.\/openapi\.yaml; it has createOrder, /,
  ],
  [
    'bounds-in-schema-file',
    plan(
      'bounds-in-schema-file',
      'contract',
      'request: GET /orders/1\nexpect: { schema: ../order.schema.json }',
    ),
    /^order\.schema\.json:4:46 minimum 10 is above maximum 1: no value is allowed; swap them or fix one \(read by plans\/bounds-in-schema-file\.md:9:19, contract expect\.schema\)$/,
  ],
  [
    'negative-length',
    plan('negative-length', 'contract', 'request: GET /x\nexpect:\n  schema: { type: array, maxItems: -1 }'),
    /^plans\/negative-length\.md:10:36 contract: maxItems -1 is negative; a length or count is 0 or more$/,
  ],
]

describe('plan mistakes', () => {
  it.each(mistakes)('%s is a lint error at file:line:col', async (name, text, expected) => {
    const lines = await lint(name, text)
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(expected)
  })

  it.each(
    mistakes.filter(([name]) =>
      [
        'type-typo',
        'variable-typo',
        'missing-schema',
        'unsafe-compare',
        'minimum-above-maximum',
        'unknown-operation',
        'bounds-in-schema-file',
      ].includes(name),
    ),
  )('%s makes the run exit 2 naming the plan, running no check', async (name, text) => {
    const verdict = await run(name, text)
    expect(verdict).toMatchObject({ status: 'error', exitCode: 2, plans: [] })
    expect(verdict.errors).toHaveLength(1)
    // A rule inside a schema file is located in that file; every other mistake in the plan.
    const file = name === 'bounds-in-schema-file' ? 'order.schema.json' : `plans/${name}.md`
    expect(verdict.errors[0]).toMatchObject({ code: 'VIGIL_PLAN', location: { file } })
    expect(verdict.errors[0]!.message).toMatch(new RegExp(`^plan ${name}: `))
  })

  it('accepts what is defined: plan vars, setup captures, earlier captures, builtins and declared names', async () => {
    const e2e = plan(
      'fine-e2e',
      'e2e',
      'steps:\n  - name: a\n    request: POST /orders?r={{env.SHOP_REGION}}&s={{seed}}\n' +
        "    headers: { authorization: 'Bearer {{secrets.alice}}', x-base: '{{baseUrl}}', x-api: '{{services.api.url}}' }\n" +
        '    capture: { orderId: /id }\n  - name: b\n    request: GET /orders/{{orderId}}/{{order.id}}\n' +
        "    expect: { json: { /id: '{{orderId}}', /kind: { type: [string, 'null'], matches: '/^a/i' } } }",
      'vars: { order: { id: 1 } }\n',
    )
    expect(await lint('fine-e2e', e2e)).toEqual([])
    const contract = plan(
      'fine-contract',
      'contract',
      'requests:\n  - request: GET /orders/{{orderId}}\n  - request: POST /orders\n    compare: { unsafe: true }\n' +
        'setup:\n  - name: s\n    request: POST /orders\n    capture: { orderId: /id }\ncompare: baseline',
    )
    expect(await lint('fine-contract', contract)).toEqual([])
  })
})

describe('a folder without a config', () => {
  it('says which file was looked for, not that the default plans folder is missing (exit 2)', async () => {
    const empty = await mkdtemp(path.join(os.tmpdir(), 'vigil-noconfig-'))
    try {
      const verdict = await runValidation({ cwd: empty, baseline: false })
      expect(verdict).toMatchObject({ status: 'error', exitCode: 2, plans: [] })
      expect(verdict.errors).toEqual([
        {
          code: 'VIGIL_CONFIG',
          message: 'no vigil.config.yaml in this folder; run vigil init, or pass --config <file>',
        },
      ])
      // With a plans folder, the defaults are enough: no config is required.
      await mkdir(path.join(empty, 'plans'))
      const loaded = await loadConfig(undefined, empty)
      expect((await loadPlansForRun(loaded, undefined, empty)).diagnostics.map((d) => d.code)).toEqual([
        'no-plans',
      ])
    } finally {
      await rm(empty, { recursive: true, force: true })
    }
  })
})
