import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ContractSourceError } from '../../../../engine/api/documents/errors.js'
import { loadOpenApi } from '../../../../engine/api/documents/openapi.js'
import { SchemaRegistry } from '../../../../engine/api/documents/schema.js'

// When a check runs, the documents it reads are checked again where they are read: a file that changed
// since the plans were linted, or a $ref the lint could not see, still cannot lead out of the project.
let top: string
let project: string
let server: Server
let fetched = 0

beforeAll(async () => {
  server = createServer((_req, res) => {
    fetched++
    res.end('{"type":"string"}')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  top = await realpath(await mkdtemp(path.join(os.tmpdir(), 'vigil-contract-files-')))
  project = path.join(top, 'project')
  const files: Record<string, string> = {
    'outside/secret.json': '{ "type": "string", "description": "TOP-SECRET-OUTSIDE" }',
    'project/ok.json': '{ "type": "object", "properties": { "a": { "$ref": "defs.json#/a" } } }',
    'project/defs.json': '{ "a": { "type": "integer" } }',
    'project/dotdot.json': '{ "properties": { "a": { "$ref": "../outside/secret.json" } } }',
    'project/absolute.json': `{ "$ref": "${path.join(top, 'outside/secret.json')}" }`,
    'project/encoded.json': '{ "$ref": "%2e%2e/outside/secret.json" }',
    'project/remote.json': `{ "$ref": "http://127.0.0.1:${port}/x.json" }`,
    'project/via-link.json': '{ "$ref": "link.json" }',
    'project/api.yaml': `openapi: 3.0.3
info: { title: t, version: "1" }
paths:
  /x:
    get:
      responses:
        '200': { description: ok, content: { application/json: { schema: { $ref: '../outside/secret.json' } } } }
`,
  }
  for (const [file, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(top, file)), { recursive: true })
    await writeFile(path.join(top, file), text)
  }
  await symlink(path.join(top, 'outside/secret.json'), path.join(project, 'link.json'))
})

afterAll(async () => {
  server.close()
  await rm(top, { recursive: true, force: true })
})

describe('schema and OpenAPI documents are read inside the file roots only', () => {
  const roots = () => [project]

  it('reads a document and its $refs inside the roots', async () => {
    const doc = await new SchemaRegistry().loadFile(path.join(project, 'ok.json'), 'ok.json', roots())
    expect(JSON.stringify(doc.document)).toContain('integer')
  })

  it.each([
    ['a .. escape', 'dotdot.json'],
    ['an absolute path', 'absolute.json'],
    ['a percent-encoded escape', 'encoded.json'],
    ['a symlink that leads outside', 'via-link.json'],
    ['a symlink named directly', 'link.json'],
  ])('refuses %s, with the default roots (the file’s project) too', async (_name, file) => {
    for (const which of [roots(), undefined]) {
      const error = await new SchemaRegistry()
        .loadFile(path.join(project, file), file, which)
        .catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ContractSourceError)
      expect((error as Error).message).toMatch(/leads outside the project/)
      expect((error as Error).message).not.toContain('TOP-SECRET')
    }
  })

  it('never fetches a remote $ref', async () => {
    const error = await new SchemaRegistry()
      .loadFile(path.join(project, 'remote.json'), 'remote.json', roots())
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ContractSourceError)
    expect(fetched).toBe(0)
  })

  it('an OpenAPI document whose $ref leads outside does not load', async () => {
    const error = await loadOpenApi(path.join(project, 'api.yaml'), 'api.yaml', roots()).catch(
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(ContractSourceError)
    expect((error as Error).message).toMatch(
      /api\.yaml: cannot load: "\.\.\/outside\/secret\.json" leads outside the project/,
    )
  })

  it('allowing the outside folder (allowFiles) lets the same documents load', async () => {
    const wider = [project, path.join(top, 'outside')]
    const doc = await new SchemaRegistry().loadFile(path.join(project, 'dotdot.json'), 'dotdot.json', wider)
    expect(JSON.stringify(doc.document)).toContain('TOP-SECRET-OUTSIDE')
  })
})
