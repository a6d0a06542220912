/**
 * A stand-in `k6` executable for runner tests: a small node script that takes k6's command line,
 * sends real requests to VIGIL_BASE_URL (loopback), writes `--out json` points and a handleSummary
 * document in k6's real formats, records its arguments, and exits 0, or 99 when told thresholds failed.
 */
import { chmod, mkdtemp, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

const SCRIPT = `#!/usr/bin/env node
const fs = require('node:fs')
const args = process.argv.slice(2)
const env = {}
let out, exportPath
for (let i = 0; i < args.length; i++) {
  if (args[i] === '-e') { const [k, ...v] = args[++i].split('='); env[k] = v.join('=') }
  else if (args[i] === '--out') out = args[++i].replace(/^json=/, '')
  else if (args[i].startsWith('--summary-export=')) exportPath = args[i].slice('--summary-export='.length)
}
fs.writeFileSync(process.env.STANDIN_ARGS, JSON.stringify({ args, env, script: fs.readFileSync(args.at(-1), 'utf8') }))
if (process.env.STANDIN_MODE === 'crash') { console.error('ERRO[0000] could not initialize script'); process.exit(107) }
if (process.env.STANDIN_MODE === 'hang') { setTimeout(() => {}, 60000); return }
;(async () => {
  const lines = []
  const n = Number(process.env.STANDIN_REQUESTS || 20)
  const durations = []
  for (let i = 0; i < n; i++) {
    const name = i % 4 === 3 ? 'lookup' : 'create'
    const t0 = performance.now()
    const res = await fetch(env.VIGIL_BASE_URL + (name === 'lookup' ? '/products/tea' : '/orders'))
    await res.text()
    const ms = performance.now() - t0
    durations.push(ms)
    const tags = { name, status: String(res.status), method: 'GET', expected_response: 'true', scenario: 'vigil' }
    const time = new Date().toISOString()
    lines.push(JSON.stringify({ metric: 'http_reqs', type: 'Point', data: { time, value: 1, tags } }))
    lines.push(JSON.stringify({ metric: 'http_req_duration', type: 'Point', data: { time, value: ms, tags } }))
    lines.push(JSON.stringify({ metric: 'http_req_failed', type: 'Point', data: { time, value: res.status >= 400 ? 1 : 0, tags } }))
  }
  fs.writeFileSync(out, lines.join('\\n') + '\\n')
  durations.sort((a, b) => a - b)
  const failed = process.env.STANDIN_MODE === 'thresholds-failed'
  const summary = {
    root_group: { name: '', path: '', id: 'x', groups: [], checks: [] },
    options: { summaryTrendStats: ['avg', 'p(95)'], summaryTimeUnit: '', noColor: true },
    state: { isStdOutTTY: false, isStdErrTTY: false, testRunDurationMs: 1000 },
    metrics: {
      http_req_duration: { type: 'trend', contains: 'time', values: { avg: durations[0], 'p(95)': durations.at(-1) },
        thresholds: { 'p(95)<1000': { ok: !failed } } },
      http_reqs: { type: 'counter', contains: 'default', values: { count: n, rate: n } },
    },
    setup_data: null,
  }
  if (env.VIGIL_SUMMARY_PATH) fs.writeFileSync(env.VIGIL_SUMMARY_PATH, JSON.stringify(summary))
  if (exportPath) fs.writeFileSync(exportPath, JSON.stringify({ root_group: {}, metrics: {} }))
  process.exit(failed ? 99 : 0)
})()
`

/** Creates a directory holding the stand-in `k6`; put it on PATH or pass its path as `k6.path`. */
export async function createStandInK6(): Promise<{ dir: string; binary: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-standin-k6-'))
  const binary = path.join(dir, 'k6')
  await writeFile(binary, SCRIPT)
  await chmod(binary, 0o755)
  return { dir, binary }
}
