/**
 * Loading and validating 1,000 generated plans (a few checks each) against reading the same files' bytes,
 * in the same run, with the block schemas of the kinds' registry, as a run and `vigil plans lint` load
 * them. Goals: at most 3x the read cost, and under 300 ms in total.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { loadPlans } from '../../plans/index.js'
import { checkSchemas } from '../../engine/run/load-plans.js'
import { median, seededRandom, timeRuns } from './harness.js'
import type { Bench } from './harness.js'

const PLAN_COUNT = 1_000
const RUNS = 15
const WARMUP = 3

const SERVICES = ['orders', 'catalog', 'payments', 'users', 'search']

/** One plan file: frontmatter, prose, and 2–4 checks of mixed kinds. */
export function generatePlan(i: number, next: () => number): string {
  const service = SERVICES[i % SERVICES.length]!
  const blocks: string[] = []
  const count = 2 + Math.floor(next() * 3)
  for (let c = 0; c < count; c++) {
    const pick = Math.floor(next() * 4)
    if (pick === 0) {
      blocks.push(`## ${service} item ${c} matches its schema
\`\`\`contract
service: ${service}
request: GET /${service}/{{id}}
expect: { status: 200, schema: ./schemas/${service}.json }
compare: baseline
\`\`\``)
    } else if (pick === 1) {
      blocks.push(`## Create and read back ${c}
\`\`\`e2e
steps:
  - name: create
    service: ${service}
    request: { method: POST, path: /${service}, json: { sku: tea, quantity: ${c + 1} } }
    expect: { status: 201 }
    capture: { id: /id }
  - name: read it back
    request: GET /${service}/{{id}}
    expect: { status: 200, json: { /id: { equals: "{{id}}" } } }
\`\`\``)
    } else if (pick === 2) {
      blocks.push(`\`\`\`load ${service} under load ${c}
service: ${service}
request: GET /${service}
rate: ${50 + Math.floor(next() * 200)}/s
duration: 10s
thresholds: { http_req_duration: ["p(95)<50"], http_req_failed: ["rate<0.01"] }
regression: { p95: 1.25 }
\`\`\``)
    } else {
      blocks.push(`\`\`\`adversarial
openapi: ../openapi.yaml
operations: [create${service}, get${service}]
principals: { owner: "{{secrets.alice}}", other: "{{secrets.bob}}" }
cases: 300
oracles: [no-server-error, rejects-invalid, no-leak, authz]
\`\`\``)
    }
  }
  return `---
name: plan-${String(i).padStart(4, '0')}-${service}
title: ${service} behaves (${i})
selectionHint: >
  Validates the ${service} API, its schema and its latency. Pick when a change touches
  services/${service}, its clients or its message formats.
paths: [services/${service}/**]
tags: [${service}, generated]
blocking: ${i % 7 !== 0}
timeout: 120s
---

# ${service} behaves

Why this plan exists and what good looks like, in a few sentences of prose for the humans who read it.

\`\`\`js
// documentation only
fetch('/${service}')
\`\`\`

${blocks.join('\n\n')}
`
}

export const bench: Bench = {
  name: 'plans',
  async run(log) {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-bench-plans-'))
    try {
      const next = seededRandom(42)
      const files: string[] = []
      let bytes = 0
      for (let i = 0; i < PLAN_COUNT; i++) {
        const file = path.join(dir, 'plans', `group-${i % 10}`, `plan-${i}.md`)
        const text = generatePlan(i, next)
        await writeFile(file, text).catch(async () => {
          await import('node:fs/promises').then((fs) => fs.mkdir(path.dirname(file), { recursive: true }))
          await writeFile(file, text)
        })
        files.push(file)
        bytes += Buffer.byteLength(text)
      }
      const schemas = checkSchemas()
      const first = await loadPlans({ roots: ['plans'], cwd: dir, checkSchemas: schemas })
      const errors = first.diagnostics.filter((d) => d.severity === 'error').length
      if (first.plans.length !== PLAN_COUNT || errors > 0) {
        throw new Error(`generated plans should all load: ${first.plans.length} loaded, ${errors} errors`)
      }
      const checks = first.plans.reduce((n, p) => n + p.checks.length, 0)
      log(
        `${PLAN_COUNT} plans, ${checks} checks, ${(bytes / 1024).toFixed(0)} KiB, median of ${RUNS} warm runs, interleaved`,
      )

      // Interleaved, so both sides see the same machine: the ratio is the median of per-pair ratios.
      const readOnce = () => Promise.all(files.map((f) => readFile(f, 'utf8')))
      const loadOnce = () => loadPlans({ roots: ['plans'], cwd: dir, checkSchemas: schemas })
      const reads: number[] = []
      const loads: number[] = []
      const ratios: number[] = []
      for (let i = 0; i < WARMUP + RUNS; i++) {
        const [r] = await timeRuns(readOnce, 1, 0)
        const [l] = await timeRuns(loadOnce, 1, 0)
        if (i < WARMUP) continue
        reads.push(r!)
        loads.push(l!)
        ratios.push(l! / r!)
      }
      const read = median(reads)
      const load = median(loads)
      const ratio = median(ratios)
      log(`read bytes:   ${read.toFixed(1)} ms`)
      log(`load plans:   ${load.toFixed(1)} ms (${Math.round((PLAN_COUNT / load) * 1000)} plans/s)`)
      log(`ratio:        ${ratio.toFixed(2)}x`)
      return [
        {
          label: 'load 1,000 plans / read their bytes',
          value: ratio,
          unit: 'x',
          goal: '<= 3x',
          met: ratio <= 3,
        },
        { label: 'load 1,000 plans', value: load, unit: 'ms', goal: '< 300 ms', met: load < 300 },
      ]
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  },
}
