/** `vigil run`: run the plans against the sandboxes and exit with the verdict's code. */
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { createReporter, finalExitCode } from '../../../reporters/index.js'
import { parseSelectionRecord, toVerdictSelection } from '../../../selectors/record.js'
import { UsageError } from '../../errors.js'
import { installSignalHandlers } from '../../lifecycle.js'
import { runRecordingImpact } from '../../run/impact-record.js'
import { runValidation, type RunOptions } from '../../run/run.js'
import type { Verdict, VerdictSelection } from '../../verdict.js'

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
  /** `--record-impact [file]`: true, or where to write the map. */
  recordImpact?: boolean | string
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

/** `vigil run`; the verdict's exit code (or the reporters' when one of them failed). */
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
  const runOptions: RunOptions = {
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
  }
  const running = options.recordImpact
    ? recordingRun(runOptions, options.recordImpact)
    : runValidation(runOptions)
  // Ctrl-C: cancel in-flight checks; the verdict is still reported before the process exits 130.
  installSignalHandlers(() => {
    process.stderr.write('vigil: interrupted, cancelling the checks in flight…\n')
    controller.abort()
    return running.then(() => undefined)
  })
  const verdict = await running
  return finalExitCode(verdict, reporter.failures)
}

/** A run that also records the impact map; says where it was written, or why it was not. */
async function recordingRun(options: RunOptions, out: true | string): Promise<Verdict> {
  const cwd = options.cwd ?? process.cwd()
  const result = await runRecordingImpact(options, out === true ? {} : { out })
  const { map, file } = result
  if (map && file)
    process.stderr.write(
      `vigil: wrote ${path.relative(cwd, file) || file}: ${map.plans.length} plans, ` +
        `${Object.keys(map.files).length} files${map.commit ? `, at ${map.commit.slice(0, 12)}` : ''}\n`,
    )
  else process.stderr.write(`vigil: the impact map was not written: ${result.note ?? 'unknown reason'}\n`)
  return result.verdict
}
