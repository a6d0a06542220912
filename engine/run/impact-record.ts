/**
 * The impact map (selectors/impact.ts), recorded by `vigil impact record` and by any `vigil run
 * --record-impact`: the plans run with coverage on, and the map is written.
 *
 * Attribution is per plan by process lifetime, not through the inspector: V8 writes a process's coverage
 * when it exits cleanly, so each plan gets its own sandboxes, started and stopped around it, one plan after
 * the other (the checks of a plan still run in parallel). Plans of one run never share service processes
 * while coverage is on. The services' start-up is recorded once the same way (started, stopped, no plan)
 * and subtracted, so code that every start runs is nobody's in particular. A baseline runs from a temporary
 * tree outside the source root (or, without `--base`, is the same code): its coverage never lands on
 * another file. A patched candidate (`--patch`) is refused: the map describes the code as committed.
 *
 * The coverage folder contract, for every runtime: each service gets `VIGIL_COVERAGE_DIR` (and, for Node,
 * `NODE_V8_COVERAGE`, the same folder) and writes its coverage there before it exits — V8 JSON
 * (`*.json`) or LCOV (`*.info`: coverage.py's `coverage lcov`, Go's coverage through gcov2lcov, c8, nyc).
 * Relative `SF:` paths in LCOV are read against the source root.
 */
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { loadConfig, type LoadedConfig } from '../../plans/config.js'
import {
  buildImpactMap,
  IMPACT_FILE,
  readImpactMap,
  renderImpactMap,
  type ImpactMap,
} from '../../selectors/impact.js'
import { parseLcov, readV8Coverage, type ExecutedFunction } from '../../selectors/impact-coverage.js'
import { mergeImpactMaps } from '../../selectors/impact-merge.js'
import { UsageError } from '../errors.js'
import { startSandboxes } from '../sandboxes/index.js'
import { configRedactor } from '../vars.js'
import { buildVerdict } from '../verdict-builder.js'
import type { RunStartInfo, Verdict } from '../verdict.js'
import { loadPlansForRun } from './load-plans.js'
import { choosePlans, gitCommit, planInfo } from './run-support.js'
import { runValidation, type RunOptions, type RunReporter } from './run.js'

export interface ImpactRecordOptions {
  configPath?: string
  cwd?: string
  /** Folder the map's paths are relative to (the diffs' root). @default the config's folder */
  sourceRoot?: string
  /** Where to write the map. @default `vigil.impact.json` beside the config */
  out?: string
  /** Record only these plans. @default all */
  planNames?: string[]
  log?: (line: string) => void
}

export interface ImpactRecordResult {
  map: ImpactMap
  file: string
  /** Plans whose checks did not all pass while recording (their coverage is kept, and said). */
  failing: string[]
}

/**
 * Preloaded into Node services while recording: V8 writes coverage on a clean exit only, and a service
 * without a SIGTERM handler is killed by the signal. One that has its own handler keeps it.
 */
const EXIT_CLEANLY = `for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => { if (process.listenerCount(sig) === 1) process.exit(0) })
}
`

export async function recordImpact(options: ImpactRecordOptions = {}): Promise<ImpactRecordResult> {
  const cwd = path.resolve(options.cwd ?? process.cwd())
  const loaded = await loadConfig(options.configPath, cwd)
  const { plans } = await loadPlansForRun(loaded, undefined, cwd)
  const names = (options.planNames?.length ? options.planNames : plans.map((p) => p.name)).sort()
  const known = new Set(plans.map((p) => p.name))
  const unknown = names.find((n) => !known.has(n))
  if (unknown) throw new UsageError(`no plan named "${unknown}"`)
  const recorded = await runRecordingImpact(
    {
      configPath: loaded.file,
      cwd,
      planNames: names,
      baseline: false,
      ...(options.log ? { log: options.log } : {}),
    },
    {
      ...(options.out === undefined ? {} : { out: options.out }),
      ...(options.sourceRoot === undefined ? {} : { sourceRoot: options.sourceRoot }),
      merge: false,
    },
  )
  const { verdict } = recorded
  if (verdict.errors.length) throw new Error(verdict.errors[0]!.message)
  if (!recorded.map || !recorded.file) throw new Error(recorded.note ?? 'the impact map was not recorded')
  const failing = verdict.plans.filter((p) => p.state !== 'passed').map((p) => p.name)
  return { map: recorded.map, file: recorded.file, failing }
}

