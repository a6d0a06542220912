import { execFileSync } from 'node:child_process'
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { loadPlans } from '../../plans/index.js'
import { fileRoots, projectRoot } from '../../plans/files.js'
import { blockPlan } from './helpers.js'

/** A check kind whose block names files the way the real kinds do (`x-file` marks a path a plan reads). */
const probeSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    request: { type: 'string' },
    openapi: { type: 'string', 'x-file': 'openapi' },
    script: { type: 'string', 'x-file': 'script' },
    cwd: { type: 'string', 'x-file': 'folder' },
    expect: {
      type: 'object',
      properties: { schema: { oneOf: [{ type: 'string', 'x-file': 'schema' }, { type: 'object' }] } },
    },
    requests: {
      type: 'array',
      items: { type: 'object', properties: { schema: { type: 'string', 'x-file': 'schema' } } },
    },
  },
}
const checkSchemas = { probe: probeSchema }

const made: string[] = []
afterEach(async () => {
  await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })))
})

/**
 * A machine-like layout in a temporary folder: `project/` (a git repository when `git` is set) holding the
 * plans, and `outside/` beside it holding a file whose content must never surface.
 */
async function layout(files: Record<string, string>, options: { git?: boolean } = {}) {
  const top = await realpath(await mkdtemp(path.join(os.tmpdir(), 'vigil-files-')))
  made.push(top)
  const project = path.join(top, 'project')
  const all: Record<string, string> = {
    'outside/secret.json': '{ "type": "string", "description": "TOP-SECRET-OUTSIDE" }',
    'outside/api.yaml': 'openapi: 3.0.3\ninfo: { title: TOP-SECRET-OUTSIDE, version: "1" }\npaths: {}\n',
    ...files,
  }
  for (const [file, text] of Object.entries(all)) {
    await mkdir(path.dirname(path.join(top, file)), { recursive: true })
    await writeFile(path.join(top, file), text)
  }
  await mkdir(project, { recursive: true })
  if (options.git) execFileSync('git', ['init', '-q', project])
  return { top, project }
}

async function lint(cwd: string, roots?: readonly string[]) {
  const result = await loadPlans({
    roots: ['plans'],
    cwd,
    checkSchemas,
    ...(roots ? { fileRoots: roots } : {}),
  })
  return {
    plans: result.plans.map((p) => p.name),
    lines: result.diagnostics.map((d) => `${d.file}:${d.line}:${d.column} ${d.code} ${d.message}`),
  }
}

