/**
 * The load regression decision on a busy machine (`npm run bench load-decision`). A second process keeps
 * one core busy while the real load check (built-in engine) compares two loopback services, each in its
 * own process, answering after a fixed delay:
 * - identical: baseline and candidate both answer after DELAY_MS — every failure is a false failure;
 * - slower: the candidate answers after 2 × DELAY_MS — against the plan's 1.5× p95 threshold, every run
 *   must fail.
 * Runs alternate identical / slower so that the machine's drift falls on both. Goals: 0 false failures
 * and every slowdown caught, for each decision mode measured; with early stopping, no more false
 * failures and no fewer catches than with fixed rounds. `VIGIL_BENCH_LOAD_RUNS` sets the runs per case
 * (default 20); `VIGIL_BENCH_LOAD_MODES` picks modes (`sequential,fixed`).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { loadavg } from 'node:os'
import type { ReportDescriptor } from '../../engine/api/kind.js'
import type { LoadParams } from '../../engine/kinds/load/spec.js'
import { createCheckContext } from '../support/check-context.js'
import type { Bench, BenchGoal } from './harness.js'

const DELAY_MS = 30
const RUNS = Number(process.env.VIGIL_BENCH_LOAD_RUNS ?? 20)

const SERVER = `
const http = require('node:http')
const delay = Number(process.argv[1])
const server = http.createServer({ keepAliveTimeout: 30000 }, (req, res) => {
  req.resume()
  setTimeout(() => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"ok":true}') }, delay)
})
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'))
process.stdin.on('end', () => process.exit(0)); process.stdin.resume()
`
/** Keeps one core busy until its stdin closes. */
const BURNER = `
process.stdin.on('end', () => process.exit(0)); process.stdin.resume()
const spin = () => { const end = Date.now() + 50; while (Date.now() < end); setImmediate(spin) }
spin()
`

interface Child {
  url: string
  child: ChildProcess
}

async function start(script: string, args: string[] = []): Promise<Child> {
  const child = spawn(process.execPath, ['-e', script, ...args], { stdio: ['pipe', 'pipe', 'inherit'] })
  const port = await new Promise<string>((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`bench process exited with ${code}`)))
    child.stdout!.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()))
  })
  return { url: `http://127.0.0.1:${port}`, child }
}

function stop(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    c.once('exit', () => resolve())
    c.stdin?.end()
  })
}

/**
 * The plan's block: steady closed-model load, p95 at most 1.5× the baseline's, in rounds as short as the shop's
 * load plan has (2 s in 16 rounds: 125 ms per side), the shortest the error rates are held to.
 * `VIGIL_BENCH_LOAD_DURATION` sets another duration (`4s`: 250 ms rounds).
 */
function params(mode: Mode): LoadParams {
  const regression: Record<string, number | boolean> = { p95: 1.5, minDeltaMs: 5, rounds: 16 }
  if (mode === 'fixed') regression.sequential = false
  return {
    request: 'GET /items',
    connections: 16,
    warmup: '300ms',
    duration: process.env.VIGIL_BENCH_LOAD_DURATION ?? '2s',
    engine: 'builtin',
    regression: regression as LoadParams['regression'],
  }
}

/** `today`: the parameters as they were before the sequential decision existed (no `sequential`). */
type Mode = 'sequential' | 'fixed' | 'today'

interface Outcome {
  failed: boolean
  ms: number
  rounds?: number
  ratio?: number
  /** Baseline / candidate p95 over every round. */
  p95s: string
}

async function runOnce(mode: Mode, candidate: string, baseline: string, seed: number): Promise<Outcome> {
  const t = createCheckContext<LoadParams>({
    kind: 'load',
    params: params(mode),
    candidate: { services: { api: candidate } },
    baseline: { services: { api: baseline } },
    timeoutMs: 60_000,
    seed,
  })
  const started = performance.now()
  try {
    await t.run()
  } finally {
    await t.close()
  }
  const ms = performance.now() - started
  const errors = t.findings.filter((f: ReportDescriptor) => (f.severity ?? 'error') === 'error')
  const unexpected = errors.filter((f) => f.messageId !== 'regression')
  if (unexpected.length) throw new Error(`load bed: unexpected finding ${JSON.stringify(unexpected[0])}`)
  const decision = t.findings.find((f) => f.messageId === 'regression' || f.messageId === 'decision')
  const details = (decision?.evidence?.details ?? {}) as { rounds?: number; ratio?: number }
  const p95 = (side: string) =>
    t.findings.find((f) => f.messageId === 'measured' && f.data?.side === side)?.data?.p95
  const out: Outcome = {
    failed: errors.length > 0,
    ms,
    p95s: `p95 ${String(p95('baseline'))}/${String(p95('candidate'))} ms`,
  }
  if (typeof details.rounds === 'number') out.rounds = details.rounds
  if (typeof details.ratio === 'number') out.ratio = details.ratio
  return out
}

