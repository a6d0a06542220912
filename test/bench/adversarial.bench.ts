/**
 * Generated adversarial cases per second against a loopback server that answers at once, against plain
 * undici requests carrying bodies of the same sizes, in the same run (alternating rounds, median ratio).
 * The cases come from the sample shop's orders OpenAPI document, with the kind's own generator, HTTP
 * client and leak scan; the goal is that generation is not the bottleneck (ratio >= 0.5).
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Agent, request } from 'undici'
import { CaseGenerator, prepareBase } from '../../engine/kinds/adversarial/cases.js'
import { findLeak, sentStrings } from '../../engine/kinds/adversarial/leaks.js'
import { resolveTargets } from '../../engine/kinds/adversarial/targets.js'
import { HttpClient } from '../../engine/http/client.js'
import { median, type Bench } from './harness.js'

const CASES = 1500
const CONCURRENCY = 8
const ROUNDS = 5
const shopPlans = fileURLToPath(new URL('../../samples/shop/plans/', import.meta.url))

const SERVER = `
const server = require('node:http').createServer((req, res) => {
  req.resume()
  req.on('end', () => res.writeHead(400, { 'content-type': 'application/json', 'content-length': 2 }).end('{}'))
})
server.keepAliveTimeout = 30000
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'))
process.stdin.on('end', () => process.exit(0)).resume()
`

/** A loopback server that answers at once, in a child process; it exits when its stdin closes. */
async function startServer(): Promise<{ url: string; stop(): void }> {
  const child = spawn(process.execPath, ['-e', SERVER], { stdio: ['pipe', 'pipe', 'inherit'] })
  const [chunk] = (await Promise.race([
    once(child.stdout, 'data'),
    once(child, 'exit').then(() => {
      throw new Error('the benchmark server exited before it listened')
    }),
  ])) as [Buffer]
  return {
    url: `http://127.0.0.1:${Number.parseInt(chunk.toString(), 10)}`,
    stop: () => {
      child.stdin.end()
      child.kill()
    },
  }
}

async function pool<T>(items: readonly T[], worker: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < items.length) await worker(items[next++]!)
    }),
  )
}

export const bench: Bench = {
  name: 'adversarial case generation',
  async run(log) {
    // The server runs in its own process, as a sandbox's service does: its work of reading the bodies
    // does not share vigil's event loop, so the figure is the cost of generating and sending cases.
    const server = await startServer()
    const url = server.url
    const targets = await resolveTargets(
      {
        openapi: '../openapi/orders.yaml',
        principals: { owner: 'bench-token' },
        params: { orderId: 'ord_0123456789abcdef' },
      },
      path.resolve(shopPlans),
    )
    const client = new HttpClient()
    const agent = new Agent({ keepAliveTimeout: 10_000, connections: 256, pipelining: 1 })
    try {
      const bases = targets.map((t) => prepareBase(t, (v) => v, 1, { authorization: 'Bearer bench-token' }))
      let seed = 1
      // The sizes and shapes the plain side sends: those of one generation, fixed for every round.
      const reference = new CaseGenerator(bases, 1, 1024 * 1024)
      const shapes = Array.from({ length: CASES }, (_, i) => {
        const c = reference.generate(i)
        return {
          method: c.request.method,
          path: c.request.path,
          headers: c.request.headers,
          body: c.request.body,
        }
      })
      const bytes = shapes.reduce((n, s) => n + (s.body ? Buffer.byteLength(s.body) : 0), 0)
      log(
        `${CASES} cases over ${targets.length} operations, ${(bytes / 1024 / 1024).toFixed(1)} MiB of bodies, ${CONCURRENCY} in flight`,
      )

      const adversarial = async () => {
        const generator = new CaseGenerator(bases, seed++, 1024 * 1024)
        const indices = Array.from({ length: CASES }, (_, i) => i)
        const started = performance.now()
        await pool(indices, async (i) => {
          const c = generator.generate(i)
          const exchange = await client.request({
            method: c.request.method,
            url: url + c.request.path,
            headers: c.request.headers,
            ...(c.request.body !== undefined ? { body: c.request.body } : {}),
          })
          findLeak(exchange.response, () => sentStrings(c.request.path, c.request.body), client.redactor)
        })
        return CASES / ((performance.now() - started) / 1000)
      }
      // The kind's HTTP client alone on pre-generated cases: how much of the gap is the client, not generation.
      const pregenerated = Array.from({ length: CASES }, (_, i) => reference.generate(i))
      const clientOnly = async () => {
        const started = performance.now()
        await pool(pregenerated, async (c) => {
          await client.request({
            method: c.request.method,
            url: url + c.request.path,
            headers: c.request.headers,
            ...(c.request.body !== undefined ? { body: c.request.body } : {}),
          })
        })
        return CASES / ((performance.now() - started) / 1000)
      }
      const plain = async () => {
        const started = performance.now()
        await pool(shapes, async (s) => {
          const res = await request(url + s.path, {
            method: s.method as 'POST',
            headers: s.headers,
            body: s.body ?? null,
            dispatcher: agent,
          })
          await res.body.arrayBuffer()
        })
        return CASES / ((performance.now() - started) / 1000)
      }
      for (let i = 0; i < 2; i++) {
        await plain()
        await adversarial()
      }
      const ratios: number[] = []
      for (let round = 0; round < ROUNDS; round++) {
        // Alternate which side goes first, so warming up favours neither.
        const first = round % 2 === 0 ? await plain() : await adversarial()
        const second = round % 2 === 0 ? await adversarial() : await plain()
        const [p, a] = round % 2 === 0 ? [first, second] : [second, first]
        const c = await clientOnly()
        ratios.push(a / p)
        log(
          `round ${round + 1}: adversarial ${a.toFixed(0)} cases/s, plain undici ${p.toFixed(0)} req/s, ratio ${(a / p).toFixed(2)}; HttpClient alone ${(c / p).toFixed(2)}x`,
        )
      }
      const ratio = median(ratios)
      return [
        {
          label: 'generated cases/s vs plain undici req/s, same sizes',
          value: ratio,
          unit: 'x',
          goal: '>= 0.5x',
          met: ratio >= 0.5,
        },
      ]
    } finally {
      await client.close()
      await agent.close()
      server.stop()
    }
  },
}
