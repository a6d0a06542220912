import { execFile } from 'node:child_process'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HttpClient, HttpNetworkError, buildUrl } from '../../../engine/http/client.js'
import { renderCurl, shellQuote } from '../../../engine/http/curl.js'
import { REDACTED, Redactor } from '../../../engine/http/redact.js'

interface Seen {
  method: string
  url: string
  headers: http.IncomingHttpHeaders
  body: string
  socket: number
}
const seen: Seen[] = []
const sockets = new WeakMap<object, number>()
let socketCount = 0
let url = ''
const server = http.createServer((req, res) => {
  if (!sockets.has(req.socket)) sockets.set(req.socket, ++socketCount)
  let body = ''
  req.on('data', (c: Buffer) => (body += c.toString()))
  req.on('end', () => {
    seen.push({
      method: req.method!,
      url: req.url!,
      headers: req.headers,
      body,
      socket: sockets.get(req.socket)!,
    })
    if (req.url === '/big') {
      res.writeHead(200, { 'content-type': 'text/plain' })
      return res.end('x'.repeat(5000))
    }
    if (req.url === '/chunked') {
      // No content-length: many chunks, written on separate ticks.
      res.writeHead(200, { 'content-type': 'text/plain', 'x-many': ['1', '2'] })
      let i = 0
      const next = (): void => {
        if (i === 50) return void res.end()
        res.write(`${String(i++).padStart(3, '0')}|`)
        setImmediate(next)
      }
      return next()
    }
    if (req.url === '/hints') {
      res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' })
      res.writeHead(201, { 'content-type': 'text/plain' })
      return res.end('after hints')
    }
    res.writeHead(200, {
      'content-type': 'application/json',
      'set-cookie': ['a=secret-cookie-1', 'b=2'],
      'x-token': 'tok-abcdef',
    })
    res.end(
      JSON.stringify({ method: req.method, url: req.url, body, auth: req.headers.authorization ?? null }),
    )
  })
})

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

const curlAvailable = await new Promise<boolean>((resolve) =>
  execFile('curl', ['--version'], (error) => resolve(!error)),
)

