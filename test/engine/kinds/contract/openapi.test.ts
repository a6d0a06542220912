import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkConformance } from '../../../../engine/kinds/contract/conformance.js'
import { ContractSourceError, ContractUsageError } from '../../../../engine/api/documents/errors.js'
import {
  documentedResponse,
  loadOpenApi,
  selectOperations,
} from '../../../../engine/api/documents/openapi.js'
import { sampleRequest } from '../../../../engine/api/documents/sample.js'
import { schemaRegistry } from '../../../../engine/api/documents/schema.js'

let dir: string
let spec: string

/** An OpenAPI 3.0 document whose schemas live partly in another file, with `nullable` and examples. */
const DOC = `
openapi: 3.0.3
info: { title: pets, version: '1' }
paths:
  /pets:
    get:
      operationId: listPets
      tags: [pets]
      parameters:
        - { name: limit, in: query, schema: { type: integer, default: 10 } }
        - { name: species, in: query, required: true, schema: { type: string, enum: [cat, dog] } }
      responses:
        '200':
          description: ok
          content: { application/json: { schema: { $ref: 'schemas.yaml#/PetList' } } }
    post:
      operationId: createPet
      tags: [pets, write]
      requestBody:
        content: { application/json: { schema: { $ref: 'schemas.yaml#/NewPet' } } }
      responses:
        '201':
          description: created
          headers: { Location: { required: true, schema: { type: string } } }
          content: { application/json: { schema: { $ref: 'schemas.yaml#/Pet' } } }
        4XX: { description: client error }
  /pets/{petId}:
    parameters:
      - { name: petId, in: path, required: true, schema: { type: string }, example: p-1 }
    get:
      operationId: getPet
      tags: [pets]
      responses:
        '200': { description: ok, content: { application/json: { schema: { $ref: 'schemas.yaml#/Pet' } } } }
        default: { description: error, content: { application/problem+json: { schema: { type: object } } } }
  /admin/stats:
    get:
      tags: [admin]
      responses: { '200': { description: ok } }
`
const SCHEMAS = `
Pet:
  type: object
  required: [id, name, species]
  properties:
    id: { type: string }
    name: { type: string }
    species: { type: string, enum: [cat, dog] }
    nickname: { type: string, nullable: true }
    weightKg: { type: number, minimum: 0, exclusiveMinimum: true }
NewPet:
  type: object
  required: [name, species]
  properties:
    name: { type: string, example: Rex }
    species: { type: string, enum: [cat, dog] }
PetList:
  type: object
  properties:
    pets: { type: array, items: { $ref: '#/Pet' } }
`

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-openapi-'))
  spec = path.join(dir, 'pets.yaml')
  await writeFile(spec, DOC)
  await writeFile(path.join(dir, 'schemas.yaml'), SCHEMAS)
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

const response = (status: number, body: unknown, headers: Record<string, string> = {}) => {
  const buffer = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body))
  return {
    status,
    headers: { 'content-type': 'application/json', ...headers },
    body: buffer,
    json: () => {
      try {
        return JSON.parse(buffer.toString('utf8')) as unknown
      } catch {
        return undefined
      }
    },
  }
}

describe('loadOpenApi', () => {
  it('lists operations sorted by path and method, with merged parameters and resolved responses', async () => {
    const doc = await loadOpenApi(spec, 'pets.yaml')
    expect(doc.version).toBe('3.0.3')
    expect(doc.operations.map((o) => o.id)).toEqual(['GET /admin/stats', 'listPets', 'createPet', 'getPet'])
    const getPet = doc.operations.find((o) => o.id === 'getPet')!
    expect(getPet.parameters).toEqual([
      expect.objectContaining({ name: 'petId', in: 'path', required: true, example: { value: 'p-1' } }),
    ])
    expect(documentedResponse(getPet, 200)?.status).toBe('200')
    expect(documentedResponse(getPet, 503)?.status).toBe('DEFAULT')
    const create = doc.operations.find((o) => o.id === 'createPet')!
    expect(documentedResponse(create, 404)?.status).toBe('4XX')
    expect(documentedResponse(create, 201)?.headers).toEqual([{ name: 'location', required: true }])
  })

  it('is cached: loading twice gives the same document', async () => {
    expect(await loadOpenApi(spec)).toBe(await loadOpenApi(spec))
  })

  it('reports a missing file or a document that is not OpenAPI 3 with the file first', async () => {
    await expect(loadOpenApi(path.join(dir, 'nope.yaml'), 'nope.yaml')).rejects.toThrow(
      /^nope\.yaml: cannot read OpenAPI document: ENOENT/,
    )
    const swagger = path.join(dir, 'swagger.yaml')
    await writeFile(swagger, 'swagger: "2.0"\npaths: {}\n')
    await expect(loadOpenApi(swagger, 'swagger.yaml')).rejects.toBeInstanceOf(ContractSourceError)
  })
})

