/**
 * `npm run demo`: vigil on the sample shop, end to end, as CI would run it. For a faulty change and a
 * clean one it runs `vigil ci --patch samples/shop/changes/<name>.patch` (selection with reasons, live
 * progress, the verdict), compares each verdict with `<name>.expect.json`, prints a table and exits 0
 * only when both are what the expect files say.
 *
 *   npm run demo -- [--faulty NAME] [--clean NAME] [--out DIR]
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import pc from 'picocolors'
import type { Verdict } from '../../../engine/verdict.js'
import {
  compareWithExpectation,
  type ChangeExpectation,
  type Comparison,
  type SelectionSummary,
} from './expect.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')
const shop = 'samples/shop'
const config = `${shop}/vigil.config.yaml`

interface Outcome {
  change: string
  role: string
  expected: ChangeExpectation
  exitCode: number
  seconds: number
  verdict?: Verdict
  selected: string[]
  comparison: Comparison
}

function usage(message: string): never {
  process.stderr.write(
    `demo: ${message}\nusage: npm run demo -- [--faulty NAME] [--clean NAME] [--out DIR]\n`,
  )
  process.exit(2)
}

/** `vigil ci` in a child process, its output on this terminal (live progress included). */
function vigilCi(args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(root, 'bin/vigil.js'), 'ci', ...args], {
      cwd: root,
      stdio: 'inherit',
    })
    child.on('error', () => resolve(3))
    child.on('close', (code, signal) => resolve(code ?? (signal ? 130 : 3)))
  })
}

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T
  } catch {
    return undefined
  }
}

async function runChange(change: string, role: string, outRoot: string, index: number): Promise<Outcome> {
  const expected = (await readJson<ChangeExpectation>(
    path.join(root, shop, 'changes', `${change}.expect.json`),
  ))!
  const out = path.join(outRoot, change)
  const patch = `${shop}/changes/${change}.patch`
  const args = ['--config', config, '--patch', patch, '--out', path.relative(root, out) || out]
  process.stdout.write(
    `\n${pc.bold(`── ${index}/2 · ${change}: ${role} (expected: ${expected.verdict})`)}\n` +
      `${pc.dim(expected.description)}\n\n${pc.cyan(`$ vigil ci ${args.join(' ')}`)}\n\n`,
  )
  const started = performance.now()
  const exitCode = await vigilCi(args)
  const seconds = (performance.now() - started) / 1000
  const verdict = await readJson<Verdict>(path.join(out, 'verdict.json'))
  const selection = (await readJson<SelectionSummary>(path.join(out, 'selection.json'))) ?? {
    plans: [],
    rejected: [],
  }
  const comparison = verdict
    ? compareWithExpectation(expected, verdict, selection)
    : { matches: false, caught: [], notes: [`no verdict was written (vigil ci exited ${exitCode})`] }
  if (verdict && exitCode !== verdict.exitCode) {
    comparison.matches = false
    comparison.notes.push(`vigil ci exited ${exitCode}, the verdict says ${verdict.exitCode}`)
  }
  const selected = selection.plans.map((p) => p.name)
  return { change, role, expected, exitCode, seconds, selected, comparison, ...(verdict ? { verdict } : {}) }
}

function table(outcomes: Outcome[]): string {
  const head = ['change', 'expected', 'verdict', 'exit', 'caught by', 'plans', 'time', '']
  const rows = outcomes.map((o) => [
    o.change,
    o.expected.verdict,
    o.verdict?.status ?? '—',
    String(o.exitCode),
    o.comparison.caught.join(', ') || '—',
    String(o.selected.length),
    `${o.seconds.toFixed(1)}s`,
    o.comparison.matches ? 'as expected' : 'NOT as expected',
  ])
  const widths = head.map((_, i) => Math.max(...[head, ...rows].map((r) => [...r[i]!].length)))
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd()
  const body = rows.map((r, i) => (outcomes[i]!.comparison.matches ? pc.green : pc.red)(line(r)))
  return [pc.dim(line(head)), ...body].join('\n')
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      faulty: { type: 'string', default: 'field-rename' },
      clean: { type: 'string', default: 'additive-field' },
      out: { type: 'string', default: '.vigil/demo' },
    },
  })
  for (const name of [values.faulty, values.clean]) {
    if (!/^[a-z0-9-]+$/.test(name) || !existsSync(path.join(root, shop, 'changes', `${name}.patch`)))
      usage(`no change "${name}" in ${shop}/changes (a <name>.patch with a <name>.expect.json)`)
  }
  const outRoot = path.resolve(root, values.out)
  const llm = Boolean(process.env.ANTHROPIC_API_KEY)
  process.stdout.write(
    `${pc.bold('vigil demo')} — the sample shop (${shop}): catalog, payments and orders as local processes.\n` +
      `Two changes an agent might push, each gated by ${pc.cyan('vigil ci')}: select the plans the diff needs, ` +
      `start a baseline and a candidate, run, one verdict.\n` +
      `Selector: ${llm ? 'hybrid (ANTHROPIC_API_KEY is set: the LLM reads the plan hints, rules are the floor)' : 'rules (offline; set ANTHROPIC_API_KEY to let the LLM choose)'}.\n`,
  )
  const started = performance.now()
  const outcomes: Outcome[] = []
  outcomes.push(await runChange(values.faulty, 'a faulty change', outRoot, 1))
  outcomes.push(await runChange(values.clean, 'a clean change', outRoot, 2))
  const ok = outcomes.every((o) => o.comparison.matches)
  const notes = outcomes.flatMap((o) => o.comparison.notes.map((n) => `  ${o.change}: ${n}`))
  process.stdout.write(
    `\n${pc.bold('── Demo result')}\n\n${table(outcomes)}\n` +
      (notes.length ? `\n${notes.join('\n')}\n` : '') +
      `\nArtefacts (verdict.json, selection.json, junit.xml, summary.md) in ${path.relative(root, outRoot) || outRoot}/<change>/\n` +
      `${ok ? pc.green(pc.bold('Both verdicts are as expected.')) : pc.red(pc.bold('A verdict is not as expected.'))} ` +
      `${((performance.now() - started) / 1000).toFixed(1)}s in all.\n`,
  )
  return ok ? 0 : 1
}

process.exitCode = await main()
