/**
 * A small project whose one service is a real Node process, for the features that make a finding
 * actionable: it logs every request (with its own time stamp and the `x-request-id` it got) and prints a
 * stack trace when it fails; `/version` says its version (API_VERSION, else its package.json's); a
 * `prepare:` step writes the fixture it serves, marked with VIGIL_SIDE. `api/mode.txt` holding `bug`
 * makes `/items/{id}` fail with a 500. It is a git repository with one commit (mode `ok`).
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

const SERVER = `import http from 'node:http'
import { existsSync, readFileSync } from 'node:fs'
const log = (text) => console.log(new Date().toISOString() + ' ' + text)
function priceOf(item) {
  return item.price.cents
}
http
  .createServer((req, res) => {
    const rid = req.headers['x-request-id'] ?? '-'
    res.on('finish', () => log('rid=' + rid + ' ' + req.method + ' ' + req.url + ' ' + res.statusCode))
    const send = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
    }
    try {
      if (req.url === '/health') return send(200, { ok: true })
      if (req.url === '/version')
        return send(200, { build: { version: process.env.API_VERSION ?? JSON.parse(readFileSync('package.json', 'utf8')).version } })
      if (req.url === '/fixture') return send(200, JSON.parse(readFileSync('data/fixture.json', 'utf8')))
      const item = /^\\/items\\/(\\d+)$/.exec(req.url ?? '')
      if (item) {
        const mode = existsSync('mode.txt') ? readFileSync('mode.txt', 'utf8').trim() : 'ok'
        const found = { id: Number(item[1]), name: 'tea', price: mode === 'bug' ? undefined : { cents: 850 } }
        return send(200, { ...found, totalCents: priceOf(found) })
      }
      send(404, { error: 'not found' })
    } catch (error) {
      console.error(error.stack)
      send(500, { error: 'internal error' })
    }
  })
  .listen(Number(process.env.PORT), process.env.HOST)
`

const PREPARE = `import { mkdirSync, writeFileSync } from 'node:fs'
mkdirSync('data', { recursive: true })
writeFileSync('data/fixture.json', JSON.stringify({ side: process.env.VIGIL_SIDE, port: process.env.PORT }))
console.log('fixture written for the ' + process.env.VIGIL_SIDE)
`

const PLAN = `---
name: items
title: Items are served
selectionHint: The api service's items, its fixture and its version endpoint.
---

# Items

\`\`\`e2e Read an item
steps:
  - name: the fixture is this side's
    request: GET /fixture
    expect: { status: 200, json: { /side: { oneOf: [candidate, baseline] } } }
  - name: which side
    run: [node, -e, "console.log('side=' + process.env.VIGIL_SIDE)"]
  - name: read item 1
    request: GET /items/1
    expect: { status: 200, json: { /totalCents: 850 } }
\`\`\`
`

export interface ActProjectOptions {
  /** Extra lines of vigil.config.yaml (after the sandbox). */
  config?: string
  /** The `prepare:` value of the api service, as YAML. @default node prepare.mjs */
  prepare?: string
}

export interface ActProject {
  root: string
  /** `bug` makes /items fail (the working tree then has an uncommitted change). */
  setMode(mode: 'ok' | 'bug'): void
  remove(): void
}

export function actProject(options: ActProjectOptions = {}): ActProject {
  const root = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'vigil-act-')))
  const write = (file: string, text: string) => {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true })
    writeFileSync(path.join(root, file), text)
  }
  write('api/server.mjs', SERVER)
  write('api/prepare.mjs', PREPARE)
  write('api/package.json', JSON.stringify({ name: 'act-api', version: '2.0.0', private: true }))
  write('api/mode.txt', 'ok\n')
  write('.gitignore', 'api/data/\n.vigil/\n')
  write('plans/items.md', PLAN)
  write(
    'vigil.config.yaml',
    `sandbox:
  provider: process
  services:
    api:
      command: node server.mjs
      cwd: api
      ready: { http: /health, timeout: 15s }
      prepare: ${options.prepare ?? 'node prepare.mjs'}
      version: { http: /version, pointer: /build/version }
baseline:
  services: { api: { env: { API_VERSION: '1.0.0' } } }
${options.config ?? ''}`,
  )
  const git = (...args: string[]) =>
    execFileSync('git', args, {
      cwd: root,
      stdio: 'ignore',
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 't',
        GIT_AUTHOR_EMAIL: 't@x',
        GIT_COMMITTER_NAME: 't',
        GIT_COMMITTER_EMAIL: 't@x',
      },
    })
  git('init', '-q', '-b', 'main')
  git('add', '-A')
  git('commit', '-q', '-m', 'api')
  return {
    root,
    setMode: (mode) => write('api/mode.txt', `${mode}\n`),
    remove: () => rmSync(root, { recursive: true, force: true }),
  }
}
