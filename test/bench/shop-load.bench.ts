/**
 * The shop's whole `vigil run` (every plan), clean and with `slow-lookup`, with the load checks'
 * sequential decisions on and off (`regression: { sequential: false }`, fixed rounds), five interleaved
 * runs each (`npm run bench shop-load`). The fixed-round runs use a copy of the shop whose load plan
 * says `sequential: false`; everything else is the same. Goals: the clean run's verdict with sequential
 * decisions at most 0.5× the fixed-round run's and at most 1.3× 5.10 s (the slowest sandbox start plus
 * the slowest single check, measured when the load checks took 9.43 s of a 10.74 s run); `slow-lookup`
 * fails every time. The runs take the shop's plans of the kinds it had when those figures were measured
 * (contract, e2e, load, adversarial, event): the failure-mode and database plans added since (fault, race,
 * resources, data, migration) cost the same whatever the load decision does, and would only dilute the
 * ratio; the plans' list is read from the shop, so a new plan of those kinds is in. `VIGIL_BENCH_SHOP_ALL=1`
 * runs every plan.
 */
import { cp, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { runValidation } from '../../engine/run/run.js'
import type { Verdict } from '../../engine/verdict.js'
import { median, type Bench } from './harness.js'

const repo = fileURLToPath(new URL('../../', import.meta.url))
const RUNS = Number(process.env.VIGIL_BENCH_SHOP_RUNS ?? 5)
const BOUND_MS = 5100
/** Kinds the shop's plans had when the goal's figures were measured. */
const MEASURED_KINDS = new Set(['contract', 'e2e', 'load', 'adversarial', 'event'])

/** The shop's plans whose every check block is of those kinds (a block opens with ``` and its kind). */
async function plansOfMeasuredKinds(plansDir: string): Promise<string[] | undefined> {
  if (process.env.VIGIL_BENCH_SHOP_ALL === '1') return undefined
  const names: string[] = []
  for (const file of (await readdir(plansDir)).filter((f) => f.endsWith('.md')).sort()) {
    const text = await readFile(path.join(plansDir, file), 'utf8')
    const kinds = [...text.matchAll(/^```(\w+)\s*$/gm)].map((m) => m[1]!)
    const name = /^name:\s*(\S+)/m.exec(text)?.[1] ?? file.replace(/\.md$/, '')
    if (kinds.length > 0 && kinds.every((k) => MEASURED_KINDS.has(k))) names.push(name)
  }
  return names
}

type Mode = 'sequential' | 'fixed'

function loadRounds(verdict: Verdict): string {
  return verdict.plans
    .flatMap((p) => p.checks)
    .filter((c) => c.kind === 'load')
    .map((c) => {
      const d = 'findings' in c ? c.findings.find((f) => f.messageId === 'decision') : undefined
      const details = (d?.evidence?.details ?? {}) as { rounds?: number; stoppedBecause?: string }
      return `${c.check}: ${details.rounds ?? '?'} rounds (${details.stoppedBecause ?? c.state})`
    })
    .join('; ')
}

export const bench: Bench = {
  name: 'shop run with sequential load decisions',
  async run(log) {
    // A copy of the shop whose load plan runs fixed rounds.
    const dir = await mkdtemp(path.join(tmpdir(), 'vigil-bench-shop-'))
    const fixedShop = path.join(dir, 'shop')
    await cp(path.join(repo, 'samples/shop'), fixedShop, { recursive: true })
    // The copy's services import the shop's packages (the bus and database drivers) from the repository's.
    await symlink(path.join(repo, 'node_modules'), path.join(dir, 'node_modules'), 'dir')
    const plan = path.join(fixedShop, 'plans/checkout-load.md')
    const text = await readFile(plan, 'utf8')
    const fixedText = text.replace(/(regression: \{[^}\n]*rounds: \d+) \}/g, '$1, sequential: false }')
    if (fixedText.match(/sequential: false/g)?.length !== 2)
      throw new Error(`${plan}: expected a \`regression: { …, rounds: N }\` in both load blocks`)
    await writeFile(plan, fixedText)
    const configs: Record<Mode, string> = {
      sequential: path.join(repo, 'samples/shop/vigil.config.yaml'),
      fixed: path.join(fixedShop, 'vigil.config.yaml'),
    }
    const planNames = await plansOfMeasuredKinds(path.join(repo, 'samples/shop/plans'))
    log(`plans: ${planNames ? planNames.join(', ') : 'every plan of the shop'}`)
    const times: Record<string, number[]> = {}
    let slowPassed = 0
    const loads: number[] = []
    try {
      for (let i = 0; i < RUNS; i++) {
        for (const mode of ['sequential', 'fixed'] as const) {
          for (const change of ['clean', 'slow-lookup'] as const) {
            const started = performance.now()
            const verdict = await runValidation({
              configPath: configs[mode],
              cwd: mode === 'fixed' ? fixedShop : repo,
              ...(planNames ? { planNames } : {}),
              ...(change === 'slow-lookup'
                ? { patch: path.join(repo, 'samples/shop/changes/slow-lookup.patch') }
                : {}),
            })
            const ms = performance.now() - started
            loads.push(loadavg()[0]!)
            ;(times[`${mode} ${change}`] ??= []).push(ms)
            if (change === 'slow-lookup' && verdict.status !== 'fail') slowPassed++
            if (change === 'clean' && verdict.status !== 'pass')
              log(
                `  run ${i + 1} ${mode} clean: verdict ${verdict.status} (${JSON.stringify(verdict.errors)})`,
              )
            log(
              `${mode.padEnd(10)} ${change.padEnd(11)} run ${i + 1}: ${verdict.status} in ${Math.round(ms)} ms — ${loadRounds(verdict)}`,
            )
          }
        }
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
    const m = (k: string) => median(times[k] ?? [0])
    for (const k of Object.keys(times)) log(`${k}: median ${Math.round(m(k))} ms`)
    log(`load average during the runs: ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`)
    const ratio = m('sequential clean') / m('fixed clean')
    const toBound = m('sequential clean') / BOUND_MS
    return [
      {
        label: 'clean run, sequential / fixed rounds',
        value: ratio,
        unit: 'x',
        goal: '<= 0.5x',
        met: ratio <= 0.5,
      },
      {
        label: 'clean run, sequential / 5.10 s bound',
        value: toBound,
        unit: 'x',
        goal: '<= 1.3x',
        met: toBound <= 1.3,
      },
      {
        label: 'slow-lookup runs that did not fail',
        value: slowPassed,
        unit: `of ${RUNS * 2}`,
        goal: '0',
        met: slowPassed === 0,
      },
    ]
  },
}
