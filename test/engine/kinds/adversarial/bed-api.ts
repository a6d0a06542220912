/**
 * The adversarial bed: a small, deliberately vulnerable API on loopback, each hole labelled with its
 * vulnerability class, and its safe twin (`safe: true`: the same API with every hole fixed). The
 * interpreters are emulated — a tiny WHERE-clause evaluator, a template renderer, a shell and a file
 * system held in memory — so the holes behave as the real ones do without touching this machine.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import {
  BED_AUTH_PATHS,
  BED_JOBS_REQUEST,
  BED_PRINCIPALS,
  BED_SECURITY_SCHEMES,
  BED_SETUP,
  bedAuth,
  startJobs,
} from './bed-auth.js'
import { BED_FORM_PATHS, bedForms } from './bed-forms.js'

/** The labelled classes: which operation holds the hole and which oracles may find it. */
export const BED_CLASSES = [
  { label: 'SQL injection (boolean-blind)', operation: 'searchProducts', oracles: ['differential'] },
  { label: 'SQL injection (error-based)', operation: 'searchProducts', oracles: ['injection-evidence'] },
  { label: 'server-side template injection', operation: 'createGreeting', oracles: ['injection-evidence'] },
  { label: 'path traversal', operation: 'readFile', oracles: ['injection-evidence'] },
  { label: 'command injection', operation: 'ping', oracles: ['injection-evidence'] },
  { label: 'open redirect', operation: 'loginRedirect', oracles: ['redirect'] },
  { label: 'stack trace inside a JSON string', operation: 'getItem', oracles: ['no-leak'] },
  { label: 'CRLF header injection', operation: 'setLanguage', oracles: ['injection-evidence'] },
  { label: 'missing role check (user on an admin operation)', operation: 'listUsers', oracles: ['authz'] },
  { label: 'mass assignment (role sticks)', operation: 'updateProfile', oracles: ['mass-assignment'] },
  { label: 'foreign write that sticks behind a 403', operation: 'updateNote', oracles: ['foreign-write'] },
  { label: 'user enumeration', operation: 'requestPasswordReset', oracles: ['enumeration'] },
  { label: 'catastrophic backtracking (ReDoS)', operation: 'lookupHandle', oracles: ['timing'] },
  { label: 'crash (a quote kills the worker)', operation: 'submitJob', oracles: ['crashed'] },
  {
    label: 'XML internal entity expansion (XXE)',
    operation: 'importContact',
    oracles: ['injection-evidence'],
  },
  {
    label: 'template injection through a multipart field',
    operation: 'uploadAvatar',
    oracles: ['injection-evidence'],
  },
] as const

/** Warning-level classes (security headers, cookies): found when a warning names the operation. */
export const BED_WARNINGS = [
  {
    label: 'HTML without security headers, cookie without flags',
    operation: 'home',
    oracles: ['security-headers'],
  },
  { label: 'no rate limit on the login', operation: 'login', oracles: ['rate-limit'] },
  { label: 'user enumeration by timing', operation: 'login', oracles: ['enumeration-timing'] },
] as const

const PRODUCTS = [
  { id: 1, name: 'gear', price: 5 },
  { id: 2, name: 'bolt', price: 1 },
  { id: 3, name: 'nut', price: 1 },
  { id: 4, name: 'spring', price: 2 },
]

const FILES: Record<string, string> = {
  '/srv/files/report.txt': 'quarterly report\n',
  '/etc/passwd': 'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n',
}

const str = { type: 'string', minLength: 1, maxLength: 200 }
const json = (schema: unknown, example: unknown) => ({
  required: true,
  content: { 'application/json': { schema, example } },
})

export const BED_OPENAPI = {
  openapi: '3.0.3',
  info: { title: 'bed', version: '1' },
  paths: {
    '/health': { get: { operationId: 'health', responses: { '200': { description: 'up' } } } },
    '/': { get: { operationId: 'home', responses: { '200': { description: 'the page' } } } },
    '/products': {
      get: {
        operationId: 'searchProducts',
        parameters: [{ name: 'name', in: 'query', required: true, schema: str }],
        responses: { '200': { description: 'matches' } },
      },
    },
    '/greetings': {
      post: {
        operationId: 'createGreeting',
        requestBody: json(
          { type: 'object', required: ['name'], properties: { name: str }, additionalProperties: false },
          { name: 'ada' },
        ),
        responses: { '201': { description: 'the greeting' } },
      },
    },
    '/files': {
      get: {
        operationId: 'readFile',
        parameters: [{ name: 'file', in: 'query', required: true, schema: str }],
        responses: { '200': { description: 'the file' }, '404': { description: 'none' } },
      },
    },
    '/ping': {
      post: {
        operationId: 'ping',
        requestBody: json(
          { type: 'object', required: ['host'], properties: { host: str }, additionalProperties: false },
          { host: 'localhost' },
        ),
        responses: { '200': { description: 'the output' } },
      },
    },
    '/login/redirect': {
      get: {
        operationId: 'loginRedirect',
        parameters: [{ name: 'next', in: 'query', required: true, schema: str }],
        responses: { '302': { description: 'onwards' } },
      },
    },
    '/language': {
      get: {
        operationId: 'setLanguage',
        parameters: [{ name: 'lang', in: 'query', required: true, schema: str }],
        responses: { '200': { description: 'set' } },
      },
    },
    '/items/{id}': {
      get: {
        operationId: 'getItem',
        parameters: [
          { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[0-9]+$' } },
        ],
        responses: { '200': { description: 'the item' }, '400': { description: 'bad id' } },
      },
    },
    ...BED_AUTH_PATHS,
    ...BED_FORM_PATHS,
  },
  components: { securitySchemes: BED_SECURITY_SCHEMES },
}

/** The bed's block params: every operation, the valid values, a given seed. */
export function bedParams(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    openapi: 'openapi.json',
    params: {
      name: 'gear',
      file: 'report.txt',
      next: '/home',
      id: '1',
      lang: 'en',
      noteId: '{{noteId}}',
      handle: 'ada',
    },
    requests: [BED_JOBS_REQUEST],
    principals: BED_PRINCIPALS,
    setup: BED_SETUP,
    cases: 400,
    ...extra,
  }
}

