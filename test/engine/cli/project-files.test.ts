import { execFileSync } from 'node:child_process'
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { runVigil } from '../../support/cli.js'
import { blockPlan } from '../../plans/helpers.js'

// A run that opened the FIFO below would wait for a writer forever: the time limit makes that a failure.
const vigil = (args: string[], cwd: string) => runVigil(args, { cwd, timeoutMs: 25_000 })

const plan = (name: string, kind: string, block: string) => blockPlan(name, block, kind)

const SECRET = 'TOP-SECRET-OUTSIDE'
let top: string
let project: string
let server: Server
let fetched = 0
let port = 0

beforeAll(async () => {
  server = createServer((_req, res) => {
    fetched++
    res.end('{"type":"string"}')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  port = (server.address() as AddressInfo).port
  top = await realpath(await mkdtemp(path.join(os.tmpdir(), 'vigil-project-files-')))
  project = path.join(top, 'project')
  const files: Record<string, string> = {
    'outside/secret.json': `{ "type": "string", "description": "${SECRET}" }`,
    'outside/api.yaml': `openapi: 3.0.3\ninfo: { title: ${SECRET}, version: "1" }\npaths: {}\n`,
    'project/vigil.config.yaml': 'plans: [plans]\n',
    'project/schemas/ok.json': '{ "type": "object" }',
    'project/schemas/remote.json': `{ "properties": { "a": { "$ref": "http://127.0.0.1:${port}/a.json" } } }`,
    'project/plans/contract.md': plan(
      'contract-escapes',
      'contract',
      `requests:
  - request: GET /a
    expect: { schema: ../../outside/secret.json }
  - request: GET /b
    expect: { schema: ../schemas/remote.json }
  - request: GET /c
    expect: { schema: ../schemas/ok.json }`,
    ),
    'project/plans/openapi.md': plan('openapi-escape', 'contract', 'openapi: /etc/passwd'),
    'project/plans/adversarial.md': plan(
      'adversarial-escapes',
      'adversarial',
      `openapi: ../../outside/api.yaml
requests:
  - { path: /orders, method: POST, schema: ../../outside/secret.json }`,
    ),
    'project/plans/load.md': plan('load-escape', 'load', 'k6: { script: /etc/hostname }'),
    'project/plans/e2e.md': plan('e2e-escape', 'e2e', 'steps:\n  - name: list\n    run: ls\n    cwd: /'),
  }
  for (const [file, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(top, file)), { recursive: true })
    await writeFile(path.join(top, file), text)
  }
})

afterAll(async () => {
  server.close()
  await rm(top, { recursive: true, force: true })
})

const OUTSIDE = 'is outside the project; list its folder in allowFiles of vigil.config.yaml to read it'

describe('files named by plans stay inside the project', () => {
  it('vigil plans lint: exit 2, one file:line:col line per escape in every kind, nothing read or fetched', async () => {
    const { code, stdout, stderr } = await vigil(['plans', 'lint'], project)
    expect(code).toBe(2)
    const out = stdout + stderr
    for (const line of [
      `plans/adversarial.md:8:10 adversarial: openapi "../../outside/api.yaml" ${OUTSIDE}`,
      `plans/adversarial.md:10:44 adversarial: requests[0].schema "../../outside/secret.json" ${OUTSIDE}`,
      `plans/contract.md:10:23 contract: requests[0].expect.schema "../../outside/secret.json" ${OUTSIDE}`,
      `plans/contract.md:12:23 contract: requests[1].expect.schema "../schemas/remote.json": $ref "http://127.0.0.1:${port}/a.json" at schemas/remote.json:1:34 is a URL; plans read local files only`,
      `plans/e2e.md:11:10 e2e: steps[0].cwd "/" ${OUTSIDE}`,
      `plans/load.md:8:15 load: k6.script "/etc/hostname" ${OUTSIDE}`,
      `plans/openapi.md:8:10 contract: openapi "/etc/passwd" ${OUTSIDE}`,
    ])
      expect(out).toContain(line)
    expect(out).not.toContain(SECRET)
    expect(out).not.toContain('root:')
    expect(fetched).toBe(0)
  })

  it('allowFiles in the config lets plans read a folder outside the project; remote $refs stay refused', async () => {
    const config = path.join(project, 'allowing.config.yaml')
    await writeFile(config, 'plans: [plans/contract.md, plans/adversarial.md]\nallowFiles: [../outside]\n')
    const { code, stdout, stderr } = await vigil(['plans', 'lint', '--config', config], project)
    expect(code).toBe(2)
    const problems = (stdout + stderr).split('\n').filter((l) => /^plans\/.*:\d+:\d+ /.test(l))
    expect(problems).toEqual([
      expect.stringContaining('plans/contract.md:12:23 contract: requests[1].expect.schema'),
    ])
    expect(fetched).toBe(0)
  })

  it('vigil run refuses the plan (exit 2, a plan error) without opening the file', async () => {
    // A FIFO: opening it for reading blocks until a writer comes, so a run that read it would hang.
    const fifo = path.join(top, 'outside', 'fifo.json')
    execFileSync('mkfifo', [fifo])
    await writeFile(
      path.join(project, 'fifo.config.yaml'),
      'plans: [fifo-plans]\nsandbox: { provider: url, services: { api: { url: "http://127.0.0.1:9" } } }\n',
    )
    await mkdir(path.join(project, 'fifo-plans'), { recursive: true })
    await writeFile(
      path.join(project, 'fifo-plans', 'p.md'),
      plan('fifo', 'contract', 'request: GET /x\nexpect: { schema: ../../outside/fifo.json }'),
    )
    const { code, stdout } = await vigil(['run', '--config', 'fifo.config.yaml', '--json'], project)
    expect(code).toBe(2)
    const verdict = JSON.parse(stdout) as {
      status: string
      errors: Array<{ message: string; location?: { file: string; line: number; column: number } }>
    }
    expect(verdict.status).toBe('error')
    expect(verdict.errors).toContainEqual(
      expect.objectContaining({
        message: `plan fifo: contract: expect.schema "../../outside/fifo.json" ${OUTSIDE}`,
        location: { file: 'fifo-plans/p.md', line: 9, column: 19 },
      }),
    )
  })
})
