/**
 * Executor overhead, HTTP client cost, and the cost of redacting the verdict.
 * 1. 200 e2e checks of one request each, concurrency 20, against a loopback server answering after
 *    50 ms: wall time against the ideal ceil(200/20) × 50 ms (goal ≤ 1.15×).
 * 2. The HttpClient's per-request cost against plain undici on the same immediate server, same run,
 *    alternating rounds (goal ≤ 1.2×).
 * 3. The last redaction pass over a large verdict (every form of 7 secrets) against JSON.stringify of
 *    the same verdict, which every run does to write it, alternating rounds (goal ≤ 8×;
 *    measured 3.5–5.5× on a loaded 2-core machine, about 100 ms).
 */
import { spawn } from 'node:child_process'
import pLimit from 'p-limit'
import { Agent, request as undiciRequest } from 'undici'
import type { CheckBlock, Plan } from '../../plans/types.js'
import e2e from '../../engine/kinds/e2e/kind.js'
import { executePlans } from '../../engine/executors/local/executor.js'
import { HttpClient } from '../../engine/http/client.js'
import { Variables } from '../../engine/vars.js'
import type { CheckResult, Verdict } from '../../engine/verdict.js'
import { Redactor } from '../../plans/redact.js'
import { createSandbox } from '../../engine/sandboxes/index.js'
import { SECRETS } from '../support/secrets.js'
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
  const sandbox = createSandbox({ name: 'candidate', services: { api: server.url }, defaultService: 'api' })
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
        clients: { http },
        redactor: http.redactor,
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

/** Bytes, the same on every run: a small linear congruential generator. */
function bytes(seed: number, length: number): Buffer {
  const out = Buffer.alloc(length)
  let x = seed >>> 0
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0
    out[i] = x >>> 24
  }
  return out
}

/**
 * A verdict as a run with many failures leaves it: 40 plans × 25 failed checks, two findings each with
 * the request, a 2 KB response excerpt (JSON with ids, a hash and a base64 blob), a curl line; a few
 * of them hold a secret. About 9 MB of JSON.
 */
function largeVerdict(): Verdict {
  const secrets = Object.values(SECRETS)
  const body = (n: number) =>
    JSON.stringify({
      id: bytes(n, 8).toString('hex'),
      sha: bytes(n + 1, 32).toString('hex'),
      items: [{ sku: 'tea', quantity: 2 }],
      blob: bytes(n + 2, 1100).toString('base64'),
      note: n % 97 === 0 ? `echo ${Buffer.from(secrets[n % secrets.length]!).toString('base64')}` : 'ok',
    })
  let n = 0
  const plans = Array.from({ length: 40 }, (_, p) => {
    const checks: CheckResult[] = Array.from({ length: 25 }, (_, c) => ({
      plan: `plan-${p}`,
      check: `check ${c}`,
      kind: 'e2e',
      location: { file: `plans/plan-${p}.md`, line: c + 1 },
      state: 'failed',
      durationMs: 12,
      findings: [0, 1].map(() => {
        n++
        const url = `http://127.0.0.1:4000/orders/${n}?page=${n % 7}`
        return {
          message: `Step "create": POST /orders/${n} expected status 201, got 500.`,
          severity: 'error' as const,
          evidence: {
            transport: 'http',
            summary: [
              { label: 'request', value: `POST ${url} (candidate)` },
              { label: 'response', value: '500 in 3ms' },
            ],
            request: { method: 'POST', url, headers: { 'content-type': 'application/json' }, body: body(n) },
            response: { status: 500, headers: { 'content-type': 'application/json' }, durationMs: 3 },
            excerpt: { label: 'body', text: body(n + 3) },
            reproduce: `curl -sS -i -X POST '${url}' -H 'content-type: application/json' --data-binary '${body(n)}'`,
          },
        }
      }),
    }))
    return {
      name: `plan-${p}`,
      title: `Plan ${p}`,
      file: `plans/plan-${p}.md`,
      blocking: true,
      state: 'failed' as const,
      durationMs: 300,
      checks,
    }
  })
  const summary = { total: 0, passed: 0, failed: 0, errored: 0, skipped: 0, warned: 0 }
  return {
    schemaVersion: 3,
    status: 'fail',
    exitCode: 1,
    startedAt: '2025-01-31T12:00:00.000Z',
    durationMs: 1000,
    identity: { runId: 'bench', seed: 1 },
    plans,
    errors: [],
    summary: { plans: summary, checks: summary },
    timings: [],
  }
}

async function verdictRedaction(log: (line: string) => void): Promise<number> {
  const verdict = largeVerdict()
  const redactor = new Redactor({ secrets: [...Object.values(SECRETS), 'sk-ant-api03-Zm9v+YmFy/cXV4=Q_k3y'] })
  const size = JSON.stringify(verdict).length
  const ours: number[] = []
  const peer: number[] = []
  let redacted: Verdict = verdict
  for (let round = 0; round < ROUNDS + 1; round++) {
    const pair = [() => (redacted = redactor.json(verdict)), () => JSON.stringify(verdict)] as const
    for (const [i, fn] of (round % 2 ? [1, 0] : [0, 1]).map((i) => [i, pair[i]!] as const)) {
      const start = performance.now()
      fn()
      // The first round warms up both.
      if (round > 0) (i === 0 ? ours : peer).push(performance.now() - start)
    }
  }
  const leaks = Object.values(SECRETS).filter((s) =>
    JSON.stringify(redacted).includes(Buffer.from(s).toString('base64')),
  )
  if (leaks.length) throw new Error('executor bench: the redacted verdict still holds a secret')
  log(
    `redact a ${(size / 1e6).toFixed(1)} MB verdict (7 secrets, every form): median ${median(ours).toFixed(1)} ms; JSON.stringify of it ${median(peer).toFixed(1)} ms`,
  )
  return median(ours) / median(peer)
}

export const bench: Bench = {
  name: 'executor',
  async run(log) {
    const overhead = await executorOverhead(log)
    const cost = await clientCost(log)
    const redaction = await verdictRedaction(log)
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
      {
        label: 'redact an 11 MB verdict (7 secrets, every form) / JSON.stringify of it',
        value: redaction,
        unit: 'x',
        goal: '<= 8x',
        met: redaction <= 8,
      },
    ]
  },
}