export interface RecordingOptions {
  /** Folder the map's paths are relative to (the diffs' root). @default the config's folder */
  sourceRoot?: string
  /** Where to write the map. @default `vigil.impact.json` beside the config */
  out?: string
  /**
   * When the run holds only some of the plans: replace theirs in the existing map and keep the others'
   * (refused, and said, when the files the others were recorded on have changed). @default true
   */
  merge?: boolean
}

export interface RecordingResult {
  /** One verdict for the whole run, as `runValidation` would give. */
  verdict: Verdict
  map?: ImpactMap
  /** Where the map was written (absolute). */
  file?: string
  /** Why no map was written, when none was. */
  note?: string
}

/**
 * A run that records the impact map: `runValidation` once per plan, each on fresh sandboxes with coverage
 * on, reported as one run (one `onRunStart`, one `onRunEnd`, one verdict). A run that cannot start (a broken
 * plan or config, a sandbox that does not come up) is the plain run's error verdict, and no map is written;
 * nor is one when a plan's run had an error or the run was cancelled.
 */
export async function runRecordingImpact(
  options: RunOptions,
  recording: RecordingOptions = {},
): Promise<RecordingResult> {
  const started = performance.now()
  const startedAt = new Date()
  const cwd = path.resolve(options.cwd ?? process.cwd())
  const log = options.log ?? (() => undefined)
  if (options.patch)
    throw new UsageError(
      '--record-impact: the map describes the code as committed, not a patched copy; run without --patch',
    )
  const plain = async (note: string): Promise<RecordingResult> => ({
    verdict: await runValidation(options),
    note,
  })
  let loaded: LoadedConfig
  try {
    loaded = await loadConfig(options.configPath, cwd)
  } catch {
    return plain('the config could not be read')
  }
  const catalog = await loadPlansForRun(loaded, options.planRoots, cwd).catch(() => undefined)
  const choice = catalog && choosePlans(catalog.plans, options.planNames, options.selection)
  if (
    !catalog ||
    !choice ||
    choice.errors.length ||
    !choice.plans.length ||
    catalog.diagnostics.some((d) => d.severity === 'error')
  )
    return plain('the run could not start')
  const sourceRoot = path.resolve(cwd, recording.sourceRoot ?? loaded.dir)
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'vigil-impact-'))
  try {
    const coverage = await coverageEnvironment(tmp)
    log('recording start-up coverage')
    const startupDir = path.join(tmp, 'startup')
    // Started twice at most: a start that fails for a passing reason (a port taken between choosing and
    // binding it) should not cost the recording; the reason is said either way.
    for (let attempt = 1; ; attempt++) {
      try {
        await rm(startupDir, { recursive: true, force: true })
        await coverage(startupDir, async () => {
          const session = await startSandboxes({
            loaded,
            baseline: false,
            signal: options.signal ?? new AbortController().signal,
            log,
            cwd,
            redactor: configRedactor(loaded, options.env ?? process.env),
            runId: `impact-${process.pid}-${attempt}`,
          })
          await session.stop()
        })
        break
      } catch (error) {
        const why = `the sandboxes did not start: ${error instanceof Error ? error.message : String(error)}`
        if (attempt === 2 || options.signal?.aborted) return plain(why)
        log(`start-up coverage: ${why}; starting them once more`)
      }
    }
    const startup = await readCoverage(startupDir, sourceRoot)
    const reporter = oneRun(options.reporter ?? {}, choice.plans, choice.selection)
    const verdicts: Verdict[] = []
    const recorded: Array<{ plan: string; functions: ExecutedFunction[] }> = []
    for (const [i, plan] of choice.plans.entries()) {
      if (options.signal?.aborted) break
      log(`recording ${plan.name} (${i + 1} of ${choice.plans.length})`)
      const dir = path.join(tmp, `plan-${i}`)
      const verdict = await coverage(dir, () =>
        runValidation({ ...options, planNames: [plan.name], selection: undefined, reporter }),
      )
      verdicts.push(verdict)
      if (!verdict.errors.length)
        recorded.push({ plan: plan.name, functions: await readCoverage(dir, sourceRoot) })
    }
    const verdict = buildVerdict({
      startedAt,
      durationMs: performance.now() - started,
      identity: verdicts[0]!.identity,
      selection: choice.selection,
      plans: verdicts.flatMap((v) => v.plans),
      errors: verdicts.flatMap((v) => v.errors),
      timings: verdicts.flatMap((v) => v.timings),
      cancelled: verdicts.length < choice.plans.length || verdicts.some((v) => v.cancelled),
    })
    try {
      await options.reporter?.onRunEnd?.(verdict)
    } catch {
      // The reporters' multiplexer records its own failures; the verdict stands.
    }
    if (verdict.cancelled) return { verdict, note: 'the run was cancelled' }
    if (recorded.length < choice.plans.length) return { verdict, note: 'a plan could not run' }
    const commit = await gitCommit(sourceRoot)
    let map = await buildImpactMap({ root: sourceRoot, startup, recorded, ...(commit ? { commit } : {}) })
    if (!Object.keys(map.files).length && !Object.keys(map.packages).length)
      return {
        verdict,
        note: `no service wrote coverage of a file under ${path.relative(cwd, sourceRoot) || '.'} (only services vigil starts, with NODE_V8_COVERAGE or into $VIGIL_COVERAGE_DIR, can)`,
      }
    const file = path.resolve(cwd, recording.out ?? path.join(loaded.dir, IMPACT_FILE))
    const whole = catalog.plans.every((p) => map.plans.includes(p.name))
    const old =
      whole || recording.merge === false ? undefined : await readImpactMap(file).catch(() => undefined)
    if (old) {
      const merged = await mergeImpactMaps(old, map, sourceRoot)
      if ('stale' in merged)
        return {
          verdict,
          note: `this run holds ${map.plans.length} of ${catalog.plans.length} plans, and the map's other plans were recorded on files that have changed since (${merged.stale.join(', ')}); run every plan to re-record it`,
        }
      map = merged.map
    }
    await writeFile(file, renderImpactMap(map))
    return { verdict, map, file }
  } finally {
    await rm(tmp, { recursive: true, force: true })
  }
}

