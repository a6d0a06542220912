/**
 * A small widget API on loopback for adversarial tests, with switchable faults, its OpenAPI document
 * (a plan reads it as `openapi.json`), and a record of every request as received (method, target, raw
 * headers, body bytes).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'

export interface ToyFaults {
  /** count 0 is accepted (201). */
  acceptZero?: boolean
  /** A negative count crashes with a 500 that carries a stack trace. */
  crashOnNegative?: boolean
  /** A count below one answers a server error: 500 and 502 in turn. */
  flakyBelowOne?: boolean
  /** Anyone signed in reads any widget. */
  anyOwner?: boolean
  /** No credentials are needed to create a widget. */
  noAuth?: boolean
  /** Every answer comes this many milliseconds late. */
  delayMs?: number
  /**
   * Every answer but those to /health, /__reset and the setup's create (`toyParams`) comes this many
   * milliseconds late: the cases are slow, the rest is not.
   */
  slowCasesMs?: number
  /** The setup's create (`toyParams`) is never answered. */
  hangSetup?: boolean
  /**
   * A body nested deeper than 64 levels corrupts the store: every later create answers 500 and /health 503,
   * until `POST /__reset` (which every toy API answers: it empties the store).
   */
  poisonOnDeepNesting?: boolean
  /** The server dies on this health request (1 the first): it closes without an answer. */
  dieOnHealth?: number
}

export interface RawRequest {
  method: string
  url: string
  /** Raw header lines as received, except Host (its port differs between servers). */
  headers: string[]
  body: Buffer
}

export const TOKENS = { owner: 'owner-token-1234', other: 'other-token-5678' }

/** The body of the create that `toyParams`' setup sends. */
const SETUP_BODY = '{"name":"mine","count":1}'

export const OPENAPI = {
  openapi: '3.0.3',
  info: { title: 'widgets', version: '1' },
  security: [{ bearer: [] }],
  paths: {
    '/health': { get: { operationId: 'health', security: [], responses: { '200': { description: 'up' } } } },
    '/widgets': {
      post: {
        operationId: 'createWidget',
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: { $ref: '#/components/schemas/NewWidget' },
              example: { name: 'gear', count: 2 },
            },
          },
        },
        responses: { '201': { description: 'created' }, '400': { description: 'invalid' } },
      },
    },
    '/widgets/{id}': {
      get: {
        operationId: 'getWidget',
        parameters: [
          { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^w[0-9]+$' } },
        ],
        responses: { '200': { description: 'the widget' }, '404': { description: 'none' } },
      },
    },
  },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    schemas: {
      NewWidget: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'count'],
        properties: {
          name: { type: 'string', pattern: '^[a-z]{1,20}$' },
          count: { type: 'integer', minimum: 1, maximum: 10 },
        },
      },
    },
  },
}

/** The API as a KindTester target: its one service is `api`. */
export interface ToyApi {
  url: string
  services: { api: string }
  requests: RawRequest[]
  /** How often `POST /__reset` was called. */
  resets(): number
  /** A folder holding `openapi.json`, usable as a plan's directory. */
  dir: string
  close(): Promise<void>
}