describe('selectOperations', () => {
  it('filters by operation id, tag and path glob', async () => {
    const doc = await loadOpenApi(spec)
    expect(selectOperations(doc, { tags: ['write'] }).map((o) => o.id)).toEqual(['createPet'])
    expect(selectOperations(doc, { paths: ['/pets/*'] }).map((o) => o.id)).toEqual(['getPet'])
    expect(selectOperations(doc, { paths: ['/pets/**'] }).map((o) => o.id)).toEqual([
      'listPets',
      'createPet',
      'getPet',
    ])
    expect(selectOperations(doc, { paths: ['/pets/{petId}'] }).map((o) => o.id)).toEqual(['getPet'])
    expect(selectOperations(doc, { operations: ['getPet', 'listPets'] }).map((o) => o.id)).toEqual([
      'listPets',
      'getPet',
    ])
  })

  it('refuses an unknown operation id with a suggestion', async () => {
    const doc = await loadOpenApi(spec, 'pets.yaml')
    expect(() => selectOperations(doc, { operations: ['getPets'] })).toThrow(ContractUsageError)
    expect(() => selectOperations(doc, { operations: ['getPets'] })).toThrow(
      'pets.yaml: no operation "getPets"; did you mean "getPet"?',
    )
  })
})

describe('sampleRequest', () => {
  it('uses given params, then examples, then generated values; optional parameters only when given', async () => {
    const doc = await loadOpenApi(spec)
    const list = doc.operations.find((o) => o.id === 'listPets')!
    expect(sampleRequest(doc, list)).toMatchObject({
      method: 'GET',
      path: '/pets',
      query: { species: 'cat' },
      generated: ['query:species'],
    })
    expect(sampleRequest(doc, list, { species: 'dog', limit: 3 }).query).toEqual({
      limit: '3',
      species: 'dog',
    })
    const get = doc.operations.find((o) => o.id === 'getPet')!
    expect(sampleRequest(doc, get).path).toBe('/pets/p-1')
    expect(sampleRequest(doc, get, { petId: 'a b/c' }).path).toBe('/pets/a%20b%2Fc')
    const create = doc.operations.find((o) => o.id === 'createPet')!
    expect(sampleRequest(doc, create).json).toEqual({ name: 'Rex', species: 'cat' })
  })
})

describe('checkConformance against an OpenAPI operation', () => {
  it('accepts a valid response, including a 3.0 nullable field', async () => {
    const doc = await loadOpenApi(spec)
    const op = doc.operations.find((o) => o.id === 'getPet')!
    const ok = checkConformance(response(200, { id: 'p-1', name: 'Tom', species: 'cat', nickname: null }), {
      operation: { doc, op },
    })
    expect(ok.violations).toEqual([])
    expect(ok.schema?.enums.get('/species')).toEqual(['cat', 'dog'])
  })

  it('names each schema violation by pointer, with expected and actual', async () => {
    const doc = await loadOpenApi(spec)
    const op = doc.operations.find((o) => o.id === 'getPet')!
    const result = checkConformance(response(200, { id: 7, species: 'cow', weightKg: 0 }), {
      operation: { doc, op },
    })
    expect(result.violations.map((v) => [v.messageId, v.pointer, v.expected, v.actual])).toEqual([
      ['schema', '/id', { type: 'string' }, 7],
      ['schema', '/name', 'present', undefined],
      ['schema', '/species', { enum: ['cat', 'dog'] }, 'cow'],
      ['schema', '/weightKg', { exclusiveMinimum: 0 }, 0],
    ])
  })

  it('checks the status against the documented ones, the content type and required headers', async () => {
    const doc = await loadOpenApi(spec)
    const op = doc.operations.find((o) => o.id === 'createPet')!
    const pet = { id: 'p', name: 'n', species: 'dog' }
    expect(
      checkConformance(response(500, { error: 'x' }), { operation: { doc, op } }).violations.map((v) => [
        v.messageId,
        v.data.expected,
      ]),
    ).toEqual([['status', 'one of 201, 4XX']])
    const wrongType = checkConformance(
      response(201, pet, { 'content-type': 'text/html', location: '/pets/p' }),
      { operation: { doc, op } },
    )
    expect(wrongType.violations.map((v) => v.messageId)).toEqual(['content-type'])
    const noHeader = checkConformance(response(201, pet), { operation: { doc, op } })
    expect(noHeader.violations.map((v) => [v.messageId, v.pointer])).toEqual([
      ['missing-header', 'header:location'],
    ])
  })

  it('explicit expectations win over the document', async () => {
    const doc = await loadOpenApi(spec)
    const op = doc.operations.find((o) => o.id === 'getPet')!
    const result = checkConformance(response(200, 'not json', { 'content-type': 'text/plain' }), {
      operation: { doc, op },
      status: [200],
      contentType: ['application/json'],
    })
    expect(result.violations.map((v) => v.messageId)).toEqual(['content-type', 'not-json'])
  })

  it('compiles each schema once', async () => {
    const doc = await loadOpenApi(spec)
    const pointer = doc.operations.find((o) => o.id === 'getPet')!.responses[0]!.content[0]!.schemaPointer!
    expect(schemaRegistry.compile(doc.schemas, pointer)).toBe(schemaRegistry.compile(doc.schemas, pointer))
  })
})
