/**
 * What lint reads inside the documents a plan names: the operation ids of an OpenAPI document (an id the
 * plan names that the document lacks is an error at the name, with the ids it has, closest first), and the
 * schema rules that can never hold or patterns that do not compile, at the document's own file:line:col.
 */
import { describe, expect, it } from 'vitest'
import { loadPlans } from '../../plans/index.js'
import { closestFirst } from '../../plans/operations.js'
import { blockPlan, tempTree } from './helpers.js'

/** A kind naming an OpenAPI document, its operations and a schema file, the way the real kinds do. */
const probeSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    openapi: { type: 'string', 'x-file': 'openapi' },
    operations: { type: 'array', items: { type: 'string', 'x-operation': 'openapi' } },
    schema: { type: 'string', 'x-file': 'schema' },
  },
}

const OPENAPI = `openapi: 3.0.3
info: { title: shop, version: "1" }
paths:
  /orders:
    get: { operationId: listOrders, responses: { "200": { description: ok } } }
    post: { operationId: createOrder, responses: { "201": { description: ok } } }
  /orders/{id}:
    $ref: "./items.yaml#/order"
  /health:
    get: { responses: { "200": { description: ok } } }
`
const ITEMS = `order:
  get: { operationId: getOrder, responses: { "200": { description: ok } } }
  delete: { operationId: deleteOrder, responses: { "204": { description: ok } } }
`

async function lint(files: Record<string, string>) {
  const cwd = await tempTree(files)
  const result = await loadPlans({ roots: ['plans'], cwd, checkSchemas: { probe: probeSchema } })
  return {
    plans: result.plans.map((p) => p.name),
    lines: result.diagnostics.map((d) => `${d.file}:${d.line}:${d.column} ${d.code} ${d.message}`),
    diagnostics: result.diagnostics,
  }
}

describe('operation ids a plan names', () => {
  it('an id the document lacks is an error at the name, listing the ids it has, closest first', async () => {
    const { plans, lines } = await lint({
      'api/openapi.yaml': OPENAPI,
      'api/items.yaml': ITEMS,
      'plans/typo.md': blockPlan('typo', 'openapi: ../api/openapi.yaml\noperations: [listOrders, getOrdr]'),
      'plans/fine.md': blockPlan(
        'fine',
        'openapi: ../api/openapi.yaml\noperations: [getOrder, deleteOrder, GET /health, createOrder]',
      ),
    })
    expect(plans).toEqual(['fine'])
    expect(lines).toEqual([
      'plans/typo.md:9:26 unknown-operation probe: operations[1] "getOrdr" is not an operation of ../api/openapi.yaml; ' +
        'it has getOrder, listOrders, createOrder, deleteOrder, GET /health',
    ])
  })

  it('a document that is not OpenAPI 3 is left to the check, which says so when it runs', async () => {
    const { plans, lines } = await lint({
      'api/swagger.yaml': 'swagger: "2.0"\npaths: {}\n',
      'plans/old.md': blockPlan('old', 'openapi: ../api/swagger.yaml\noperations: [anything]'),
    })
    expect(lines).toEqual([])
    expect(plans).toEqual(['old'])
  })

  it('closestFirst keeps the document order among equals and says how many it left out', () => {
    expect(closestFirst('getOrder', ['b', 'getOrders', 'a', 'getOrder2'])).toBe('getOrders, getOrder2, b, a')
    const many = Array.from({ length: 14 }, (_, i) => `op${i}`)
    expect(closestFirst('op1', many, 3)).toBe('op1, op0, op2 and 11 more')
  })
})

describe('schema rules inside the documents a plan reads', () => {
  it("are errors at the document's own file:line:col, once however many plans read it, naming them", async () => {
    const { plans, lines, diagnostics } = await lint({
      'schemas/order.json': JSON.stringify(
        {
          type: 'object',
          properties: {
            total: { type: 'integer', minimum: 10, maximum: 1 },
            item: { $ref: './item.json' },
            example: { type: 'string' },
          },
          example: { total: { minimum: 5, maximum: 1 } },
        },
        null,
        2,
      ),
      'schemas/item.json':
        '{\n  "type": "object",\n  "properties": { "sku": { "type": "string", "pattern": "^sku_(" } },\n  "patternProperties": { "[": {} }\n}\n',
      'plans/a.md': blockPlan('a', 'schema: ../schemas/order.json'),
      'plans/b.md': blockPlan('b', 'schema: ../schemas/order.json'),
      'plans/c.md': blockPlan('c', 'schema: ../schemas/fine.json'),
      'schemas/fine.json': '{ "type": "string", "pattern": "^[a-z]+$", "minLength": 1, "maxLength": 3 }',
    })
    expect(plans).toEqual(['c'])
    expect(lines).toEqual([
      'schemas/item.json:3:57 invalid-regex pattern "^sku_(" is not a valid regular expression: Unterminated group (read by plans/a.md:8:9, probe schema; also by plan b)',
      'schemas/item.json:4:31 invalid-regex patternProperties key "[" is not a valid regular expression: Unterminated character class (read by plans/a.md:8:9, probe schema; also by plan b)',
      'schemas/order.json:6:18 impossible-bounds minimum 10 is above maximum 1: no value is allowed; swap them or fix one (read by plans/a.md:8:9, probe schema; also by plan b)',
    ])
    expect(diagnostics.map((d) => d.plan)).toEqual(['a', 'a', 'a'])
  })

  it('reads the schemas of an OpenAPI document, and its examples as data', async () => {
    const { plans, lines } = await lint({
      'api/openapi.yaml': `openapi: 3.1.0
info: { title: shop, version: "1" }
paths: {}
components:
  schemas:
    Order:
      type: object
      properties:
        note: { type: string, minLength: 5, maxLength: 2 }
      example: { note: { minLength: 5, maxLength: 2 } }
`,
      'plans/api.md': blockPlan('api', 'openapi: ../api/openapi.yaml'),
    })
    expect(plans).toEqual([])
    expect(lines).toEqual([
      'api/openapi.yaml:9:42 impossible-bounds minLength 5 is above maxLength 2: no length is allowed; swap them or fix one (read by plans/api.md:8:10, probe openapi)',
    ])
  })
})
