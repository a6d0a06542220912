// JSON-over-HTTP plumbing shared by the shop's services (node:http only, no dependencies).
import { createServer } from 'node:http'
import { performance } from 'node:perf_hooks'

/** An error that becomes the JSON response `{ error, details? }` with its status. */
export class HttpError extends Error {
  /**
   * @param {number} status
   * @param {string} message
   * @param {{ details?: Array<{ path: string, message: string }>, headers?: Record<string, string> }} [extra]
   */
  constructor(status, message, extra = {}) {
    super(message)
    this.status = status
    this.details = extra.details
    this.headers = extra.headers ?? {}
  }
}

/** Sends `body` as JSON with `status`. */
export function sendJson(res, status, body, headers = {}) {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  })
  res.end(text)
}

/**
 * Reads a JSON request body of at most `limitBytes`. Rejects with 415 (not JSON), 413 (too large)
 * or 400 (empty or malformed). An oversized body is drained rather than destroyed so the client
 * still receives the 413.
 */
export function readJson(req, limitBytes) {
  const type = String(req.headers['content-type'] ?? '')
  if (!/^application\/json\s*(?:;|$)/i.test(type)) {
    return Promise.reject(new HttpError(415, 'content-type must be application/json'))
  }
  const tooLarge = () =>
    new HttpError(413, `request body exceeds ${limitBytes} bytes`, { headers: { connection: 'close' } })
  if (Number(req.headers['content-length']) > limitBytes) {
    req.resume()
    return Promise.reject(tooLarge())
  }
  return new Promise((resolve, reject) => {
    const chunks = []
    let size = 0
    let failed = false
    req.on('data', (chunk) => {
      if (failed) return
      size += chunk.length
      if (size <= limitBytes) return void chunks.push(chunk)
      failed = true
      chunks.length = 0
      reject(tooLarge())
    })
    req.on('error', () => reject(new HttpError(400, 'request body could not be read')))
    req.on('end', () => {
      if (failed) return
      const text = Buffer.concat(chunks).toString('utf8')
      if (text.trim() === '') return reject(new HttpError(400, 'request body is empty'))
      try {
        resolve(JSON.parse(text))
      } catch {
        reject(new HttpError(400, 'request body is not valid JSON'))
      }
    })
  })
}

/** Port from `PORT` (0 picks a free one), or `fallback`; exits on nonsense rather than guessing. */
export function listenPort(fallback) {
  const raw = process.env.PORT
  if (raw === undefined || raw === '') return fallback
  const port = Number(raw)
  if (Number.isInteger(port) && port >= 0 && port <= 65535) return port
  console.error(`PORT must be an integer between 0 and 65535, got ${JSON.stringify(raw)}`)
  process.exit(1)
}

/**
 * Starts the service: one log line per request on stdout, errors turned into JSON (an unexpected
 * one into a bare 500 `{ error: "internal error" }` so no stack trace or path ever leaves the
 * process), and a clean exit on SIGTERM/SIGINT.
 *
 * @param {{ name: string, port: number, host?: string, handle: (req: any, res: any, url: URL) => Promise<void> | void }} options
 */
export function serve({ name, port, host = process.env.HOST || '127.0.0.1', handle }) {
  const server = createServer(async (req, res) => {
    const started = performance.now()
    let path = '?'
    res.on('finish', () => {
      const ms = (performance.now() - started).toFixed(1)
      console.log(`${new Date().toISOString()} ${req.method} ${path} ${res.statusCode} ${ms}ms`)
    })
    try {
      let url
      try {
        url = new URL(req.url ?? '/', 'http://service.invalid')
      } catch {
        throw new HttpError(400, 'malformed request target')
      }
      path = url.pathname
      await handle(req, res, url)
    } catch (error) {
      respondError(res, error)
    }
  })
  // Idle connections stay open longer than clients keep theirs (vigil's HTTP client: 10 s), so a client never
  // sends a request on a connection the server is closing at that moment (Node's default closes after 5 s).
  server.keepAliveTimeout = 30_000
  server.listen(port, host, () => {
    console.log(`${name} listening on http://${host}:${server.address().port}`)
  })
  server.on('error', (error) => {
    console.error(`${name} cannot listen on ${host}:${port}: ${error.message}`)
    process.exit(1)
  })
  const stop = (signal) => {
    console.log(`${name} stopping (${signal})`)
    server.close(() => process.exit(0))
    server.closeIdleConnections()
    // In-flight requests get a moment to finish; a hung client must not keep the process alive.
    setTimeout(() => process.exit(0), 2000).unref()
  }
  process.once('SIGTERM', () => stop('SIGTERM'))
  process.once('SIGINT', () => stop('SIGINT'))
  return server
}

function respondError(res, error) {
  if (res.headersSent) {
    res.destroy()
    return
  }
  if (error instanceof HttpError) {
    const body = error.details ? { error: error.message, details: error.details } : { error: error.message }
    sendJson(res, error.status, body, error.headers)
    return
  }
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error))
  sendJson(res, 500, { error: 'internal error' })
}

/** Matches `/a/{x}/b` style routes: the fixed segments must be equal, the braced ones are captured. */
export function matchRoute(pattern, pathname) {
  const want = pattern.split('/')
  const got = pathname.split('/')
  if (want.length !== got.length) return undefined
  const params = {}
  for (let i = 0; i < want.length; i++) {
    const w = want[i]
    const g = got[i]
    if (w.startsWith('{')) {
      try {
        params[w.slice(1, -1)] = decodeURIComponent(g)
      } catch {
        return undefined
      }
      if (params[w.slice(1, -1)] === '') return undefined
    } else if (w !== g) return undefined
  }
  return params
}

/** 405 with the `Allow` header listing what the route accepts. */
export function methodNotAllowed(allowed) {
  return new HttpError(405, `method not allowed; use ${allowed.join(', ')}`, {
    headers: { allow: allowed.join(', ') },
  })
}

/** Rejects JSON values that are not plain objects, and objects with keys outside `allowed`. */
export function checkObject(value, allowed, path = '') {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return [{ path: path || '/', message: 'must be an object' }]
  }
  return Object.keys(value)
    .filter((key) => !allowed.includes(key))
    .sort()
    .slice(0, 20)
    .map((key) => ({ path: `${path}/${pointerEscape(key)}`, message: 'unknown property' }))
}

/** Escapes one JSON Pointer segment (RFC 6901). */
export function pointerEscape(segment) {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1')
}
