/**
 * A small project that puts every secret of the secrets table (support/secrets.ts) everywhere a secret
 * can go: an echo service on loopback that sends back what it received raw, base64, base64url, URL- and
 * form-encoded, JSON-escaped and as Basic credentials; a plan that places each secret in a header, a
 * query object, a path and a JSON body, and a `run:` step that prints them; a second config whose
 * service prints them and crashes. It is a git repository with one commit, and a patch to validate.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, realpathSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { SECRETS, type SecretName } from './secrets.js'

/** A Messages API key with every character base64 tokens use. */
export const API_KEY = 'sk-ant-api03-Zm9v+YmFy/cXV4=Q_k3y'

/** The placements of the plan: each secret goes into each, one check apiece. */
export const PLACEMENTS = {
  header: (s: string) =>
    `request: { method: GET, path: /echo }\n    headers: { x-token: '{{secrets.${s}}}' }`,
  'query object': (s: string) =>
    `request: { method: GET, path: /echo, query: { token: '{{secrets.${s}}}' } }`,
  path: (s: string) => `request: { method: GET, path: '/echo/{{secrets.${s}}}' }`,
  'JSON body': (s: string) => `request: { method: POST, path: /echo, json: { token: '{{secrets.${s}}}' } }`,
} as const

export type Placement = keyof typeof PLACEMENTS

/** The check of one placement of one secret. */
export function checkName(placement: Placement, secret: SecretName): string {
  return `${placement} ${secret}`
}

/** The environment the secrets are read from, and the API key. */
export function secretEnv(): Record<string, string> {
  const env: Record<string, string> = { ANTHROPIC_API_KEY: API_KEY }
  for (const [name, value] of Object.entries(SECRETS)) env[`T_${name.toUpperCase()}`] = value
  return env
}

const FORMS = `
export const forms = (v) => [
  'raw ' + v,
  'base64 ' + Buffer.from(v).toString('base64'),
  'base64url ' + Buffer.from(v).toString('base64url'),
  'url ' + encodeURIComponent(v),
  'form ' + new URLSearchParams({ v }).toString().slice(2),
  'json ' + JSON.stringify(v),
  'basic Basic ' + Buffer.from('user:' + v).toString('base64'),
].join(' | ')
`

const ECHO_SERVER = `import http from 'node:http'
import { forms } from './forms.mjs'
http.createServer((req, res) => {
  if (req.url === '/health') return res.end('ok')
  let body = ''
  req.on('data', (c) => (body += c)).on('end', () => {
    const values = []
    if (req.headers['x-token']) values.push(req.headers['x-token'])
    const url = new URL(req.url, 'http://x')
    if (url.pathname.startsWith('/echo/')) values.push(decodeURIComponent(req.url.slice(6)))
    else for (const v of url.searchParams.values()) values.push(v)
    if (body) values.push(JSON.parse(body).token)
    const first = values[0] ?? ''
    res.writeHead(200, { 'content-type': 'text/plain', 'x-echo': Buffer.from(first).toString('base64') })
    res.end(values.map(forms).join('\\n'))
  })
}).listen(Number(process.env.PORT), '127.0.0.1')
`

/** Prints its environment's secrets and the API key it inherited, in every form, then fails. */
const PRINTER = `import { forms } from './forms.mjs'
for (const [k, v] of Object.entries(process.env)) {
  if (k.startsWith('S_') || k === 'ANTHROPIC_API_KEY') console.log(k + ': ' + forms(v))
}
process.exit(1)
`

function plan(): string {
  const blocks: string[] = []
  for (const secret of Object.keys(SECRETS) as SecretName[]) {
    for (const [placement, request] of Object.entries(PLACEMENTS)) {
      blocks.push(
        '```e2e ' +
          checkName(placement as Placement, secret) +
          `\nsteps:\n  - name: send\n    ${request(secret)}\n    expect: { body: { contains: never-echoed } }\n` +
          '```',
      )
    }
  }
  const env = Object.keys(SECRETS)
    .map((s) => `S_${s}: '{{secrets.${s}}}'`)
    .join(', ')
  blocks.push(
    '```e2e run step\nsteps:\n  - name: print\n    run: node print-secrets.mjs\n    cwd: ..\n' +
      `    env: { ${env} }\n` +
      '```',
  )
  return `---
name: secrets
title: Every secret in every place
selectionHint: Puts every configured secret into headers, queries, paths, bodies and commands.
always: true
timeout: 60s
---

# Secrets everywhere

${blocks.join('\n\n')}
`
}

function config(command: string): string {
  const secrets = Object.keys(SECRETS)
    .map((s) => `  ${s}: { env: T_${s.toUpperCase()} }`)
    .join('\n')
  const env = Object.keys(SECRETS)
    .map((s) => `        S_${s}: '{{secrets.${s}}}'`)
    .join('\n')
  return `plans: [plans]
concurrency: 8
timeout: 2m
secrets:
${secrets}
sandbox:
  provider: process
  services:
    echo:
      command: ${command}
      env:
${env}
      ready: { http: /health, timeout: 15s }
`
}

/** Writes the project into a new temporary folder and returns its path. */
export function createSecretProject(): string {
  const dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'vigil-secrets-')))
  mkdirSync(path.join(dir, 'plans'))
  writeFileSync(path.join(dir, 'forms.mjs'), FORMS)
  writeFileSync(path.join(dir, 'echo-server.mjs'), ECHO_SERVER)
  writeFileSync(path.join(dir, 'print-secrets.mjs'), PRINTER)
  // The crashing service prints what the printer prints, then exits before it is ever ready.
  writeFileSync(path.join(dir, 'crash-server.mjs'), PRINTER)
  writeFileSync(path.join(dir, 'plans/secrets.md'), plan())
  writeFileSync(path.join(dir, 'vigil.config.yaml'), config('node echo-server.mjs'))
  writeFileSync(path.join(dir, 'crash.config.yaml'), config('node crash-server.mjs'))
  writeFileSync(path.join(dir, 'README.md'), 'A project with secrets.\n')
  writeFileSync(path.join(dir, '.gitignore'), '.vigil/\nout/\n')
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, stdio: 'pipe' })
  git('init', '-q', '-b', 'main')
  git('config', 'user.email', 'test@example.com')
  git('config', 'user.name', 'test')
  git('add', '.')
  git('commit', '-q', '-m', 'a project with secrets')
  writeFileSync(
    path.join(dir, 'change.patch'),
    'diff --git a/README.md b/README.md\n--- a/README.md\n+++ b/README.md\n@@ -1 +1,2 @@\n A project with secrets.\n+More words.\n',
  )
  return dir
}