describe('files a plan reads stay inside the project', () => {
  it('every way out of the project is a located error on the plan, and the other plans load', async () => {
    const { project } = await layout({
      'project/schemas/ok.json': '{ "type": "object" }',
      'project/plans/absolute.md': blockPlan('absolute', 'request: GET /x\nexpect: { schema: /etc/passwd }'),
      'project/plans/dotdot.md': blockPlan(
        'dotdot',
        'request: GET /x\nexpect:\n  schema: ../../outside/secret.json',
      ),
      'project/plans/openapi.md': blockPlan('openapi', 'openapi: ../../outside/api.yaml'),
      'project/plans/nested.md': blockPlan(
        'nested',
        'requests:\n  - schema: ../schemas/ok.json\n  - schema: "../../outside/secret.json#/description"',
      ),
      'project/plans/script.md': blockPlan('script', 'script: /etc/hostname'),
      'project/plans/cwd.md': blockPlan('cwd', 'cwd: ../..'),
      'project/plans/url.md': blockPlan('url', 'openapi: https://127.0.0.1:1/api.yaml'),
      'project/plans/fine.md': blockPlan(
        'fine',
        'request: GET /x\nexpect: { schema: "../schemas/ok.json#/type" }\ncwd: ..',
      ),
    })
    const { plans, lines } = await lint(project)
    expect(plans).toEqual(['fine'])
    const outside = 'is outside the project; list its folder in allowFiles of vigil.config.yaml to read it'
    expect(lines).toEqual([
      `plans/absolute.md:9:19 file-outside-project probe: expect.schema "/etc/passwd" ${outside}`,
      `plans/cwd.md:8:6 file-outside-project probe: cwd "../.." ${outside}`,
      `plans/dotdot.md:10:11 file-outside-project probe: expect.schema "../../outside/secret.json" ${outside}`,
      `plans/nested.md:10:13 file-outside-project probe: requests[1].schema "../../outside/secret.json#/description" ${outside}`,
      `plans/openapi.md:8:10 file-outside-project probe: openapi "../../outside/api.yaml" ${outside}`,
      `plans/script.md:8:9 file-outside-project probe: script "/etc/hostname" ${outside}`,
      'plans/url.md:8:10 remote-file probe: openapi "https://127.0.0.1:1/api.yaml" is a URL; plans read local files only',
    ])
    expect(lines.join('\n')).not.toContain('TOP-SECRET')
  })

  it('a symlink inside the project that leads outside counts as outside (file or folder)', async () => {
    const { top, project } = await layout({
      'project/plans/file-link.md': blockPlan(
        'file-link',
        'request: GET /x\nexpect: { schema: ../schemas/link.json }',
      ),
      'project/plans/dir-link.md': blockPlan(
        'dir-link',
        'request: GET /x\nexpect: { schema: ../escape/secret.json }',
      ),
      'project/plans/missing.md': blockPlan(
        'missing',
        'request: GET /x\nexpect: { schema: ../escape/not-there.json }',
      ),
    })
    await mkdir(path.join(project, 'schemas'))
    await symlink(path.join(top, 'outside/secret.json'), path.join(project, 'schemas/link.json'))
    await symlink(path.join(top, 'outside'), path.join(project, 'escape'))
    const { plans, lines } = await lint(project)
    expect(plans).toEqual([])
    expect(lines).toEqual([
      expect.stringMatching(
        /^plans\/dir-link\.md:9:19 file-outside-project probe: expect\.schema "\.\.\/escape\/secret\.json" is outside the project \(through a symlink\)/,
      ),
      expect.stringMatching(
        /^plans\/file-link\.md:9:19 file-outside-project probe: expect\.schema "\.\.\/schemas\/link\.json" is outside the project \(through a symlink\)/,
      ),
      expect.stringMatching(
        /^plans\/missing\.md:9:19 file-outside-project probe: expect\.schema "\.\.\/escape\/not-there\.json" is outside the project \(through a symlink\)/,
      ),
    ])
  })

  it('$refs inside schema and OpenAPI files are followed: each escape is reported at the plan, naming where the $ref is', async () => {
    const server = createServer((_req, res) => {
      fetched++
      res.end('{"type":"string"}')
    })
    let fetched = 0
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as AddressInfo).port
    try {
      const { project } = await layout({
        'project/schemas/a.json': JSON.stringify({
          properties: { b: { $ref: 'b.json' }, self: { $ref: '#/properties/b' } },
        }),
        'project/schemas/b.json': `{\n  "properties": {\n    "c": { "$ref": "../../outside/secret.json" }\n  }\n}\n`,
        'project/schemas/absolute.json': '{ "$ref": "/etc/passwd" }',
        'project/schemas/file-url.json': '{ "$ref": "file:///etc/passwd" }',
        'project/schemas/encoded.json': '{ "$ref": "%2e%2e/%2e%2e/outside/secret.json" }',
        'project/schemas/remote.json': `{ "$ref": "http://127.0.0.1:${port}/x.json" }`,
        'project/schemas/remote-id.json': `{ "items": { "$ref": "https://127.0.0.1:${port}/y.json#/defs/z" } }`,
        'project/schemas/host.json': `{ "$ref": "//127.0.0.1:${port}/z.json" }`,
        'project/openapi.yaml': `openapi: 3.0.3
info: { title: t, version: "1" }
paths:
  /x:
    get:
      responses:
        '200':
          content:
            application/json:
              schema: { $ref: '../outside/api.yaml#/info' }
`,
        'project/plans/chain.md': blockPlan(
          'chain',
          'request: GET /x\nexpect: { schema: ../schemas/a.json }',
        ),
        'project/plans/absolute.md': blockPlan(
          'absolute',
          'request: GET /x\nexpect: { schema: ../schemas/absolute.json }',
        ),
        'project/plans/file-url.md': blockPlan(
          'file-url',
          'request: GET /x\nexpect: { schema: ../schemas/file-url.json }',
        ),
        'project/plans/encoded.md': blockPlan(
          'encoded',
          'request: GET /x\nexpect: { schema: ../schemas/encoded.json }',
        ),
        'project/plans/remote.md': blockPlan(
          'remote',
          'requests:\n  - schema: ../schemas/remote.json\n  - schema: ../schemas/remote-id.json\n  - schema: ../schemas/host.json',
        ),
        'project/plans/openapi.md': blockPlan('openapi', 'openapi: ../openapi.yaml'),
      })
      const { plans, lines } = await lint(project)
      expect(plans).toEqual([])
      const outside = 'is outside the project; list its folder in allowFiles of vigil.config.yaml to read it'
      expect(lines).toEqual([
        `plans/absolute.md:9:19 file-outside-project probe: expect.schema "../schemas/absolute.json": $ref "/etc/passwd" at schemas/absolute.json:1:11 ${outside}`,
        `plans/chain.md:9:19 file-outside-project probe: expect.schema "../schemas/a.json": $ref "../../outside/secret.json" at schemas/b.json:3:20 ${outside}`,
        `plans/encoded.md:9:19 file-outside-project probe: expect.schema "../schemas/encoded.json": $ref "%2e%2e/%2e%2e/outside/secret.json" at schemas/encoded.json:1:11 ${outside}`,
        `plans/file-url.md:9:19 file-outside-project probe: expect.schema "../schemas/file-url.json": $ref "file:///etc/passwd" at schemas/file-url.json:1:11 ${outside}`,
        `plans/openapi.md:8:10 file-outside-project probe: openapi "../openapi.yaml": $ref "../outside/api.yaml#/info" at openapi.yaml:10:31 ${outside}`,
        `plans/remote.md:9:13 remote-file probe: requests[0].schema "../schemas/remote.json": $ref "http://127.0.0.1:${port}/x.json" at schemas/remote.json:1:11 is a URL; plans read local files only`,
        `plans/remote.md:10:13 remote-file probe: requests[1].schema "../schemas/remote-id.json": $ref "https://127.0.0.1:${port}/y.json#/defs/z" at schemas/remote-id.json:1:22 is a URL; plans read local files only`,
        `plans/remote.md:11:13 remote-file probe: requests[2].schema "../schemas/host.json": $ref "//127.0.0.1:${port}/z.json" at schemas/host.json:1:11 is a URL; plans read local files only`,
      ])
      expect(fetched).toBe(0)
    } finally {
      server.close()
    }
  })

  it('the project is the git repository containing the config, else the config folder; allowFiles adds folders', async () => {
    const { top, project } = await layout(
      {
        'project/contracts/order.json': '{ "$ref": "../../outside/secret.json" }',
        'project/app/plans/p.md': blockPlan(
          'p',
          'request: GET /x\nexpect: { schema: ../../contracts/order.json }',
        ),
      },
      { git: true },
    )
    const app = path.join(project, 'app')
    expect(await projectRoot(app)).toBe(project)
    expect(await projectRoot(path.join(top, 'outside'))).toBe(path.join(top, 'outside'))
    // Inside the repository but outside the config's folder: allowed; its $ref to outside/ is not.
    const first = await lint(app, await fileRoots(app, []))
    expect(first.plans).toEqual([])
    expect(first.lines).toEqual([
      expect.stringContaining(
        '$ref "../../outside/secret.json" at ../contracts/order.json:1:11 is outside the project',
      ),
    ])
    const allowed = await lint(app, await fileRoots(app, ['../../outside']))
    expect(allowed).toEqual({ plans: ['p'], lines: [] })
  })

  it('a referenced file nested past the YAML depth limit is a located error, not a crash', async () => {
    const deep = `${'{"a":'.repeat(7000)}1${'}'.repeat(7000)}`
    const { project } = await layout({
      'project/schemas/deep.json': deep,
      'project/schemas/deep.yaml': `a: ${'['.repeat(7000)}${']'.repeat(7000)}\n`,
      'project/plans/deep.md': blockPlan(
        'deep',
        'requests:\n  - schema: ../schemas/deep.json\n  - schema: ../schemas/deep.yaml',
      ),
    })
    const { plans, lines } = await lint(project)
    expect(plans).toEqual([])
    expect(lines).toEqual([
      'plans/deep.md:9:13 invalid-file probe: requests[0].schema "../schemas/deep.json": schemas/deep.json:1:501 nested deeper than 100 levels',
      'plans/deep.md:10:13 invalid-file probe: requests[1].schema "../schemas/deep.yaml": schemas/deep.yaml:1:103 nested deeper than 100 levels',
    ])
  })
})