export interface BedApi {
  url: string
  /** The second service, `jobs`. */
  jobsUrl: string
  /** The sandbox's services, `api` first (the default). */
  services: Record<string, string>
  dir: string
  close(): Promise<void>
}

/** A tiny WHERE-clause evaluator: `name = '<q>'`, with OR/AND of quoted comparisons, as a naive query builds it. */
function where(q: string, row: { name: string }): boolean {
  const clause = `name = '${q}'`
  const tokens = clause.match(/'(?:[^']|'')*'|[=]|\bOR\b|\bAND\b|\w+|\S/gi) ?? []
  if ((clause.match(/'/g)?.length ?? 0) % 2)
    throw new Error(`SQLITE_ERROR: unrecognized token: "'${q.split("'").pop()}"`)
  const value = (t: string) =>
    t === 'name' ? row.name : t.startsWith("'") ? t.slice(1, -1).replace(/''/g, "'") : t
  let i = 0
  const comparison = () => {
    const a = value(tokens[i++] ?? '')
    if (tokens[i++] !== '=') throw new Error(`SQLITE_ERROR: near "${tokens[i - 1] ?? ''}": syntax error`)
    return a === value(tokens[i++] ?? '')
  }
  let result = comparison()
  while (i < tokens.length) {
    const op = tokens[i++]!.toUpperCase()
    if (op === 'OR') result = comparison() || result
    else if (op === 'AND') result = comparison() && result
    else throw new Error(`SQLITE_ERROR: near "${op}": syntax error`)
  }
  return result
}

/** A template renderer that evaluates `{{a*b}}` and `${a*b}`, as a string-built template does. */
function render(template: string): string {
  return template.replace(/(?:\{\{|\$\{)\s*(\d+)\s*\*\s*(\d+)\s*\}\}?/g, (_, a: string, b: string) =>
    String(Number(a) * Number(b)),
  )
}

/** Resolves `name` under /srv/files like path.join would, with `%2f` decoded once more (a double decode). */
function resolveFile(name: string): string {
  return path.posix.resolve('/srv/files', decodeURIComponent(name))
}

export async function startBedApi(options: { safe?: boolean } = {}): Promise<BedApi> {
  const safe = options.safe ?? false
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      try {
        handle(
          req.method ?? 'GET',
          new URL(req.url ?? '/', 'http://bed.invalid'),
          Buffer.concat(chunks),
          req.headers,
          res,
        )
      } catch (error) {
        send(res, 500, { error: 'internal error' })
        void error
      }
    })
  })
  const send = (
    res: ServerResponse,
    status: number,
    value: unknown,
    headers: Record<string, string> = {},
  ) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers })
    res.end(JSON.stringify(value))
  }
  const body = (raw: Buffer, type: string | undefined): Record<string, unknown> | undefined => {
    if (!/^application\/json/.test(type ?? '')) return undefined
    try {
      const v = JSON.parse(raw.toString('utf8')) as unknown
      return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined
    } catch {
      return undefined
    }
  }
  const text = (v: unknown) => typeof v === 'string' && v.length >= 1 && v.length <= 200
  const auth = bedAuth(safe)
  const forms = bedForms(safe, render)
  function handle(
    method: string,
    url: URL,
    raw: Buffer,
    headers: IncomingHttpHeaders,
    res: ServerResponse,
  ): void {
    const q = (name: string) => url.searchParams.get(name)
    const type = headers['content-type'] as string | undefined
    if (method === 'GET' && url.pathname === '/health') return send(res, 200, { status: 'ok' })
    if (method === 'GET' && url.pathname === '/') {
      // Hole: no security headers, a session cookie without flags.
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        ...(safe
          ? {
              'set-cookie': 'sid=abc123; Path=/; HttpOnly; Secure; SameSite=Lax',
              'x-content-type-options': 'nosniff',
              'content-security-policy': "default-src 'self'",
            }
          : { 'set-cookie': 'sid=abc123; Path=/' }),
      })
      return void res.end('<!doctype html><title>bed</title><p>welcome</p>')
    }
    if (method === 'GET' && url.pathname === '/products') {
      const name = q('name')
      if (!text(name)) return send(res, 400, { error: 'name is required' })
      if (safe) return send(res, 200, { products: PRODUCTS.filter((p) => p.name === name) })
      // Hole: the value is pasted into the query; a broken query's error goes back to the client.
      try {
        return send(res, 200, { products: PRODUCTS.filter((p) => where(name!, p)) })
      } catch (error) {
        return send(res, 500, { error: (error as Error).message })
      }
    }
    if (method === 'POST' && url.pathname === '/greetings') {
      const input = body(raw, type)
      if (!input || !text(input.name) || Object.keys(input).length !== 1)
        return send(res, 400, { error: 'invalid' })
      const name = input.name as string
      // Hole: the name becomes part of the template before it is rendered.
      return send(res, 201, { greeting: safe ? `Hello ${name}` : render(`Hello ${name}`) })
    }
    if (method === 'GET' && url.pathname === '/files') {
      const name = q('file')
      if (!text(name)) return send(res, 400, { error: 'name is required' })
      if (safe && !/^[\w.-]+$/.test(name!)) return send(res, 400, { error: 'bad file name' })
      // Hole: the name is joined to the folder without checking where it lands.
      const file = FILES[resolveFile(name!)]
      return file === undefined
        ? send(res, 404, { error: 'no such file' })
        : send(res, 200, { content: file })
    }
    if (method === 'POST' && url.pathname === '/ping') {
      const input = body(raw, type)
      if (!input || !text(input.host) || Object.keys(input).length !== 1)
        return send(res, 400, { error: 'invalid' })
      const host = input.host as string
      if (safe && !/^[\w.-]+$/.test(host)) return send(res, 400, { error: 'bad host' })
      // Hole: the host goes through a shell: `$(id)`, `; id`, `| id` and backticks run `id`.
      const output = [`PING ${host.replace(/\$\(id\)|`id`|[;|&].*$/g, '')}: 1 packet`]
      if (/\$\(id\)|`id`|[;|&]\s*id\b/.test(host)) output.push('uid=1000(app) gid=1000(app) groups=1000(app)')
      return send(res, 200, { output: output.join('\n') })
    }
    if (method === 'GET' && url.pathname === '/login/redirect') {
      const next = q('next')
      if (!text(next)) return send(res, 400, { error: 'next is required' })
      // Hole: any location is followed; the twin only takes paths on this service.
      if (safe && !/^\/(?![/\\])[\w/.-]*$/.test(next!)) return send(res, 400, { error: 'bad next' })
      res.writeHead(302, { location: next! })
      return void res.end()
    }
    if (method === 'GET' && url.pathname === '/language') {
      const lang = q('lang')
      if (!text(lang)) return send(res, 400, { error: 'lang is required' })
      if (safe && !/^[A-Za-z-]{1,35}$/.test(lang!)) return send(res, 400, { error: 'bad lang' })
      // Hole: the value goes into a header as is; its CR LF starts a header of the client's choosing.
      const [first, ...smuggled] = lang!.split(/\r?\n/)
      const headers: Record<string, string> = { 'content-language': first! }
      for (const line of smuggled) {
        const colon = line.indexOf(':')
        if (colon > 0) headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim()
      }
      return send(res, 200, { lang: first }, headers)
    }
    const item = /^\/items\/([^/]+)$/.exec(url.pathname)
    if (method === 'GET' && item) {
      const id = decodeURIComponent(item[1]!)
      if (/^[0-9]+$/.test(id)) return send(res, 200, { id: Number(id), name: 'gear' })
      // Hole: the error's stack goes back inside a JSON string.
      const error = new Error(`bad id ${JSON.stringify(id.slice(0, 20))}`)
      error.stack = `Error: bad id\n    at parseId (/bed/lib/items.js:10:5)\n    at handle (/bed/lib/server.js:88:12)`
      return send(res, 400, safe ? { error: 'bad id' } : { error: error.stack })
    }
    if (auth(method, url, body(raw, type), headers, res, send)) return
    if (forms(method, url, raw, headers, res, send)) return
    send(res, 404, { error: 'not found' })
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const jobs = await startJobs(safe)
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-bed-'))
  await writeFile(path.join(dir, 'openapi.json'), JSON.stringify(BED_OPENAPI))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    jobsUrl: jobs.url,
    services: { api: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, jobs: jobs.url },
    dir,
    close: async () => {
      await jobs.close()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await rm(dir, { recursive: true, force: true })
    },
  }
}
