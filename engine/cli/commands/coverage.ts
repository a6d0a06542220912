/**
 * `vigil coverage`: what no plan exercises — the changed code no plan runs (from the impact map) and the API
 * operations and channels no plan requests. The change is optional: without one, only the API part.
 */
import path from 'node:path'
import { loadConfig } from '../../../plans/config.js'
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
import type { CoverageInput } from '../../run/coverage.js'
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
  const cwd = process.cwd()
  const given = [diffArg !== undefined, flags.base !== undefined, flags.patch !== undefined]
  if (given.filter(Boolean).length > 1) throw new UsageError('coverage: give one of DIFF, --patch or --base')
  const loaded = await loadConfig(flags.config, cwd)
  const catalog = await loadPlansForRun(loaded, undefined, cwd)
  let broken = false
  for (const d of catalog.diagnostics) {
    if (d.severity === 'error') broken = true
    process.stderr.write(`vigil: ${formatDiagnostic(d)}\n`)
  }
  let input: ChangeInput | undefined
  if (flags.base !== undefined) input = { kind: 'base', ref: flags.base }
  else if (flags.patch !== undefined)
    input = {
      kind: 'patch',
      text: await readDiffFile(flags.patch, cwd, `--patch ${flags.patch}`),
      file: flags.patch,
    }
  else if (diffArg === '-') input = { kind: 'stdin', text: await readStdin() }
  else if (diffArg !== undefined)
    input = { kind: 'file', text: await readDiffFile(diffArg, cwd), file: diffArg }
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
  process.stdout.write(
    flags.json ? `${JSON.stringify(report, null, 2)}\n` : renderCoverage(report, Boolean(diff)),
  )
  return broken ? 2 : 0
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}
