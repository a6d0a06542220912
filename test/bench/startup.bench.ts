/**
 * Start-up cost of the CLI as a user runs it (`bin/vigil.js`, the built JavaScript): `vigil --help`,
 * `vigil plans lint` on the sample shop and `vigil select --selector rules` on a shop change, each as the
 * CPU time (user + system) of its process against bare `node -e 0` measured in the same run. CPU time, not
 * wall time, so a busy machine does not move the figure much; the median of several runs.
 * Goals: `--help` within 3x of bare node, `plans lint` on the shop within 6x.
 * The same commands run from the TypeScript sources through tsx (`npm run vigil`) are printed beside them.
 */
import { spawn } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildIfStale } from '../support/build.js'
import { median } from './harness.js'
import type { Bench, BenchGoal } from './harness.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const probe = path.join(root, 'test/bench/cpu-probe.cjs')
const RUNS = 9
const WARMUP = 1

const shop = ['--config', 'samples/shop/vigil.config.yaml']
const commands = {
  help: ['--help'],
  lint: ['plans', 'lint', ...shop],
  select: ['select', '--selector', 'rules', ...shop, '--patch', 'samples/shop/changes/slow-lookup.patch'],
}

/** CPU milliseconds (user + system) of one `node <args>` process, reported by the preloaded probe. */
function cpuOf(args: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', probe, ...args], {
      cwd: root,
      env: { ...process.env, NO_COLOR: '1', ANTHROPIC_API_KEY: '' },
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    })
    let usage = ''
    let stderr = ''
    child.stdio[3]!.on('data', (chunk: Buffer) => (usage += chunk.toString()))
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.on('error', reject)
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`node ${args.join(' ')} exited ${code}\n${stderr}`))
      const { user, system } = JSON.parse(usage) as { user: number; system: number }
      resolve((user + system) / 1000)
    })
  })
}

/**
 * Median CPU milliseconds of each command, the runs interleaved (peer, then each command, then again) so
 * that a change in the machine's load falls on all of them alike.
 */
async function measure(variants: Record<string, readonly string[]>): Promise<Record<string, number>> {
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]))
  for (let run = 0; run < WARMUP + RUNS; run++) {
    for (const [name, args] of Object.entries(variants)) {
      const ms = await cpuOf(args)
      if (run >= WARMUP) samples[name]!.push(ms)
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]))
}

export const bench: Bench = {
  name: 'CLI start-up',
  async run(log) {
    await buildIfStale()
    const built = path.join(root, 'bin/vigil.js')
    const sources = path.join(root, 'bin/vigil-dev.js')
    const cpu = await measure({
      node: ['-e', '0'],
      ...Object.fromEntries(Object.entries(commands).map(([k, args]) => [k, [built, ...args]])),
      ...Object.fromEntries(Object.entries(commands).map(([k, args]) => [`tsx ${k}`, [sources, ...args]])),
    })
    const node = cpu.node!
    const ratio = (name: string) => cpu[name]! / node
    log(`node -e 0: ${node.toFixed(0)} ms CPU (median of ${RUNS})`)
    for (const name of Object.keys(commands)) {
      log(
        `vigil ${commands[name as keyof typeof commands].join(' ')}: ` +
          `${cpu[name]!.toFixed(0)} ms CPU (${ratio(name).toFixed(2)}x node); ` +
          `from the sources through tsx ${cpu[`tsx ${name}`]!.toFixed(0)} ms (${ratio(`tsx ${name}`).toFixed(2)}x)`,
      )
    }
    const goals: BenchGoal[] = [
      {
        label: 'vigil --help CPU / node -e 0',
        value: ratio('help'),
        unit: 'x',
        goal: '<= 3x',
        met: ratio('help') <= 3,
      },
      {
        label: 'vigil plans lint (shop) CPU / node -e 0',
        value: ratio('lint'),
        unit: 'x',
        goal: '<= 6x',
        met: ratio('lint') <= 6,
      },
    ]
    return goals
  },
}