describe('a referenced file that is missing or unparsable inside the project', () => {
  let project: string
  beforeAll(async () => {
    project = await realpath(await mkdtemp(path.join(os.tmpdir(), 'vigil-files-')))
    await mkdir(path.join(project, 'plans'))
    await mkdir(path.join(project, 'schemas'))
    await writeFile(path.join(project, 'schemas/broken.json'), '{ "a": ')
    await writeFile(
      path.join(project, 'plans/p.md'),
      blockPlan('p', 'requests:\n  - schema: ../schemas/none.json\n  - schema: ../schemas/broken.json'),
    )
  })
  afterAll(() => rm(project, { recursive: true, force: true }))

  it("is a lint error when missing, showing the path it resolves to; an unparsable one is the check's", async () => {
    expect(await lint(project)).toEqual({
      plans: [],
      lines: [
        'plans/p.md:9:13 missing-file probe: requests[0].schema "../schemas/none.json" does not exist (resolved to schemas/none.json, relative to the plan\'s folder)',
      ],
    })
    await writeFile(path.join(project, 'schemas/none.json'), '{}')
    expect(await lint(project)).toEqual({ plans: ['p'], lines: [] })
  })

  it('is a lint error when a folder is named where a file is expected', async () => {
    await mkdir(path.join(project, 'schemas/dir.json'), { recursive: true })
    await writeFile(
      path.join(project, 'plans/q.md'),
      blockPlan('q', 'requests:\n  - schema: ../schemas/dir.json'),
    )
    const { lines } = await lint(project)
    await rm(path.join(project, 'plans/q.md'))
    expect(lines).toEqual([
      'plans/q.md:9:13 missing-file probe: requests[0].schema "../schemas/dir.json" is not a file (resolved to schemas/dir.json)',
    ])
  })
})