export const bench: Bench = {
  name: 'load decision on a busy machine',
  async run(log) {
    const modes = (process.env.VIGIL_BENCH_LOAD_MODES ?? 'sequential,fixed')
      .split(',')
      .map((m) => m.trim()) as Mode[]
    const burner = spawn(process.execPath, ['-e', BURNER], { stdio: ['pipe', 'ignore', 'inherit'] })
    const [base, twin, slow] = await Promise.all([
      start(SERVER, [String(DELAY_MS)]),
      start(SERVER, [String(DELAY_MS)]),
      start(SERVER, [String(DELAY_MS * 2)]),
    ])
    const goals: BenchGoal[] = []
    const tally = new Map<Mode, { falseFailures: number; catches: number; ms: number[]; rounds: number[] }>()
    const loads: number[] = []
    try {
      log(
        `${RUNS} runs per case; one core kept busy; services answer after ${DELAY_MS} ms (slower: ${DELAY_MS * 2} ms); p95 allowed 1.5×`,
      )
      for (let i = 0; i < RUNS; i++) {
        for (const mode of modes) {
          const t = tally.get(mode) ?? { falseFailures: 0, catches: 0, ms: [], rounds: [] }
          tally.set(mode, t)
          const same = await runOnce(mode, twin.url, base.url, 1000 + i)
          const slower = await runOnce(mode, slow.url, base.url, 2000 + i)
          loads.push(loadavg()[0]!)
          if (same.failed) t.falseFailures++
          if (slower.failed) t.catches++
          t.ms.push(same.ms, slower.ms)
          for (const o of [same, slower]) if (o.rounds !== undefined) t.rounds.push(o.rounds)
          log(
            `${mode.padEnd(10)} run ${String(i + 1).padStart(2)}: identical ${same.failed ? 'FAILED' : 'passed'} (${Math.round(same.ms)} ms, ${same.p95s}${same.rounds ? `, ${same.rounds} rounds` : ''}), 2× slower ${slower.failed ? 'caught' : 'MISSED'} (${Math.round(slower.ms)} ms, ${slower.p95s}${slower.rounds ? `, ${slower.rounds} rounds` : ''})`,
          )
        }
      }
    } finally {
      await Promise.all([stop(base.child), stop(twin.child), stop(slow.child), stop(burner)])
    }
    const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length)
    log(
      `load average during the bed: ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} (mean ${avg(loads).toFixed(1)})`,
    )
    for (const [mode, t] of tally) {
      log(
        `${mode}: ${t.falseFailures}/${RUNS} false failures, ${t.catches}/${RUNS} caught, mean check ${Math.round(avg(t.ms))} ms${t.rounds.length ? `, mean rounds ${avg(t.rounds).toFixed(1)}` : ''}`,
      )
      goals.push(
        {
          label: `${mode}: false failures, identical services`,
          value: t.falseFailures,
          unit: `of ${RUNS}`,
          goal: '0',
          met: t.falseFailures === 0,
        },
        {
          label: `${mode}: 2× slowdown caught (1.5× allowed)`,
          value: t.catches,
          unit: `of ${RUNS}`,
          goal: `${RUNS}`,
          met: t.catches === RUNS,
        },
      )
    }
    const seq = tally.get('sequential')
    const fixed = tally.get('fixed')
    if (seq && fixed) {
      goals.push({
        label: 'early stopping: false failures minus fixed rounds’',
        value: seq.falseFailures - fixed.falseFailures,
        unit: '',
        goal: '<= 0',
        met: seq.falseFailures <= fixed.falseFailures,
      })
      goals.push({
        label: 'early stopping: catches minus fixed rounds’',
        value: seq.catches - fixed.catches,
        unit: '',
        goal: '>= 0',
        met: seq.catches >= fixed.catches,
      })
    }
    return goals
  },
}
