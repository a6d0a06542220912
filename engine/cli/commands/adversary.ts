/**
 * `vigil adversary suggest --plan FILE [--diff FILE | --base REF]`: asks the Messages API, as an
 * adversary that sees only the diff and the API's schemas, for cases that break the change, and writes
 * them into the plan as a fenced ```adversarial suggested block for review.
 */
import { loadConfig, type LoadedConfig } from '../../../plans/config.js'
import { checkSchemas, projectFileRoots } from '../../run/load-plans.js'
import { diffAgainstBase } from '../../../selectors/git.js'
import { readChange, readDiffFile } from '../../../selectors/input.js'
import { resolveSelector, type ResolvedSelector } from '../../../selectors/options.js'
import { suggestCases } from '../../kinds/adversarial/suggest.js'
import { UsageError, VigilError } from '../../errors.js'

export interface SuggestFlags {
  plan: string
  diff?: string
  base?: string
  check?: string
  config?: string
  model?: string
  maxCases?: string
  dryRun?: boolean
  json?: boolean
}

async function readDiff(flags: SuggestFlags, cwd: string): Promise<string> {
  if (flags.base !== undefined) {
    if (flags.diff !== undefined) throw new UsageError('adversary suggest: give --diff or --base, not both')
    return (await diffAgainstBase(flags.base, cwd)).text
  }
  let text: string
  if (flags.diff !== undefined && flags.diff !== '-') text = await readDiffFile(flags.diff, cwd)
  else {
    if (flags.diff === undefined && process.stdin.isTTY)
      throw new UsageError('adversary suggest: no diff; give --diff FILE, --diff - for stdin, or --base REF')
    const chunks: Buffer[] = []
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
    text = Buffer.concat(chunks).toString('utf8')
  }
  if (!text.trim()) throw new UsageError('adversary suggest: the diff is empty')
  // Read as every command reads a change: text that is not a unified diff is refused (exit 2).
  const stdin = flags.diff === undefined || flags.diff === '-'
  await readChange(stdin ? { kind: 'stdin', text } : { kind: 'file', text, file: flags.diff! }, cwd)
  return text
}

/** The model settings (selector: of the config, the environment, --model); a bad setting is a known error. */
export function resolveModel(loaded: LoadedConfig, model: string | undefined): ResolvedSelector {
  try {
    return resolveSelector({
      config: loaded.config.selector,
      env: process.env,
      flags: model ? { model } : {},
    })
  } catch (error) {
    const e = error as Error & { code?: string; exitCode?: number }
    throw new VigilError(e.code ?? 'VIGIL_CONFIG', e.message, { cause: error, exitCode: e.exitCode ?? 2 })
  }
}

/** `vigil adversary suggest`; the exit code. */
export async function suggest(flags: SuggestFlags): Promise<number> {
  const cwd = process.cwd()
  const maxCases = flags.maxCases === undefined ? undefined : Number(flags.maxCases)
  if (maxCases !== undefined && !(Number.isInteger(maxCases) && maxCases >= 1 && maxCases <= 50))
    throw new UsageError(`--max-cases ${flags.maxCases}: expected an integer from 1 to 50`)
  const loaded = await loadConfig(flags.config, cwd)
  const resolved = resolveModel(loaded, flags.model)
  const diff = await readDiff(flags, cwd)
  const { options } = resolved
  const result = await suggestCases({
    planFile: flags.plan,
    diff,
    model: options.model,
    timeoutMs: options.timeoutMs,
    maxRetries: options.maxRetries,
    cwd,
    fileRoots: await projectFileRoots(loaded),
    checkSchemas: checkSchemas(),
    ...(options.apiKey ? { apiKey: options.apiKey } : {}),
    ...(options.baseURL ? { baseURL: options.baseURL } : {}),
    ...(flags.check ? { check: flags.check } : {}),
    ...(maxCases ? { maxCases } : {}),
    ...(flags.dryRun ? { dryRun: true } : {}),
  })
  if (flags.json)
    process.stdout.write(
      `${JSON.stringify({ file: result.file, model: result.model, replaced: result.replaced, cases: result.cases }, null, 2)}\n`,
    )
  else if (flags.dryRun) process.stdout.write(result.text)
  else {
    const verb = result.replaced ? 'replaced the' : 'added an'
    process.stdout.write(
      `${result.file}: ${verb} \`adversarial suggested\` block with ${result.cases.length} case${result.cases.length === 1 ? '' : 's'}; review them before relying on them.\n`,
    )
    for (const c of result.cases)
      process.stdout.write(`  - ${c.operation}: ${c.name} (expect ${JSON.stringify(c.expect.status)})\n`)
  }
  return 0
}