describe('HttpClient', () => {
  it('sends JSON with query parameters and reads the response', async () => {
    const client = new HttpClient()
    try {
      const exchange = await client.request({
        method: 'post',
        url: `${url}/x`,
        query: { a: 1, b: ['p', 'q'], c: undefined, d: null },
        json: { n: 0 },
      })
      expect(exchange.url).toBe(`${url}/x?a=1&b=p&b=q`)
      expect(exchange.response.status).toBe(200)
      expect(exchange.response.json()).toEqual({
        method: 'POST',
        url: '/x?a=1&b=p&b=q',
        body: '{"n":0}',
        auth: null,
      })
      expect(exchange.response.headers['set-cookie']).toBe('a=secret-cookie-1, b=2')
      expect(seen.at(-1)!.headers['content-type']).toBe('application/json')
      expect(exchange.response.durationMs).toBeGreaterThan(0)
    } finally {
      await client.close()
    }
  })

  it('reuses keep-alive connections per origin instead of one per request', async () => {
    const client = new HttpClient()
    try {
      const before = seen.length
      for (let i = 0; i < 10; i++) await client.request({ method: 'GET', url: `${url}/k${i}` })
      // undici may open a second socket while the first one finishes its first response; never more.
      const used = new Set(seen.slice(before).map((s) => s.socket))
      expect(used.size).toBeLessThanOrEqual(2)
    } finally {
      await client.close()
    }
  })

  it('redacts secrets, sensitive headers and configured header names in recorded evidence', async () => {
    const client = new HttpClient({
      redactor: new Redactor({
        secrets: ['alice-token', 'secret-cookie-1'],
        headers: ['x-token', 'X-Shop-Key'],
      }),
    })
    try {
      const exchange = await client.request({
        method: 'GET',
        url: `${url}/who?key=alice-token`,
        headers: {
          authorization: 'Bearer alice-token',
          cookie: 'sid=1',
          'x-shop-key': 'k1',
          accept: 'application/json',
        },
      })
      const { request, response } = exchange.recorded()
      expect(request.headers).toEqual({
        authorization: `Bearer ${REDACTED}`,
        cookie: REDACTED,
        'x-shop-key': REDACTED,
        accept: 'application/json',
      })
      expect(request.url).toBe(`${url}/who?key=${REDACTED}`)
      expect(response.headers['set-cookie']).toBe(REDACTED)
      expect(response.headers['x-token']).toBe(REDACTED)
      expect(exchange.recorded().body).toContain(`"auth":"Bearer ${REDACTED}"`)
      const all = JSON.stringify(exchange.recorded()) + exchange.curl()
      expect(all).not.toContain('alice-token')
      expect(all).not.toContain('secret-cookie-1')
      expect(all).not.toContain('k1')
    } finally {
      await client.close()
    }
  })

  it('redacts secrets learned after the client was made', async () => {
    const redactor = new Redactor()
    const client = new HttpClient({ redactor })
    try {
      const exchange = await client.request({ method: 'POST', url: `${url}/late`, body: 'pw=late-secret' })
      redactor.add(['late-secret'])
      expect(exchange.recorded().request.body).toBe(`pw=${REDACTED}`)
    } finally {
      await client.close()
    }
  })

  it('redacts a secret sent in a query object, which the URL percent-encodes, in the evidence, the curl line and a network error', async () => {
    const secret = 'sp3c!al+tok/en=Q&x?y'
    const client = new HttpClient({ redactor: new Redactor({ secrets: [secret] }) })
    try {
      const exchange = await client.request({
        method: 'GET',
        url: `${url}/q`,
        query: { token: secret, page: 2 },
      })
      expect(seen.at(-1)!.url).toBe(`/q?token=${encodeURIComponent(secret).replace(/!/g, '%21')}&page=2`)
      const { request } = exchange.recorded()
      expect(request.url).toBe(`${url}/q?token=${REDACTED}&page=2`)
      expect(exchange.curl()).toBe(`curl -sS -i '${url}/q?token=${REDACTED}&page=2'`)
      expect(exchange.recorded().body).toContain(`"url":"/q?token=${REDACTED}&page=2"`)
      const refused = (await client
        .request({ method: 'GET', url: 'http://127.0.0.1:1/x', query: { token: secret } })
        .catch((e: unknown) => e)) as HttpNetworkError
      expect(refused.message).toMatch(/^GET http:\/\/127\.0\.0\.1:1\/x\?token=\[REDACTED\] failed/)
      expect(refused.curl).toBe(`curl -sS -i 'http://127.0.0.1:1/x?token=${REDACTED}'`)
    } finally {
      await client.close()
    }
  })

  it('redacts a response excerpt before cutting it: a secret across the cut leaves nothing', async () => {
    const secret = 'cut-across-secret-0123456789'
    const client = new HttpClient({ excerptBytes: 100, redactor: new Redactor({ secrets: [secret] }) })
    try {
      // The echo (38 characters of JSON, then the body) puts the secret over the 100th byte.
      const body = `${'y'.repeat(50)}${secret} ${Buffer.from(secret).toString('base64')}`
      const exchange = await client.request({ method: 'POST', url: `${url}/cut`, body })
      const excerpt = exchange.recorded().body!
      expect(excerpt).toMatch(/… \(\d+ bytes\)$/)
      expect(excerpt).not.toContain(secret.slice(0, 10))
      expect(excerpt).toContain(REDACTED.slice(0, 9))
    } finally {
      await client.close()
    }
  })

  it('cuts long bodies to an excerpt with the full size', async () => {
    const client = new HttpClient({ excerptBytes: 100 })
    try {
      const exchange = await client.request({ method: 'GET', url: `${url}/big` })
      expect(exchange.response.body.length).toBe(5000)
      expect(exchange.recorded().body).toBe('x'.repeat(100) + '… (5000 bytes)')
    } finally {
      await client.close()
    }
  })

  it('throws HttpNetworkError with the redacted request and a curl line when the connection is refused', async () => {
    const client = new HttpClient({ redactor: new Redactor({ secrets: ['s3cr3t-value'] }) })
    try {
      const error = await client
        .request({ method: 'GET', url: 'http://127.0.0.1:1/x', headers: { 'x-a': 's3cr3t-value' } })
        .catch((e: unknown) => e)
      expect(error).toBeInstanceOf(HttpNetworkError)
      const e = error as HttpNetworkError
      expect(e.message).toMatch(/^GET http:\/\/127\.0\.0\.1:1\/x failed: .*ECONNREFUSED/)
      expect(e.request.headers['x-a']).toBe(REDACTED)
      expect(e.curl).toBe(`curl -sS -i http://127.0.0.1:1/x -H 'x-a: ${REDACTED}'`)
    } finally {
      await client.close()
    }
  })

  it('reads a chunked body whole, joins repeated headers, and skips 1xx informational responses', async () => {
    const client = new HttpClient()
    try {
      const chunked = await client.request({ method: 'GET', url: `${url}/chunked` })
      expect(chunked.response.text()).toBe(
        Array.from({ length: 50 }, (_, i) => `${String(i).padStart(3, '0')}|`).join(''),
      )
      expect(chunked.response.headers['x-many']).toBe('1, 2')
      const hinted = await client.request({ method: 'GET', url: `${url}/hints` })
      expect(hinted.response.status).toBe(201)
      expect(hinted.response.headers.link).toBeUndefined()
      expect(hinted.response.text()).toBe('after hints')
    } finally {
      await client.close()
    }
  })

  it('stops reading a body at maxBodyBytes and keeps the first bytes, also across chunks', async () => {
    const client = new HttpClient({ maxBodyBytes: 22 })
    try {
      const big = await client.request({ method: 'GET', url: `${url}/big` })
      expect(big.response.body.toString()).toBe('x'.repeat(22))
      const chunked = await client.request({ method: 'GET', url: `${url}/chunked` })
      expect(chunked.response.text()).toBe('000|001|002|003|004|00')
      // The connection that was cut is not reused in a broken state: the next request works.
      const next = await client.request({ method: 'GET', url: `${url}/after-cut` })
      expect(next.response.status).toBe(200)
    } finally {
      await client.close()
    }
  })

  it('aborts on its signal, before sending and while waiting, with the reason in the error', async () => {
    // It never answers: only the abort can end the request, however slow the machine.
    const slow = http.createServer(() => undefined)
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve))
    const client = new HttpClient()
    try {
      const port = (slow.address() as AddressInfo).port
      const before = await client
        .request({ method: 'GET', url: `${url}/x`, signal: AbortSignal.abort(new Error('cancelled early')) })
        .catch((e: unknown) => e)
      expect(before).toBeInstanceOf(HttpNetworkError)
      expect((before as Error).message).toBe(`GET ${url}/x failed: cancelled early`)

      const controller = new AbortController()
      const pending = client
        .request({ method: 'GET', url: `http://127.0.0.1:${port}/`, signal: controller.signal })
        .catch((e: unknown) => e)
      setTimeout(() => controller.abort(new Error('Ctrl-C')), 50)
      const during = await pending
      expect(during).toBeInstanceOf(HttpNetworkError)
      expect((during as Error).message).toMatch(/failed: Ctrl-C$/)
    } finally {
      await client.close()
      slow.closeAllConnections()
      slow.close()
    }
  })

  it('refuses a URL that is not http or https as a network error naming the protocol', async () => {
    const client = new HttpClient()
    try {
      const error = await client.request({ method: 'GET', url: 'ftp://127.0.0.1/x' }).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(HttpNetworkError)
      expect((error as Error).message).toBe(
        'GET ftp://127.0.0.1/x failed: unsupported protocol ftp: (http: or https: only)',
      )
    } finally {
      await client.close()
    }
  })

  it('gives up on a slow response after its timeout', async () => {
    // It never answers: only the timeout can end the request, however slow the machine.
    const slow = http.createServer(() => undefined)
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve))
    const client = new HttpClient()
    try {
      const port = (slow.address() as AddressInfo).port
      await expect(
        client.request({ method: 'GET', url: `http://127.0.0.1:${port}/`, timeoutMs: 100 }),
      ).rejects.toThrow(HttpNetworkError)
    } finally {
      await client.close()
      slow.closeAllConnections()
      slow.close()
    }
  })
})

