/**
 * `vigil plans suggest [DIFF | --patch FILE | --base REF]`: drafts a plan for what no plan covers (the
 * change's uncovered code and the operations it touches; without a change, every operation no plan
 * exercises), runs it once against the candidate and writes it for review. Kept apart from `plans.ts` so
 * `plans lint` never loads the Anthropic SDK.
 */
import path from 'node:path'
import { diffAgainstBase } from '../../../selectors/git.js'
import { coverageTargets } from '../../run/coverage.js'
import { projectFileRoots } from '../../run/load-plans.js'
import { suggestPlan } from '../../run/plan-suggest/suggest.js'
import { UsageError } from '../../errors.js'
import { configRedactor } from '../../vars.js'
import { resolveModel } from './adversary.js'
import { coverageOf, type CoverageFlags } from './coverage.js'

export interface PlansSuggestFlags extends CoverageFlags {
  out?: string
  print?: boolean
  dryRun?: boolean
  model?: string
}

export async function plansSuggest(diffArg: string | undefined, flags: PlansSuggestFlags): Promise<number> {
  const cwd = process.cwd()
  if (flags.out !== undefined && flags.print)
    throw new UsageError('plans suggest: give --out or --print, not both')
  const { report, loaded, plans, input, diff, broken } = await coverageOf(diffArg, flags, 'plans suggest')
  if (broken)
    throw new UsageError(
      'plans suggest: fix the plans above first; a draft is written beside a catalog that loads',
    )
  const targets = coverageTargets(report, Boolean(diff))
  const say = (line: string) => process.stderr.write(`vigil: ${line}\n`)
  if (diff && !report.impact)
    say('no impact map: only API operations are looked at (record one with `vigil impact record`)')
  if (!targets.length) {
    const what = diff
      ? 'this change touches no code or API that no plan covers'
      : 'every API operation has a plan'
    if (flags.json) process.stdout.write(`${JSON.stringify({ targets: [], written: null }, null, 2)}\n`)
    else process.stdout.write(`Nothing to suggest: ${what}.\n`)
    return 0
  }
  const folder = path.resolve(
    cwd,
    flags.out ?? path.join(loaded.dir, path.dirname(loaded.config.plans[0] ?? 'plans'), 'suggested'),
  )
  const roots = await projectFileRoots(loaded)
  if (!roots.some((r) => folder === r || folder.startsWith(`${r}${path.sep}`)))
    throw new UsageError(`--out ${flags.out}: outside the project; drafts are written inside it`)
  const { options } = resolveModel(loaded, flags.model)
  let text = ''
  if (input?.kind === 'base') text = (await diffAgainstBase(input.ref, loaded.dir)).text
  else if (input) text = input.text
  const redactor = configRedactor(loaded, process.env)
  const documents = [...report.operations.documents, ...report.channels.documents]
  const result = await suggestPlan({
    loaded,
    cwd,
    plans,
    targets,
    apis: [...new Set(documents)].map((d) => path.resolve(loaded.dir, d)),
    diff: text,
    folder,
    model: options.model,
    timeoutMs: options.timeoutMs,
    maxRetries: options.maxRetries,
    redact: (t) => redactor.text(t),
    log: say,
    ...(flags.patch ? { patch: flags.patch } : {}),
    ...(options.apiKey ? { apiKey: options.apiKey } : {}),
    ...(options.baseURL ? { baseURL: options.baseURL } : {}),
    ...(flags.dryRun ? { dryRun: true } : {}),
    ...(flags.print ? { print: true } : {}),
  })
  if (flags.dryRun) {
    const body = JSON.stringify(result.request, null, 2)
    if (flags.json)
      process.stdout.write(`${JSON.stringify({ dryRun: true, targets, request: result.request }, null, 2)}\n`)
    else
      process.stdout.write(
        `Would send 1 request to ${options.baseURL ?? 'https://api.anthropic.com'} (${options.model}), ` +
          `${Buffer.byteLength(body)} bytes, about ${Math.ceil(body.length / 4)} tokens:\n${body}\n`,
      )
    return 0
  }
  if (flags.json)
    process.stdout.write(
      `${JSON.stringify(
        {
          targets,
          written: result.file ?? null,
          name: result.draft?.name,
          covers: result.draft?.covers,
          attempts: result.attempts,
          run: result.run,
          ...(result.file ? {} : { text: result.text }),
        },
        null,
        2,
      )}\n`,
    )
  else if (!result.file) process.stdout.write(result.text ?? '')
  else {
    const ran = result.run?.status === 'pass' ? 'passed' : 'did not pass'
    process.stdout.write(
      `Wrote ${result.file}: plan "${result.draft!.name}" for ${result.draft!.covers.join('; ')}.\n` +
        `It ${ran} against the candidate${result.run?.failures.length ? ` (${result.run.failures.join('; ')})` : ''}; review it, then move it among the plans.\n`,
    )
  }
  return 0
}
