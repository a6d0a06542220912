/**
 * `vigil init` on a fresh service repository (a tiny Node service and its OpenAPI document, in a real git
 * repository), then `vigil ci` with nothing written by hand: a committed field rename fails naming the
 * field, a harmless commit passes. The real CLI.
 */
import { execFile, execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')
const bin = path.join(root, 'bin/vigil.js')

let dir: string
const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8' }).trim()

function vigil(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      {
        cwd: dir,
        env: { PATH: process.env.PATH ?? '', HOME: dir, TMPDIR: os.tmpdir(), NO_COLOR: '1' },
        timeout: 150_000,
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout, stderr }),
    )
  })
}

const SERVER = `const http = require('node:http')
const products = [{ id: 'tea', name: 'Green tea', priceCents: 300 }]
http
  .createServer((req, res) => {
    res.setHeader('content-type', 'application/json')
    if (req.url === '/health') return res.end(JSON.stringify({ ok: true }))
    if (req.url === '/products') return res.end(JSON.stringify(products))
    res.statusCode = 404
    res.end(JSON.stringify({ error: 'not found' }))
  })
  .listen(Number(process.env.PORT ?? 3000), '127.0.0.1')
`

const OPENAPI = `openapi: 3.0.3
info: { title: Tiny shop, version: 1.0.0 }
paths:
  /health:
    get:
      operationId: getHealth
      responses:
        '200':
          description: up
          content:
            application/json:
              schema: { type: object, required: [ok], properties: { ok: { type: boolean } } }
  /products:
    get:
      operationId: listProducts
      responses:
        '200':
          description: the products
          content:
            application/json:
              schema:
                type: array
                items:
                  type: object
                  required: [id, name, priceCents]
                  properties:
                    id: { type: string }
                    name: { type: string }
                    priceCents: { type: integer }
  /products/{id}:
    get:
      operationId: getProduct
      parameters: [{ name: id, in: path, required: true, schema: { type: string } }]
      responses: { '200': { description: one product } }
`

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-init-'))
  git('init', '-q', '-b', 'main')
  git('config', 'user.email', 't@example.com')
  git('config', 'user.name', 't')
  writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({ name: 'tiny-shop', scripts: { start: 'node server.js' } }, null, 2),
  )
  writeFileSync(path.join(dir, 'server.js'), SERVER)
  writeFileSync(path.join(dir, 'openapi.yaml'), OPENAPI)
  writeFileSync(path.join(dir, 'README.md'), '# Tiny shop\n')
  git('add', '.')
  git('commit', '-q', '-m', 'A tiny shop')
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('vigil init, then vigil ci, with nothing written by hand', () => {
  it('writes the config, a plan covering the service, the .gitignore line and a workflow; lint passes', async () => {
    const init = await vigil(['init'])
    expect(init.code, init.stderr).toBe(0)
    for (const file of [
      'vigil.config.yaml',
      'plans/tiny-shop-api.md',
      '.github/workflows/vigil.yml',
      '.gitignore',
    ])
      expect(existsSync(path.join(dir, file)), file).toBe(true)
    const config = readFileSync(path.join(dir, 'vigil.config.yaml'), 'utf8')
    expect(config).toContain('command: node server.js')
    expect(config).toContain('http: /health')
    const plan = readFileSync(path.join(dir, 'plans/tiny-shop-api.md'), 'utf8')
    expect(plan).toContain('openapi: ../openapi.yaml')
    expect(plan).toMatch(/operations:\n\s+- getHealth\n\s+- listProducts/)
    expect(plan).toContain('compare: baseline')
    expect(plan).toMatch(/paths:\n\s+- openapi\.yaml\n\s+- package\.json\n\s+- server\.js\n/)
    expect(readFileSync(path.join(dir, '.gitignore'), 'utf8')).toContain('.vigil/')
    const lint = await vigil(['plans', 'lint'])
    expect(lint.code, lint.stdout + lint.stderr).toBe(0)

    // A second init changes nothing: every file is kept.
    writeFileSync(path.join(dir, 'plans/tiny-shop-api.md'), `${plan}\nEdited by hand.\n`)
    const again = await vigil(['init'])
    expect(again.code).toBe(0)
    expect(again.stdout).toContain('kept     plans/tiny-shop-api.md')
    expect(readFileSync(path.join(dir, 'plans/tiny-shop-api.md'), 'utf8')).toContain('Edited by hand.')
    writeFileSync(path.join(dir, 'plans/tiny-shop-api.md'), plan)
    git('add', '.')
    git('commit', '-q', '-m', 'Add vigil')
  }, 60_000)

  it('a committed field rename fails, naming the field', async () => {
    git('checkout', '-q', '-b', 'rename', 'main')
    writeFileSync(path.join(dir, 'server.js'), SERVER.replace('priceCents', 'price_cents'))
    git('commit', '-q', '-am', 'Rename priceCents')
    const run = await vigil(['ci'])
    expect(run.code, run.stdout + run.stderr).toBe(1)
    expect(run.stdout).toContain('tiny-shop-api')
    expect(run.stdout).toContain('priceCents')
  }, 150_000)

  it('a harmless commit passes', async () => {
    git('checkout', '-q', '-b', 'docs', 'main')
    writeFileSync(path.join(dir, 'README.md'), '# Tiny shop\n\nSells tea.\n')
    git('commit', '-q', '-am', 'Say what the shop sells')
    const run = await vigil(['ci'])
    expect(run.code, run.stdout + run.stderr).toBe(0)
    expect(git('status', '--porcelain')).toBe('')
  }, 150_000)
})
