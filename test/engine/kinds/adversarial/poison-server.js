// A widget service whose state adversarial cases can poison, started by the real process sandbox provider
// (it listens on PORT). A POST /widgets body nested deeper than 64 levels corrupts its store: every later
// create answers 500 and /health 503, until POST /__reset. Its OpenAPI document is openapi().
import { createServer } from 'node:http'
import { Buffer } from 'node:buffer'
import process from 'node:process'

let poisoned = false
let next = 1

function nesting(body) {
  let depth = 0
  let max = 0
  for (const byte of body) {
    if (byte === 0x5b || byte === 0x7b) max = Math.max(max, ++depth)
    else if (byte === 0x5d || byte === 0x7d) depth--
  }
  return max
}

const server = createServer((req, res) => {
  const chunks = []
  req.on('data', (c) => chunks.push(c))
  req.on('end', () => {
    const body = Buffer.concat(chunks)
    const send = (status, value) => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(value))
    }
    const path = new URL(req.url ?? '/', 'http://widgets.invalid').pathname
    if (path === '/health') return poisoned ? send(503, { status: 'corrupt' }) : send(200, { status: 'ok' })
    if (path === '/__reset' && req.method === 'POST') {
      poisoned = false
      return send(200, { reset: true })
    }
    if (path === '/widgets' && req.method === 'POST') {
      if (nesting(body) > 64) {
        poisoned = true
        return send(400, { error: 'too deep' })
      }
      if (poisoned) return send(500, { error: 'store corrupted' })
      let input
      try {
        input = JSON.parse(body.toString('utf8'))
      } catch {
        return send(400, { error: 'bad json' })
      }
      const ok =
        input &&
        typeof input === 'object' &&
        !Array.isArray(input) &&
        Object.keys(input).every((k) => k === 'name') &&
        typeof input.name === 'string' &&
        /^[a-z]{1,20}$/.test(input.name)
      return ok ? send(201, { id: `w${next++}`, name: input.name }) : send(400, { error: 'invalid' })
    }
    send(404, { error: 'not found' })
  })
})
server.listen(Number(process.env.PORT), '127.0.0.1', () =>
  process.stdout.write(`widgets: ready on ${process.env.PORT}\n`),
)
process.on('SIGTERM', () => {
  server.closeAllConnections()
  server.close(() => process.exit(0))
})
