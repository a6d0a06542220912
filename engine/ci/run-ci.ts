/**
 * `runCi`: one pass of CI over a change — its diff (a patch, or the working tree against the merge base
 * of a base ref), the selection (or a record read from a file), sandboxes built from that same base,
 * the run, the reporters and the artefact files. The selection is written before anything starts, so
 * it is there for the artefacts even when the run cannot start. Every file goes into the run's own
 * folder (see run-folder.ts), which `--out` links to once the run ends.
 */
import { randomUUID } from 'node:crypto'
import path from 'node:path'
import { loadConfig } from '../../plans/config.js'
import { formatDiagnostic } from '../../plans/diagnostics.js'
import { createReporter, finalExitCode } from '../../reporters/index.js'
import type { OutputStream } from '../../reporters/index.js'
import { writeFileAtomic } from '../../reporters/output.js'
import { gitLocation, readSelectionRecord, toVerdictSelection } from '../../selectors/index.js'
import type { ParsedDiff, SelectionRecord } from '../../selectors/index.js'
import { renderSelection } from '../../selectors/render.js'
import { UsageError } from '../errors.js'
import { interruptedSignal, SIGNAL_EXIT_CODES, type InterruptSignal } from '../lifecycle.js'
import { loadPlansForRun } from '../run/load-plans.js'
import { runValidation } from '../run/run.js'
import type { RunReporter } from '../run/run.js'
import { configRedactor } from '../vars.js'
import type { TimingEntry, Verdict } from '../verdict.js'
import { defaultBase, mergeBase } from './base.js'
import { changeOfRecord, resolveChange } from './change.js'
import type { ChangeSpec } from './change.js'
import {
  artefactPaths,
  ciReporterSpecs,
  extrasUseStdout,
  ownOutputs,
  rememberWritten,
  renderArtefacts,
  WRITTEN_LIST,
} from './outputs.js'
import type { CiArtefacts } from './outputs.js'
import {
  checkOutTarget,
  createRunFolder,
  DEFAULT_KEEP_RUNS,
  finishRunFolder,
  publishRun,
  pruneRuns,
} from './run-folder.js'
import { selectChange } from './selection.js'
import { selectionCoverage } from '../run/coverage.js'

export interface CiOptions {
  /** vigil.config.yaml. @default `vigil.config.yaml` in `cwd` */
  configPath?: string
  /** @default process.cwd() */
  cwd?: string
  /** Base ref of the change. @default the merge base with the default branch (see `defaultBase`) */
  base?: string
  /** A patch instead of a base: the diff is the patch, the candidate a patched copy of the config folder. */
  patch?: string
  /** A selection record (`vigil select --out`) to run instead of selecting. */
  selectionFile?: string
  /** `rules`, `llm` or `hybrid`. @default hybrid with an API key, else rules */
  selector?: string
  /** Deadline of the whole LLM selection, e.g. `30s`. @default the config's `selector.deadline`, else 60s */
  selectorDeadline?: string
  /** Where the artefacts are found once the run ends: a link to the run's own folder. @default `.vigil/ci` */
  outDir?: string
  /** Also write the JUnit XML here (it is always in the run's folder as `junit.xml`). */
  junit?: string
  /** Run folders kept in `.vigil/runs`. @default env VIGIL_KEEP_RUNS, else 20 */
  keepRuns?: number
  /** More `--reporter` specs on top of the console and the artefact files. @default [] */
  reporters?: string[]
  /** @default 1 */
  seed?: number
  requester?: string
  /** @default process.env */
  env?: NodeJS.ProcessEnv
  stdout: OutputStream
  stderr: OutputStream
  /** Whether stdout is a terminal (the console redraws in place). @default false */
  isTTY?: boolean
  signal?: AbortSignal
}

export interface CiResult {
  verdict: Verdict
  record: SelectionRecord
  files: CiArtefacts
  /** The verdict's exit code, or 3 when a reporter failed on a passing run. */
  exitCode: number
}

