/**
 * The built-in load engine (autocannon + vigil's HDR recording) against `wrk` driving the same trivial
 * loopback server in the same run:
 * - max rate: closed model, same connections and duration, a server that answers at once;
 * - percentiles at the same rate: a server that answers after a fixed delay, so both tools run at the
 *   rate the server allows (connections / delay) and p50/p99 can be compared like for like.
 * - short segments: the 125 ms segments an A/B round of the shop's load plan is made of, one after the other, as the load
 *   check runs them; each segment's wall time against the 125 ms it was asked for.
 * Goals: at least 0.5x wrk's rate; p50 and p99 within 20% of wrk's; a 125 ms segment lasts at most 1.1x that.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { runBuiltinSegment } from '../../engine/kinds/load/builtin.js'
import { resolveLoadSpec } from '../../engine/kinds/load/spec.js'
import { median, type Bench, type BenchGoal } from './harness.js'

const CONNECTIONS = 10
const DURATION_S = 5
const DELAY_MS = 5
const SEGMENT_MS = 125
const SEGMENTS = 20

const SERVER = `
const http = require('node:http')
const delay = Number(process.argv[1] || 0)
const server = http.createServer((req, res) => {
  const answer = () => { res.writeHead(200, { 'content-type': 'text/plain' }); res.end('ok') }
  delay ? setTimeout(answer, delay) : answer()
})
server.listen(0, '127.0.0.1', () => console.log(server.address().port))
`

async function startServer(delayMs: number): Promise<{ url: string; child: ChildProcess }> {
  // A separate process, so the server never shares an event loop with the in-process engine.
  const child = spawn(process.execPath, ['-e', SERVER, String(delayMs)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout!.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()))
    child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)))
  })
  return { url: `http://127.0.0.1:${port}`, child }
}

interface Measured {
  rps: number
  p50: number
  p99: number
}

function toMs(value: string, unit: string): number {
  const n = Number(value)
  return unit === 'us' ? n / 1000 : unit === 's' ? n * 1000 : unit === 'm' ? n * 60_000 : n
}

function runWrk(url: string): Measured {
  const out = spawnSync('wrk', ['-t1', `-c${CONNECTIONS}`, `-d${DURATION_S}s`, '--latency', `${url}/`], {
    encoding: 'utf8',
  })
  if (out.status !== 0) throw new Error(`wrk failed: ${out.stderr}`)
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out.stdout)?.[1])
  const pct = (p: string) => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(out.stdout)
    if (!m) throw new Error(`wrk output without a ${p}% line:\n${out.stdout}`)
    return toMs(m[1]!, m[2]!)
  }
  return { rps, p50: pct('50'), p99: pct('99') }
}

function builtinSpec(url: string) {
  return resolveLoadSpec(
    {
      request: 'GET /',
      connections: CONNECTIONS,
      duration: `${DURATION_S}s`,
      maxRequests: 5_000_000,
      engine: 'builtin',
    },
    { serviceUrl: url, service: 'bench', planDir: '.' },
  )
}

async function runBuiltin(url: string): Promise<Measured> {
  const spec = builtinSpec(url)
  const { samples } = await runBuiltinSegment(
    spec,
    { side: 'bench', baseUrl: url, headers: {} },
    { durationMs: DURATION_S * 1000, maxRequests: spec.maxRequests, signal: new AbortController().signal },
  )
  const m = samples.toMetrics('builtin', ['med', 'p(99)'])
  const d = m.metrics.http_req_duration
  const r = m.metrics.http_reqs
  if (d?.type !== 'trend' || r?.type !== 'counter') throw new Error('builtin engine measured nothing')
  return { rps: r.values.rate, p50: d.values.med!, p99: d.values['p(99)']! }
}

const fmt = (m: Measured) =>
  `${Math.round(m.rps)} req/s, p50 ${m.p50.toFixed(3)} ms, p99 ${m.p99.toFixed(3)} ms`

export const bench: Bench = {
  name: 'load engine vs wrk',
  async run(log) {
    if (spawnSync('wrk', ['--version']).error) {
      log(
        'wrk is not installed: `apt-get install -y wrk` (Debian/Ubuntu) or `brew install wrk`; goals not measured',
      )
      return [
        {
          label: 'built-in rate / wrk rate (wrk missing: not measured)',
          value: 0,
          unit: 'x',
          goal: '>= 0.5x',
          met: false,
        },
      ]
    }
    const goals: BenchGoal[] = []
    const fast = await startServer(0)
    try {
      const wrk = runWrk(fast.url)
      const builtin = await runBuiltin(fast.url)
      log(`max rate, ${CONNECTIONS} connections, ${DURATION_S}s, immediate answers`)
      log(`  wrk      ${fmt(wrk)}`)
      log(`  built-in ${fmt(builtin)}`)
      const ratio = builtin.rps / wrk.rps
      goals.push({
        label: 'built-in rate / wrk rate (closed model)',
        value: ratio,
        unit: 'x',
        goal: '>= 0.5x',
        met: ratio >= 0.5,
      })
      // Segments one after the other, as a load check's rounds run: the median segment's wall time.
      const spec = builtinSpec(fast.url)
      const walls: number[] = []
      for (let i = 0; i < SEGMENTS; i++) {
        const begin = performance.now()
        await runBuiltinSegment(
          spec,
          { side: 'bench', baseUrl: fast.url, headers: {} },
          { durationMs: SEGMENT_MS, maxRequests: spec.maxRequests, signal: new AbortController().signal },
        )
        walls.push(performance.now() - begin)
      }
      const wall = median(walls)
      log(
        `${SEGMENTS} segments of ${SEGMENT_MS} ms one after the other: median ${wall.toFixed(0)} ms, longest ${Math.max(...walls).toFixed(0)} ms`,
      )
      goals.push({
        label: `${SEGMENT_MS} ms segment's wall time / ${SEGMENT_MS} ms (median of ${SEGMENTS})`,
        value: wall / SEGMENT_MS,
        unit: 'x',
        goal: '<= 1.1x',
        met: wall / SEGMENT_MS <= 1.1,
      })
    } finally {
      fast.child.kill()
    }
    const slow = await startServer(DELAY_MS)
    try {
      const wrk = runWrk(slow.url)
      const builtin = await runBuiltin(slow.url)
      log(`same rate, ${CONNECTIONS} connections, ${DURATION_S}s, answers after ${DELAY_MS} ms`)
      log(`  wrk      ${fmt(wrk)}`)
      log(`  built-in ${fmt(builtin)}`)
      log(`  rate ratio ${(builtin.rps / wrk.rps).toFixed(3)}`)
      for (const p of ['p50', 'p99'] as const) {
        const ratio = builtin[p] / wrk[p]
        goals.push({
          label: `built-in ${p} / wrk ${p} (same rate)`,
          value: ratio,
          unit: 'x',
          goal: '0.8x..1.2x',
          met: ratio >= 0.8 && ratio <= 1.2,
        })
      }
    } finally {
      slow.child.kill()
    }
    return goals
  },
}