/** The run's reporter as one run: the first start (with every plan), every check, and no end (said once, after). */
function oneRun(
  reporter: RunReporter,
  plans: ReturnType<typeof choosePlans>['plans'],
  selection: RunStartInfo['selection'],
): RunReporter {
  let started = false
  return {
    onRunStart: (info: RunStartInfo) => {
      if (started) return
      started = true
      return reporter.onRunStart?.({
        ...info,
        ...(selection ? { selection } : {}),
        plans: plans.map(planInfo),
      })
    },
    onCheckStart: (e) => reporter.onCheckStart?.(e),
    onCheckProgress: (e) => reporter.onCheckProgress?.(e),
    onCheckEnd: (r) => reporter.onCheckEnd?.(r),
  }
}

/**
 * Runs work with the coverage variables set: services inherit vigil's environment when they start. Node
 * services get a preload that makes them exit cleanly on SIGTERM, so V8 writes their coverage.
 */
async function coverageEnvironment(
  tmp: string,
): Promise<<T>(dir: string, work: () => Promise<T>) => Promise<T>> {
  const preload = path.join(tmp, 'exit-cleanly.cjs')
  await writeFile(preload, EXIT_CLEANLY)
  return async (dir, work) => {
    const saved = {
      v8: process.env.NODE_V8_COVERAGE,
      dir: process.env.VIGIL_COVERAGE_DIR,
      opts: process.env.NODE_OPTIONS,
    }
    await mkdir(dir, { recursive: true })
    process.env.NODE_V8_COVERAGE = dir
    process.env.VIGIL_COVERAGE_DIR = dir
    process.env.NODE_OPTIONS = [saved.opts, '--enable-source-maps', `--require=${preload}`]
      .filter(Boolean)
      .join(' ')
    try {
      return await work()
    } finally {
      restore('NODE_V8_COVERAGE', saved.v8)
      restore('VIGIL_COVERAGE_DIR', saved.dir)
      restore('NODE_OPTIONS', saved.opts)
    }
  }
}

function restore(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name]
  else process.env[name] = value
}

/** V8 JSON and LCOV files of a coverage folder. */
async function readCoverage(dir: string, sourceRoot: string): Promise<ExecutedFunction[]> {
  const functions = await readV8Coverage(dir)
  for (const name of (await readdir(dir).catch(() => [] as string[]))
    .filter((f) => f.endsWith('.info'))
    .sort())
    functions.push(...parseLcov(await readFile(path.join(dir, name), 'utf8'), sourceRoot, name))
  return functions
}
