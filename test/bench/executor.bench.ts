/**
 * Executor overhead and HTTP client cost.
 * 1. 200 e2e checks of one request each, concurrency 20, against a loopback server answering after
 *    50 ms: wall time against the ideal ceil(200/20) × 50 ms (goal ≤ 1.15×).
 * 2. The HttpClient's per-request cost against plain undici on the same immediate server, same run,
 *    alternating rounds (goal ≤ 1.2×).
 */
import { spawn } from 'node:child_process'
import pLimit from 'p-limit'
import { Agent, request as undiciRequest } from 'undici'
import type { CheckBlock, Plan } from '../../plans/types.js'
import e2e from '../../engine/checks/e2e.js'
import { executePlans } from '../../engine/executor.js'
import { HttpClient } from '../../engine/http/client.js'
import { Variables } from '../../engine/vars.js'
import { staticSandbox } from '../support/check-context.js'
import { median, type Bench } from './harness.js'

const CHECKS = 200
const CONCURRENCY = 20
const DELAY_MS = 50
const REQUESTS = 2000
const ROUNDS = 5

/**
 * A loopback server in its own process, so that serving does not compete with the executor for the
 * event loop (the figure is the executor's overhead, not the server's).
 */
async function serveInChild(delayMs: number, body: string): Promise<{ url: string; close(): Promise<void> }> {
  const script = `
    const http = require('node:http')
    const body = ${JSON.stringify(body)}
    const send = (res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(body) }
    const server = http.createServer({ keepAliveTimeout: 30000 }, (req, res) => {
      req.resume()
      if (${delayMs} > 0) setTimeout(() => send(res), ${delayMs}); else send(res)
    })
    server.listen(0, '127.0.0.1', () => process.stdout.write(String(server.address().port) + '\\n'))
    process.stdin.on('end', () => process.exit(0)); process.stdin.resume()`
  const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] })
  const port = await new Promise<string>((resolve, reject) => {
    child.once('error', reject)
    child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()))
  })
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve())
        child.stdin.end()
      }),
  }
}

function benchPlan(): Plan {
  const checks: CheckBlock[] = Array.from({ length: CHECKS }, (_, i) => ({
    kind: 'e2e',
    name: `check ${i}`,
    id: `bench/check ${i}`,
    index: i,
    location: { file: 'bench.md', line: i + 1, column: 1 },
    params: {
      steps: [{ name: 'get', request: `GET /item/${i}`, expect: { status: 200, json: { '/ok': true } } }],
    },
    source: '',
  }))
  return {
    name: 'bench',
    title: 'bench',
    selectionHint: '',
    paths: [],
    tags: [],
    always: false,
    blocking: true,
    vars: {},
    file: 'bench.md',
    dir: '.',
    frontmatter: {},
    checks,
  }
}

async function executorOverhead(log: (line: string) => void): Promise<number> {
  const server = await serveInChild(DELAY_MS, '{"ok":true}')
  const http = new HttpClient()
  const sandbox = staticSandbox('candidate', { services: { api: server.url } })
  const plan = benchPlan()
  const ideal = Math.ceil(CHECKS / CONCURRENCY) * DELAY_MS
  const times: number[] = []
  const peer: number[] = []
  try {
    for (let run = 0; run < 4; run++) {
      const start = performance.now()
      const result = await executePlans({
        plans: [plan],
        kinds: { e2e },
        sandboxes: { candidate: sandbox },
        http,
        createVariables: () => new Variables({ services: { api: server.url } }),
        concurrency: CONCURRENCY,
      })
      const wall = performance.now() - start
      const passed = result.plans[0]!.checks.filter((c) => c.state === 'passed').length
      if (passed !== CHECKS) throw new Error(`executor bench: ${passed}/${CHECKS} checks passed`)
      if (run > 0) times.push(wall) // the first run warms up the connections and the JIT
    }
    // The peer: the same requests through plain undici and p-limit, no executor, same server, same run.
    const agent = new Agent({ keepAliveTimeout: 10_000, connections: 256, pipelining: 1 })
    const limit = pLimit(CONCURRENCY)
    for (let run = 0; run < 4; run++) {
      const start = performance.now()
      await Promise.all(
        Array.from({ length: CHECKS }, (_, i) =>
          limit(async () =>
            JSON.parse(
              await (await undiciRequest(`${server.url}/item/${i}`, { dispatcher: agent })).body.text(),
            ),
          ),
        ),
      )
      if (run > 0) peer.push(performance.now() - start)
    }
    await agent.close()
  } finally {
    await http.close()
    await server.close()
  }
  log(
    `peer (plain undici + p-limit, same requests): median wall ${median(peer).toFixed(1)} ms; executor / peer = ${(median(times) / median(peer)).toFixed(2)}x`,
  )
  const wall = median(times)
  log(
    `${CHECKS} e2e checks, concurrency ${CONCURRENCY}, server delay ${DELAY_MS} ms: median wall ${wall.toFixed(1)} ms over ${times.length} runs (ideal ${ideal} ms)`,
  )
  return wall / ideal
}

async function clientCost(log: (line: string) => void): Promise<number> {
  const server = await serveInChild(0, '{"ok":true,"items":[1,2,3]}')
  const client = new HttpClient()
  const agent = new Agent({ keepAliveTimeout: 10_000, connections: 256, pipelining: 1 })
  const url = `${server.url}/item`
  const ours = async () => {
    for (let i = 0; i < REQUESTS; i++) {
      const exchange = await client.request({ method: 'GET', url })
      exchange.response.json()
    }
  }
  const plain = async () => {
    for (let i = 0; i < REQUESTS; i++) {
      const res = await undiciRequest(url, { method: 'GET', dispatcher: agent })
      JSON.parse(await res.body.text())
    }
  }
  const oursTimes: number[] = []
  const plainTimes: number[] = []
  try {
    await ours()
    await plain()
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate which goes first so neither always gets the warmer machine.
      for (const [fn, times] of round % 2
        ? ([
            [plain, plainTimes],
            [ours, oursTimes],
          ] as const)
        : ([
            [ours, oursTimes],
            [plain, plainTimes],
          ] as const)) {
        const start = performance.now()
        await fn()
        times.push(performance.now() - start)
      }
    }
  } finally {
    await client.close()
    await agent.close()
    await server.close()
  }
  const o = median(oursTimes) / REQUESTS
  const p = median(plainTimes) / REQUESTS
  log(
    `${REQUESTS} sequential requests × ${ROUNDS} rounds: HttpClient ${(o * 1000).toFixed(1)} µs/request, plain undici ${(p * 1000).toFixed(1)} µs/request`,
  )
  return o / p
}

export const bench: Bench = {
  name: 'executor',
  async run(log) {
    const overhead = await executorOverhead(log)
    const cost = await clientCost(log)
    return [
      {
        label: `${CHECKS} e2e checks at concurrency ${CONCURRENCY} / ideal ceil(${CHECKS}/${CONCURRENCY})×${DELAY_MS} ms`,
        value: overhead,
        unit: 'x',
        goal: '<= 1.15x',
        met: overhead <= 1.15,
      },
      {
        label: 'HttpClient per-request time / plain undici',
        value: cost,
        unit: 'x',
        goal: '<= 1.2x',
        met: cost <= 1.2,
      },
    ]
  },
}
