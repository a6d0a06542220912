/** `vigil run`: run the plans against the sandboxes and exit with the verdict's code. */
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { Option, type Command } from 'commander'
import { createReporter, finalExitCode } from '../../../reporters/index.js'
import { parseSelectionRecord, toVerdictSelection } from '../../../selectors/record.js'
import { UsageError } from '../../errors.js'
import { executors } from '../../executors/index.js'
import { installSignalHandlers } from '../../lifecycle.js'
import { runValidation } from '../../run/run.js'
import type { VerdictSelection } from '../../verdict.js'

export interface RunCommandOptions {
  config?: string
  base?: string
  patch?: string
  plan: string[]
  concurrency?: number
  seed?: number
  reporter: string[]
  json?: boolean
  baseline: boolean
  requester?: string
  selection?: string
  executor?: string
}

const collect = (value: string, previous: string[]) => [...previous, value]

function integer(name: string, min: number) {
  return (value: string): number => {
    const n = Number(value)
    if (!Number.isInteger(n) || n < min)
      throw new UsageError(`${name} ${value}: expected an integer >= ${min}`)
    return n
  }
}

/** Reads a selection record (`vigil select --json` output, or the verdict's `selection`). */
async function readSelection(file: string, cwd: string): Promise<VerdictSelection> {
  let raw: unknown
  try {
    raw = JSON.parse(await readFile(path.resolve(cwd, file), 'utf8'))
  } catch (error) {
    throw new UsageError(
      `--selection ${file}: cannot read a JSON selection record: ${(error as Error).message}`,
    )
  }
  // A record written by `vigil select` is validated against its published schema, then run exactly.
  if (raw && typeof raw === 'object' && 'diff' in raw && 'schemaVersion' in raw) {
    try {
      return toVerdictSelection(parseSelectionRecord(raw, `--selection ${file}`))
    } catch (error) {
      throw new UsageError((error as Error).message, { cause: error })
    }
  }
  const record = (raw as { selection?: unknown })?.selection ?? raw
  const plans = (record as { plans?: unknown })?.plans
  if (!Array.isArray(plans) || !plans.every((p) => typeof (p as { name?: unknown })?.name === 'string')) {
    throw new UsageError(`--selection ${file}: expected an object with "plans": [{ "name": ... }]`)
  }
  const r = record as Partial<VerdictSelection>
  const selection: VerdictSelection = {
    selector: typeof r.selector === 'string' ? r.selector : 'file',
    plans: plans.map((p: { name: string; source?: unknown; reason?: unknown }) => ({
      name: p.name,
      source: (typeof p.source === 'string'
        ? p.source
        : 'manual') as VerdictSelection['plans'][number]['source'],
      reason: typeof p.reason === 'string' ? p.reason : `listed in ${file}`,
    })),
  }
  for (const key of ['model', 'degraded', 'degradedReason', 'diffHash'] as const) {
    if (r[key] !== undefined) (selection as unknown as Record<string, unknown>)[key] = r[key]
  }
  return selection
}

export async function runCommand(options: RunCommandOptions): Promise<number> {
  const cwd = process.cwd()
  const specs = [
    ...(options.reporter.length ? options.reporter : ['console']),
    ...(options.json ? ['json'] : []),
  ]
  const reporter = createReporter([...new Set(specs)], {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd,
    isTTY: process.stdout.isTTY === true,
  })
  const selection = options.selection ? await readSelection(options.selection, cwd) : undefined
  const controller = new AbortController()
  const running = runValidation({
    configPath: options.config,
    cwd,
    base: options.base,
    patch: options.patch,
    baseline: options.baseline,
    planNames: options.plan,
    selection,
    concurrency: options.concurrency,
    seed: options.seed,
    requester: options.requester,
    executor: options.executor,
    reporter,
    signal: controller.signal,
    log: (line) => process.stderr.write(`vigil: ${line}\n`),
  })
  // Ctrl-C: cancel in-flight checks; the verdict is still reported before the process exits 130.
  installSignalHandlers(() => {
    process.stderr.write('vigil: interrupted, cancelling the checks in flight…\n')
    controller.abort()
    return running.then(() => undefined)
  })
  const verdict = await running
  return finalExitCode(verdict, reporter.failures)
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('Run the plans against a candidate (and baseline) sandbox and print one verdict')
    .option('-c, --config <file>', 'vigil.config.yaml to use (default: ./vigil.config.yaml)')
    .option('--base <ref>', 'git ref the baseline runs from (default: the working tree)')
    .option('--patch <file>', 'patch applied to the candidate (paths relative to the config folder)')
    .option('-p, --plan <name>', 'run only this plan (repeatable)', collect, [])
    .option('--selection <file>', 'run the plans of a selection record (JSON from `vigil select --json`)')
    .option('--concurrency <n>', 'checks run at once (default: the config)', integer('--concurrency', 1))
    .option('--seed <n>', 'seed of generated inputs (default: 1)', integer('--seed', 0))
    .option(
      '-r, --reporter <name[:path]>',
      'console, json, junit:out.xml, markdown:out.md (repeatable)',
      collect,
      [],
    )
    .option('--json', 'print the JSON verdict on stdout (the live console moves to stderr)')
    .option('--no-baseline', 'do not start a baseline sandbox (checks that need one are skipped)')
    .addOption(
      new Option(
        '--executor <kind>',
        'where checks run: local, or kubernetes Jobs (default: the config)',
      ).choices(Object.keys(executors)),
    )
    .addOption(
      new Option('--requester <name>', 'who asked for the run (recorded in the verdict)').env(
        'VIGIL_REQUESTER',
      ),
    )
    .action(async (options: RunCommandOptions) => {
      process.exitCode = await runCommand(options)
    })
}