describe('curl rendering', () => {
  it('quotes for a POSIX shell', () => {
    expect(shellQuote('plain/path-1.0')).toBe('plain/path-1.0')
    expect(shellQuote("it's")).toBe(`'it'\\''s'`)
    expect(shellQuote('a b')).toBe(`'a b'`)
    expect(buildUrl('http://h/p?x=1', { y: 'a b' })).toBe('http://h/p?x=1&y=a+b')
  })

  it('renders HEAD with -I and other methods with -X, headers sorted', () => {
    expect(renderCurl({ method: 'HEAD', url: 'http://h/', headers: {} })).toBe('curl -sS -i -I http://h/')
    expect(renderCurl({ method: 'DELETE', url: 'http://h/x', headers: { b: '2', a: '1' } })).toBe(
      "curl -sS -i -X DELETE http://h/x -H 'a: 1' -H 'b: 2'",
    )
  })

  it.runIf(curlAvailable)('produces a command that really reproduces the request', async () => {
    const client = new HttpClient()
    try {
      const exchange = await client.request({
        method: 'PUT',
        url: `${url}/repro`,
        query: { q: "it's & more" },
        headers: { 'x-note': 'a "quoted" value' },
        json: { text: "o'clock $HOME `x`" },
      })
      const original = seen.at(-1)!
      const { stdout } = await new Promise<{ stdout: string }>((resolve, reject) =>
        execFile('sh', ['-c', exchange.curl()], { timeout: 10_000 }, (error, stdout) =>
          error ? reject(error) : resolve({ stdout }),
        ),
      )
      const replay = seen.at(-1)!
      expect(stdout).toMatch(/^HTTP\/1\.1 200/)
      expect(replay).not.toBe(original)
      expect([
        replay.method,
        replay.url,
        replay.body,
        replay.headers['x-note'],
        replay.headers['content-type'],
      ]).toEqual([
        original.method,
        original.url,
        original.body,
        original.headers['x-note'],
        original.headers['content-type'],
      ])
    } finally {
      await client.close()
    }
  })
})
