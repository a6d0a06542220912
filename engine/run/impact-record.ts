/**
 * `vigil impact record`: runs each plan alone on fresh candidate services with coverage on, and writes
 * the impact map (selectors/impact.ts).
 *
 * Attribution is per plan by process lifetime, not through the inspector: V8 writes a process's coverage
 * when it exits cleanly, so each plan gets its own sandbox, started and stopped around it. The services'
 * start-up is recorded once the same way (started, stopped, no plan) and subtracted, so code that every
 * start runs is nobody's in particular.
 *
 * The coverage folder contract, for every runtime: each service gets `VIGIL_COVERAGE_DIR` (and, for Node,
 * `NODE_V8_COVERAGE`, the same folder) and writes its coverage there before it exits — V8 JSON
 * (`*.json`) or LCOV (`*.info`: coverage.py's `coverage lcov`, Go's coverage through gcov2lcov, c8, nyc).
 * Relative `SF:` paths in LCOV are read against the source root.
 */
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { loadConfig } from '../../plans/config.js'
import { buildImpactMap, IMPACT_FILE, renderImpactMap, type ImpactMap } from '../../selectors/impact.js'
import { parseLcov, readV8Coverage, type ExecutedFunction } from '../../selectors/impact-coverage.js'
import { startSandboxes } from '../sandboxes/index.js'
import { configRedactor } from '../vars.js'
import { loadPlansForRun } from './load-plans.js'
import { gitCommit } from './run-support.js'
import { runValidation } from './run.js'

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
  const log = options.log ?? (() => undefined)
  const loaded = await loadConfig(options.configPath, cwd)
  const sourceRoot = path.resolve(cwd, options.sourceRoot ?? loaded.dir)
  const { plans } = await loadPlansForRun(loaded, undefined, cwd)
  const names = (options.planNames?.length ? options.planNames : plans.map((p) => p.name)).sort()
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'vigil-impact-'))
  const preload = path.join(tmp, 'exit-cleanly.cjs')
  await writeFile(preload, EXIT_CLEANLY)
  const saved = {
    v8: process.env.NODE_V8_COVERAGE,
    dir: process.env.VIGIL_COVERAGE_DIR,
    opts: process.env.NODE_OPTIONS,
  }
  // Services inherit vigil's environment: the coverage variables are set around each start.
  const withCoverage = async <T>(dir: string, work: () => Promise<T>): Promise<T> => {
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
  try {
    log('recording start-up coverage')
    const startupDir = path.join(tmp, 'startup')
    await withCoverage(startupDir, async () => {
      const session = await startSandboxes({
        loaded,
        baseline: false,
        signal: new AbortController().signal,
        log,
        cwd,
        redactor: configRedactor(loaded, process.env),
        runId: `impact-${process.pid}`,
      })
      await session.stop()
    })
    const startup = await readCoverage(startupDir, sourceRoot)
    const recorded: Array<{ plan: string; functions: ExecutedFunction[] }> = []
    const failing: string[] = []
    for (const [i, plan] of names.entries()) {
      log(`recording ${plan} (${i + 1} of ${names.length})`)
      const dir = path.join(tmp, `plan-${i}`)
      const verdict = await withCoverage(dir, () =>
        runValidation({ configPath: loaded.file, cwd, planNames: [plan], baseline: false }),
      )
      if (verdict.errors.length) throw new Error(`${plan}: ${verdict.errors[0]!.message}`)
      if (verdict.status !== 'pass') failing.push(plan)
      recorded.push({ plan, functions: await readCoverage(dir, sourceRoot) })
    }
    const commit = await gitCommit(sourceRoot)
    const map = await buildImpactMap({ root: sourceRoot, startup, recorded, ...(commit ? { commit } : {}) })
    const file = path.resolve(cwd, options.out ?? path.join(loaded.dir, IMPACT_FILE))
    await writeFile(file, renderImpactMap(map))
    return { map, file, failing }
  } finally {
    await rm(tmp, { recursive: true, force: true })
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
