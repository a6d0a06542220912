/** `vigil impact record`: learn which code each plan exercises and write the impact map. */
import path from 'node:path'
import { recordImpact } from '../../run/impact-record.js'
import { UsageError } from '../../errors.js'

export interface ImpactRecordFlags {
  config?: string
  out?: string
  sourceRoot?: string
  plan: string[]
  json?: boolean
}

export async function impactRecord(flags: ImpactRecordFlags): Promise<number> {
  const cwd = process.cwd()
  const result = await recordImpact({
    ...(flags.config === undefined ? {} : { configPath: flags.config }),
    ...(flags.out === undefined ? {} : { out: flags.out }),
    ...(flags.sourceRoot === undefined ? {} : { sourceRoot: flags.sourceRoot }),
    planNames: flags.plan,
    cwd,
    log: (line) => process.stderr.write(`vigil: ${line}\n`),
  }).catch((error: unknown) => {
    if (error instanceof Error && /no plan named|unknown plan/i.test(error.message))
      throw new UsageError(error.message)
    throw error
  })
  const { map, file, failing } = result
  const functions = Object.values(map.files).reduce((n, f) => n + f.functions.length, 0)
  const summary = {
    file: path.relative(cwd, file) || file,
    commit: map.commit ?? null,
    plans: map.plans.length,
    files: Object.keys(map.files).length,
    functions,
    packages: Object.keys(map.packages).length,
    failing,
  }
  if (flags.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`)
  else {
    process.stdout.write(
      `Wrote ${summary.file}: ${summary.plans} plans, ${summary.files} files, ${functions} functions, ` +
        `${summary.packages} packages${map.commit ? `, at ${map.commit.slice(0, 12)}` : ''}.\n`,
    )
    if (failing.length)
      process.stdout.write(
        `Note: ${failing.join(', ')} did not pass while recording; their coverage is kept.\n`,
      )
  }
  return 0
}
