/**
 * `vigil coverage`: what no plan exercises — the changed code no plan runs (from the impact map) and the API
 * operations and channels no plan requests. The change is optional: without one, only the API part.
 */
import path from 'node:path'
import { loadConfig, type LoadedConfig } from '../../../plans/config.js'
import type { Plan } from '../../../plans/types.js'
import { formatDiagnostic } from '../../../plans/diagnostics.js'
import {
  IMPACT_FILE,
  matchImpact,
  readChange,
  readDiffFile,
  readImpactMap,
} from '../../../selectors/index.js'
import type { ChangeInput, ParsedDiff } from '../../../selectors/index.js'
import { planCoverage, renderCoverage } from '../../run/coverage.js'
import type { CoverageInput, CoverageReport } from '../../run/coverage.js'
import { loadPlansForRun } from '../../run/load-plans.js'
import { UsageError } from '../../errors.js'

export interface CoverageFlags {
  config?: string
  base?: string
  patch?: string
  api: string[]
  json?: boolean
  /** false with --no-impact. */
  impact?: boolean
}

export async function coverage(diffArg: string | undefined, flags: CoverageFlags): Promise<number> {
  const { report, diff, broken } = await coverageOf(diffArg, flags, 'coverage')
  process.stdout.write(
    flags.json ? `${JSON.stringify(report, null, 2)}\n` : renderCoverage(report, Boolean(diff)),
  )
  return broken ? 2 : 0
}

/**
 * Plan coverage of the change a command was given (or of none): the report, the change, the catalog, and
 * whether a plan of the catalog is broken (its diagnostics are printed on stderr).
 */
export async function coverageOf(
  diffArg: string | undefined,
  flags: CoverageFlags,
  command: string,
): Promise<{
  report: CoverageReport
  loaded: LoadedConfig
  plans: readonly Plan[]
  input?: ChangeInput
  diff?: ParsedDiff
  broken: boolean
}> {
  const cwd = process.cwd()
  const given = [diffArg !== undefined, flags.base !== undefined, flags.patch !== undefined]
  if (given.filter(Boolean).length > 1)
    throw new UsageError(`${command}: give one of DIFF, --patch or --base`)
  const loaded = await loadConfig(flags.config, cwd)
  const catalog = await loadPlansForRun(loaded, undefined, cwd)
  let broken = false
  for (const d of catalog.diagnostics) {
    if (d.severity === 'error') broken = true
    process.stderr.write(`vigil: ${formatDiagnostic(d)}\n`)
  }
  const input = await changeInput(diffArg, flags, cwd)
  let diff: ParsedDiff | undefined
  let impact: CoverageInput['impact']
  if (input) {
    diff = (await readChange(input, loaded.dir)).diff
    const map = flags.impact === false ? undefined : await readImpactMap(path.join(loaded.dir, IMPACT_FILE))
    if (map)
      impact = {
        ...(await matchImpact(map, diff, loaded.dir)),
        ...(map.commit ? { commit: map.commit } : {}),
      }
  }
  const report = await planCoverage({
    loaded,
    plans: catalog.plans,
    ...(diff ? { diff } : {}),
    ...(impact ? { impact } : {}),
    apis: flags.api,
    cwd,
  })
  return {
    report,
    loaded,
    plans: catalog.plans,
    broken,
    ...(input ? { input } : {}),
    ...(diff ? { diff } : {}),
  }
}

/** The change a command was given: DIFF (a file, or - for stdin), --patch FILE or --base REF; or none. */
export async function changeInput(
  diffArg: string | undefined,
  flags: { base?: string; patch?: string },
  cwd: string,
): Promise<ChangeInput | undefined> {
  if (flags.base !== undefined) return { kind: 'base', ref: flags.base }
  if (flags.patch !== undefined)
    return {
      kind: 'patch',
      text: await readDiffFile(flags.patch, cwd, `--patch ${flags.patch}`),
      file: flags.patch,
    }
  if (diffArg === '-') return { kind: 'stdin', text: await readStdin() }
  if (diffArg !== undefined) return { kind: 'file', text: await readDiffFile(diffArg, cwd), file: diffArg }
  return undefined
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}