export async function startToyApi(faults: ToyFaults = {}): Promise<ToyApi> {
  const requests: RawRequest[] = []
  const widgets = new Map<string, { owner: string; name: string; count: number }>()
  let next = 1
  let poisoned = false
  let resets = 0
  let healthCalls = 0
  let negatives = 0
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-toy-'))
  await writeFile(path.join(dir, 'openapi.json'), JSON.stringify(OPENAPI))
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      const headers: string[] = []
      for (let i = 0; i < req.rawHeaders.length; i += 2)
        if (req.rawHeaders[i]!.toLowerCase() !== 'host')
          headers.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`)
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers, body })
      const url = new URL(req.url ?? '/', 'http://toy.invalid')
      const setup = req.method === 'POST' && body.toString() === SETUP_BODY
      if (setup && faults.hangSetup) return
      const delay =
        (faults.delayMs ?? 0) +
        (faults.slowCasesMs && !setup && !['/health', '/__reset'].includes(url.pathname)
          ? faults.slowCasesMs
          : 0)
      const send = (status: number, value: unknown) => {
        const answer = () => {
          res.writeHead(status, { 'content-type': 'application/json' })
          res.end(JSON.stringify(value))
        }
        if (delay) setTimeout(answer, delay)
        else answer()
      }
      const auth = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1]
      const who = auth === TOKENS.owner ? 'owner' : auth === TOKENS.other ? 'other' : undefined
      if (url.pathname === '/health' && ++healthCalls === faults.dieOnHealth) {
        server.close()
        server.closeAllConnections()
        return
      }
      if (url.pathname === '/health')
        return poisoned ? send(503, { status: 'corrupt' }) : send(200, { status: 'ok' })
      if (url.pathname === '/__reset' && req.method === 'POST') {
        resets++
        poisoned = false
        widgets.clear()
        return send(204, {})
      }
      if (url.pathname === '/widgets' && req.method === 'POST') {
        if (faults.poisonOnDeepNesting && nesting(body) > 64) {
          poisoned = true
          return send(400, { error: 'too deep' })
        }
        if (poisoned) return send(500, { error: 'store corrupted' })
        if (!who && !faults.noAuth) return send(401, { error: 'unauthorized' })
        if (!/^application\/json/.test(req.headers['content-type'] ?? ''))
          return send(415, { error: 'json only' })
        let input: Record<string, unknown>
        try {
          input = JSON.parse(body.toString('utf8'))
        } catch {
          return send(400, { error: 'bad json' })
        }
        if (!input || typeof input !== 'object' || Array.isArray(input)) return send(400, { error: 'object' })
        const extra = Object.keys(input).filter((k) => k !== 'name' && k !== 'count')
        const { name, count } = input
        if (faults.flakyBelowOne && typeof count === 'number' && count < 1)
          return send(negatives++ % 2 === 0 ? 500 : 502, {})
        if (faults.crashOnNegative && typeof count === 'number' && count < 0) {
          res.writeHead(500, { 'content-type': 'text/plain' })
          return res.end('TypeError: negative\n    at create (/srv/widgets/server.js:42:7)\n')
        }
        const countOk =
          Number.isInteger(count) &&
          (count as number) <= 10 &&
          ((count as number) >= 1 || (faults.acceptZero && count === 0))
        if (extra.length || typeof name !== 'string' || !/^[a-z]{1,20}$/.test(name) || !countOk)
          return send(400, { error: 'invalid' })
        const id = `w${next++}`
        widgets.set(id, { owner: who ?? 'anonymous', name, count: count as number })
        return send(201, { id, name, count })
      }
      const m = /^\/widgets\/([^/]+)$/.exec(url.pathname)
      if (m && req.method === 'GET') {
        if (!who) return send(401, { error: 'unauthorized' })
        const widget = widgets.get(decodeURIComponent(m[1]!))
        if (!widget || (widget.owner !== who && !faults.anyOwner)) return send(404, { error: 'not found' })
        return send(200, { id: m[1], ...widget })
      }
      send(404, { error: 'not found' })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url,
    services: { api: url },
    requests,
    resets: () => resets,
    dir,
    close: async () => {
      server.closeAllConnections()
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()))
      await rm(dir, { recursive: true, force: true })
    },
  }
}

/** How deep brackets nest in a body (strings are not told apart: good enough for generated cases). */
function nesting(body: Buffer): number {
  let depth = 0
  let max = 0
  for (const byte of body) {
    if (byte === 0x5b || byte === 0x7b) max = Math.max(max, ++depth)
    else if (byte === 0x5d || byte === 0x7d) depth--
  }
  return max
}

/** The block most tests use: every operation, both principals, a widget created as the owner. */
export function toyParams(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    openapi: 'openapi.json',
    principals: { owner: '{{secrets.owner}}', other: '{{secrets.other}}' },
    setup: [
      {
        request: { method: 'POST', path: '/widgets', json: { name: 'mine', count: 1 } },
        capture: { widgetId: '/id' },
      },
    ],
    params: { id: '{{widgetId}}' },
    cases: 120,
    ...extra,
  }
}