export async function runCi(options: CiOptions): Promise<CiResult> {
  const startedAt = new Date()
  const started = performance.now()
  const cwd = path.resolve(options.cwd ?? process.cwd())
  const env = options.env ?? process.env
  if (options.patch !== undefined && options.base !== undefined)
    throw new UsageError('ci: give --base or --patch, not both (the patch is applied to the working tree)')
  if (options.selectionFile !== undefined && options.selector !== undefined)
    throw new UsageError('ci: --selector has no effect with --selection (the record already chose the plans)')
  if (options.selectionFile !== undefined && options.selectorDeadline !== undefined)
    throw new UsageError('ci: --selector-deadline has no effect with --selection (no selection is made)')

  const extras = options.reporters ?? []
  const io = { stdout: options.stdout, stderr: options.stderr, env, cwd, isTTY: options.isTTY === true }
  const human = extrasUseStdout(extras, io) ? options.stderr : options.stdout
  const say = (text: string) => void human.write(text.endsWith('\n') ? text : `${text}\n`)
  const runId = randomUUID()
  const files = artefactPaths({ cwd, runId, outDir: options.outDir, junit: options.junit, env })
  const keepRuns = options.keepRuns ?? keepRunsFromEnv(env.VIGIL_KEEP_RUNS)
  // The `vigil reproduce` lines name the stable link (`.vigil/ci/verdict.json`), not the run's own folder.
  const verdictPath = path.relative(cwd, path.join(files.out, 'verdict.json'))
  const specs = ciReporterSpecs(files, extras, cwd)
  const reporter = createReporter(specs, { ...io, verdictPath })
  await checkOutTarget(files.out, options.outDir ?? path.relative(cwd, files.out))

  const loaded = await loadConfig(options.configPath, cwd)
  const shownConfig = path.relative(cwd, loaded.file) || loaded.file
  say(`vigil ci · config ${shownConfig}`)
  const timings: TimingEntry[] = []
  const timed = async <T>(phase: string, work: () => Promise<T>): Promise<T> => {
    const begin = performance.now()
    try {
      return await work()
    } finally {
      timings.push({ phase, durationMs: Math.round(performance.now() - begin) })
    }
  }

  let record: SelectionRecord
  let diff: ParsedDiff | undefined
  let runBase: string | undefined
  let runPatch: string | undefined
  if (options.selectionFile !== undefined && options.patch === undefined && options.base === undefined) {
    record = await timed('selection', () => readSelectionRecord(path.resolve(cwd, options.selectionFile!)))
    ;({ runBase, runPatch } = changeOfRecord(record))
    if (runBase === undefined && runPatch === undefined) runBase = await mergeBaseOfDefault()
    say(`Selection: ${options.selectionFile} (${record.diff.source} diff ${record.diff.hash.slice(0, 19)}…)`)
    say(`Change: ${runPatch ? `candidate with ${runPatch} applied` : `baseline at ${runBase}`}`)
  } else {
    const spec = await changeSpec()
    const where = await gitLocation(loaded.dir)
    const exclude = await ownOutputs({ files, specs, io, configDir: loaded.dir })
    const change = await timed('diff', () =>
      resolveChange(spec, {
        configDir: loaded.dir,
        cwd,
        location: where,
        exclude,
      }),
    )
    runBase = change.runBase
    runPatch = change.runPatch
    diff = change.diff
    say(`Change: ${change.describe}`)
    if (options.selectionFile !== undefined) {
      record = await readSelectionRecord(path.resolve(cwd, options.selectionFile))
      if (record.diff.hash !== change.diff.hash)
        say(`warning: ${options.selectionFile} was made for another diff (${record.diff.hash.slice(0, 19)}…)`)
    } else {
      record = await timed('selection', async () => {
        const catalog = await loadPlansForRun(loaded, undefined, cwd)
        // Broken plans are left out of the selection here; the run reports them as plan errors.
        for (const d of catalog.diagnostics) options.stderr.write(`vigil: ${formatDiagnostic(d)}\n`)
        return selectChange({
          loaded,
          plans: catalog.plans,
          change,
          flags: {
            ...(options.selector === undefined ? {} : { selector: options.selector }),
            ...(options.selectorDeadline === undefined ? {} : { deadline: options.selectorDeadline }),
          },
          env,
          cwd,
          ...(options.signal ? { signal: options.signal } : {}),
        })
      })
    }
  }
  const manifest = await createRunFolder(files.runDir, runId)
  // A record given with --selection is copied as it was written: redact it like one selected here.
  record = configRedactor(loaded, env).json(record)
  await writeFileAtomic(files.selection, `${JSON.stringify(record, null, 2)}\n`)
  say(`\n${renderSelection(record)}\n`)
  if (diff) {
    const uncovered = await selectionCoverage(loaded, diff, record, cwd)
    if (uncovered) say(`Coverage: ${uncovered}.\n`)
  }
  if (record.plans.length === 0)
    say('No plans apply to this change: nothing to run, no sandboxes started. The verdict passes.\n')

  // The verdict covers the whole command: its own phases come first, and its clock starts with the diff.
  const final = new WeakMap<Verdict, Verdict>()
  const withTimings = (verdict: Verdict): Verdict => {
    let out = final.get(verdict)
    if (!out) {
      out = {
        ...verdict,
        startedAt: startedAt.toISOString(),
        durationMs: Math.round(performance.now() - started),
        timings: [...timings, ...verdict.timings],
      }
      final.set(verdict, out)
    }
    return out
  }
  const wrapped: RunReporter = {
    onRunStart: (info) => reporter.onRunStart?.(info),
    onCheckStart: (event) => reporter.onCheckStart?.(event),
    onCheckProgress: (event) => reporter.onCheckProgress?.(event),
    onCheckEnd: (result) => reporter.onCheckEnd?.(result),
    onRunEnd: (verdict) => reporter.onRunEnd?.(withTimings(verdict)),
  }
  const verdict = withTimings(
    await runValidation({
      configPath: loaded.file,
      cwd,
      base: runBase,
      patch: runPatch,
      selection: toVerdictSelection(record),
      seed: options.seed,
      requester: options.requester,
      runId,
      reporter: wrapped,
      env,
      log: (line) => void options.stderr.write(`vigil: ${line}\n`),
      ...(options.signal ? { signal: options.signal } : {}),
    }),
  )
  let exitCode = finalExitCode(verdict, reporter.failures)
  await rememberWritten(files, specs, io, loaded.dir).catch((error: unknown) => {
    options.stderr.write(`vigil: ${WRITTEN_LIST} was not updated: ${(error as Error).message}\n`)
  })
  // The manifest says how the run ended (an interrupted one exits with its signal's code); then the run
  // becomes what `--out` shows, in one rename.
  const signal = interruptedSignal() as InterruptSignal | undefined
  let published = false
  try {
    await finishRunFolder(files.runDir, manifest, {
      exitCode: signal ? SIGNAL_EXIT_CODES[signal] : exitCode,
      verdict: verdict.status,
      out: files.out,
      ...(signal ? { interrupted: signal } : {}),
    })
    await publishRun(files.runDir, files.out)
    published = true
  } catch (error) {
    options.stderr.write(
      `vigil: ${path.relative(cwd, files.out) || files.out} was not updated: ${(error as Error).message}\n`,
    )
    if (exitCode === 0) exitCode = 3
  }
  await pruneRuns(path.dirname(files.runDir), keepRuns, [files.runDir]).catch((error: unknown) => {
    options.stderr.write(`vigil: old run folders were not pruned: ${(error as Error).message}\n`)
  })
  say(`\n${renderArtefacts(files, cwd, published)}`)
  return { verdict, record, files, exitCode }

  function keepRunsFromEnv(value: string | undefined): number {
    if (value === undefined || value.trim() === '') return DEFAULT_KEEP_RUNS
    const n = Number(value)
    if (!Number.isInteger(n) || n < 1)
      throw new UsageError(`VIGIL_KEEP_RUNS=${value}: expected an integer >= 1`)
    return n
  }

  async function changeSpec(): Promise<ChangeSpec> {
    if (options.patch !== undefined) return { kind: 'patch', file: options.patch }
    if (options.base !== undefined) {
      say(`Base: ${options.base} (--base)`)
      return { kind: 'base', ref: options.base }
    }
    const found = await defaultBase(loaded.dir, env)
    say(`Base: ${found.ref} (${found.reason}; pass --base REF to choose another)`)
    return { kind: 'base', ref: found.ref }
  }

  async function mergeBaseOfDefault(): Promise<string> {
    const found = await defaultBase(loaded.dir, env)
    const commit = await mergeBase(found.ref, loaded.dir)
    say(`Base: ${found.ref} (${found.reason}), merge base ${commit.slice(0, 12)}`)
    return commit
  }
}
