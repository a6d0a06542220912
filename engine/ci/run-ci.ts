/**
 * `runCi`: one pass of CI over a change — its diff (a patch, or the working tree against the merge base
 * of a base ref), the selection (or a record read from a file), sandboxes built from that same base,
 * the run, the reporters and the artefact files. The selection is written before anything starts, so
 * it is there for the artefacts even when the run cannot start.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { loadConfig } from '../../plans/config.js'
import { formatDiagnostic } from '../../plans/diagnostics.js'
import { createReporter, finalExitCode } from '../../reporters/index.js'
import type { OutputStream } from '../../reporters/index.js'
import { gitLocation, readSelectionRecord, toVerdictSelection } from '../../selectors/index.js'
import type { SelectionRecord } from '../../selectors/index.js'
import { renderSelection } from '../../selectors/render.js'
import { UsageError } from '../errors.js'
import { loadPlansForRun } from '../load-plans.js'
import { runValidation } from '../run.js'
import type { RunReporter } from '../run.js'
import type { TimingEntry, Verdict } from '../verdict.js'
import { defaultBase, mergeBase } from './base.js'
import { changeOfRecord, resolveChange } from './change.js'
import type { ChangeSpec } from './change.js'
import { artefactPaths, ciReporterSpecs, extrasUseStdout, renderArtefacts } from './outputs.js'
import type { CiArtefacts } from './outputs.js'
import { selectChange } from './selection.js'

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
  /** Folder of the artefacts. @default `.vigil/ci` */
  outDir?: string
  /** JUnit file. @default `<outDir>/junit.xml` */
  junit?: string
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
  const files = artefactPaths({ cwd, outDir: options.outDir, junit: options.junit, env })
  const reporter = createReporter(ciReporterSpecs(files, extras), io)

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
    const change = await timed('diff', () =>
      resolveChange(spec, {
        configDir: loaded.dir,
        cwd,
        prefix: where?.prefix ?? '',
        exclude: [
          path.dirname(files.verdict),
          files.junit,
          ...(files.stepSummary ? [files.stepSummary] : []),
        ],
      }),
    )
    runBase = change.runBase
    runPatch = change.runPatch
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
  await mkdir(path.dirname(files.selection), { recursive: true })
  await writeFile(files.selection, `${JSON.stringify(record, null, 2)}\n`)
  say(`\n${renderSelection(record)}\n`)
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
      reporter: wrapped,
      env,
      log: (line) => void options.stderr.write(`vigil: ${line}\n`),
      ...(options.signal ? { signal: options.signal } : {}),
    }),
  )
  say(`\n${renderArtefacts(files, cwd)}`)
  return { verdict, record, files, exitCode: finalExitCode(verdict, reporter.failures) }

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
