/**
 * `vigil select`: which plans apply to a change, with a reason each; `--eval DIR` measures a selector on
 * labelled changes. The diff comes from a file, stdin (`-` or a pipe), `--patch FILE` or `--base REF`.
 */
import { writeFile, mkdir } from 'node:fs/promises'
import path from 'node:path'
import { loadConfig } from '../../../plans/config.js'
import { formatDiagnostic } from '../../../plans/diagnostics.js'
import { loadPlans } from '../../../plans/loader.js'
import type { Plan } from '../../../plans/types.js'
import {
  defaultCacheDir,
  previewRequests,
  readChange,
  readDiffFile,
  resolveSelector,
  select as runSelector,
} from '../../../selectors/index.js'
import type { ChangeInput, ResolvedSelector } from '../../../selectors/index.js'
import { evaluate, loadLabelledSet, renderEvalReport } from '../../../selectors/eval.js'
import { renderSelection } from '../../../selectors/render.js'
import { explainSelection, renderExplanation } from '../../../selectors/explain.js'
import { checkSchemas } from '../../run/load-plans.js'
import { UsageError, VigilError } from '../../errors.js'
import { configRedactor } from '../../vars.js'

export interface SelectFlags {
  config?: string
  base?: string
  patch?: string
  selector?: string
  model?: string
  threshold?: string
  json?: boolean
  out?: string
  eval?: string
  cacheDir?: string
  cache: boolean
  selectorDeadline?: string
  explain?: boolean
  /** false with --no-impact: ignore vigil.impact.json. */
  impact?: boolean
  /** Print the model's requests and send nothing. */
  dryRun?: boolean
}

/** `vigil select`; the exit code. Selector and plan errors become the CLI's known errors. */
export async function select(diffArg: string | undefined, flags: SelectFlags): Promise<number> {
  try {
    return await runSelect(diffArg, flags)
  } catch (error) {
    throw asVigilError(error)
  }
}

async function runSelect(diffArg: string | undefined, flags: SelectFlags): Promise<number> {
  const cwd = process.cwd()
  const sources = [
    diffArg !== undefined,
    flags.patch !== undefined,
    flags.base !== undefined,
    flags.eval !== undefined,
  ]
  if (sources.filter(Boolean).length > 1)
    throw new UsageError('select: give one of DIFF, --patch, --base or --eval')
  const threshold = flags.threshold === undefined ? undefined : Number(flags.threshold)
  if (threshold !== undefined && !(threshold >= 0 && threshold <= 1))
    throw new UsageError(`--threshold ${flags.threshold}: expected a number from 0 to 1`)

  const loaded = await loadConfig(flags.config, cwd)
  const { plans, broken } = await catalog(loaded.config.plans, loaded.dir, cwd)
  const resolved = resolveSelector({
    config: loaded.config.selector,
    env: process.env,
    flags: {
      ...(flags.selector === undefined ? {} : { selector: flags.selector }),
      ...(flags.model === undefined ? {} : { model: flags.model }),
      ...(threshold === undefined ? {} : { threshold }),
      ...(flags.cacheDir === undefined ? {} : { cacheDir: path.resolve(cwd, flags.cacheDir) }),
      cache: flags.cache,
      ...(flags.selectorDeadline === undefined ? {} : { deadline: flags.selectorDeadline }),
    },
    defaultCacheDir: defaultCacheDir(loaded.dir),
    where: path.relative(cwd, loaded.file) || 'vigil.config.yaml',
  })
  if (flags.eval !== undefined) return evalCommand(flags.eval, flags, plans, resolved, loaded.dir, broken)
  if (flags.dryRun && resolved.selector === 'rules' && resolved.choice === '--selector')
    throw new UsageError('--dry-run shows the requests the model would get; --selector rules sends none')

  let input: ChangeInput
  if (flags.base !== undefined) input = { kind: 'base', ref: flags.base }
  else if (flags.patch !== undefined)
    input = {
      kind: 'patch',
      text: await readDiffFile(flags.patch, cwd, `--patch ${flags.patch}`),
      file: flags.patch,
    }
  else if (diffArg !== undefined && diffArg !== '-')
    input = { kind: 'file', text: await readDiffFile(diffArg, cwd), file: diffArg }
  else {
    if (diffArg === undefined && process.stdin.isTTY)
      throw new UsageError(
        'select: no diff; give a DIFF file, - for stdin, --patch FILE, --base REF or --eval DIR',
      )
    const text = await readStdin()
    // An empty pipe without an explicit `-` is far more likely a CI misconfiguration than an empty change.
    if (diffArg === undefined && !text)
      throw new UsageError('select: stdin is empty; pass - to select for an empty diff, or use --base REF')
    input = { kind: 'stdin', text }
  }
  const { diff, source } = await readChange(input, loaded.dir)
  if (flags.dryRun) {
    const selector = resolved.selector === 'llm' ? 'llm' : 'hybrid'
    const preview = await previewRequests({
      plans,
      diff,
      root: loaded.dir,
      source,
      selector,
      options: resolved.options,
      redactor: configRedactor(loaded, process.env),
      ...(flags.impact === false ? { impact: false as const } : {}),
    })
    const endpoint = resolved.options.baseURL ?? 'https://api.anthropic.com'
    process.stdout.write(
      flags.json
        ? `${JSON.stringify(
            {
              dryRun: true,
              selector,
              endpoint,
              model: resolved.options.model,
              floor: preview.floor,
              omittedFiles: preview.omittedFiles,
              requests: preview.requests.map(({ body, ...size }) => ({ ...size, body: JSON.parse(body) })),
            },
            null,
            2,
          )}\n`
        : renderDryRun(selector, endpoint, resolved.options.model, preview),
    )
    return broken ? 2 : 0
  }
  const record = await runSelector({
    plans,
    diff,
    root: loaded.dir,
    source,
    selector: resolved.selector,
    choice: resolved.choice,
    options: resolved.options,
    redactor: configRedactor(loaded, process.env),
    ...(flags.impact === false ? { impact: false as const } : {}),
  })
  if (flags.out !== undefined) {
    const out = path.resolve(cwd, flags.out)
    await mkdir(path.dirname(out), { recursive: true })
    await writeFile(out, `${JSON.stringify(record, null, 2)}\n`)
  }
  const explained = flags.explain
    ? explainSelection(plans, diff, record, resolved.options.threshold)
    : undefined
  process.stdout.write(
    flags.json
      ? `${JSON.stringify(explained ? { ...record, explain: explained } : record, null, 2)}\n`
      : renderSelection(record) + (explained ? renderExplanation(explained) : ''),
  )
  return broken ? 2 : 0
}

function renderDryRun(
  selector: string,
  endpoint: string,
  model: string,
  preview: Awaited<ReturnType<typeof previewRequests>>,
): string {
  const { requests, floor, omittedFiles } = preview
  const total = requests.reduce((sum, r) => sum + r.bytes, 0)
  const out = [
    `Dry run: selector ${selector} would send ${requests.length} request(s) (${total} bytes) to ${endpoint}/v1/messages, model ${model}. Nothing was sent.`,
  ]
  if (selector === 'hybrid')
    out.push(
      floor.length
        ? `Floor (runs whatever the model answers): ${floor.map((p) => `${p.name} (${p.source})`).join(', ')}`
        : 'Floor: empty (no paths, always, impact or strong lexical match).',
    )
  if (omittedFiles) out.push(`${omittedFiles} file(s) have their hunks left out for the diff budget.`)
  requests.forEach((r, i) => {
    out.push(
      '',
      `Request ${i + 1} of ${requests.length}: ${r.plans.length} plans, ${r.bytes} bytes, about ${r.estimatedInputTokens} input tokens; max_tokens ${r.maxTokens}, the answer needs at most about ${r.replyBudget}.`,
      r.body,
    )
  })
  return `${out.join('\n')}\n`
}

async function evalCommand(
  dir: string,
  flags: SelectFlags,
  plans: readonly Plan[],
  resolved: ResolvedSelector,
  configDir: string,
  broken: boolean,
): Promise<number> {
  const { changes, problems, missingDiffs } = await loadLabelledSet(dir)
  if (missingDiffs)
    throw new UsageError(
      `--eval ${dir}: the diffs are not there (${path.relative(process.cwd(), missingDiffs.dir) || '.'}); ` +
        (missingDiffs.regenerate
          ? `regenerate them with: ${missingDiffs.regenerate}`
          : 'regenerate them from the project history'),
    )
  if (!changes.length)
    throw new UsageError(
      dir.endsWith('.json')
        ? `--eval ${dir}: none of the labelled changes has its diff${problems.length ? `: ${problems[0]}` : ''}`
        : `--eval ${dir}: no <name>.patch with a <name>.expect.json found`,
    )
  const report = await evaluate({
    changes,
    problems,
    catalog: new Set(plans.map((p) => p.name)),
    selectFor: async (change) => {
      const text = await readDiffFile(change.diffFile, process.cwd())
      const { diff, source } = await readChange({ kind: 'patch', text, file: change.diffFile }, configDir)
      return runSelector({
        plans,
        diff,
        root: configDir,
        source,
        selector: resolved.selector,
        choice: resolved.choice,
        options: resolved.options,
        ...(flags.impact === false ? { impact: false as const } : {}),
      })
    },
  })
  process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : renderEvalReport(report))
  return broken ? 2 : 0
}

/** The config's plans; broken ones are reported on stderr and left out (exit 2 at the end). */
async function catalog(
  roots: readonly string[],
  dir: string,
  cwd: string,
): Promise<{ plans: Plan[]; broken: boolean }> {
  const result = await loadPlans({
    roots: roots.map((root) => path.resolve(dir, root)),
    cwd,
    checkSchemas: checkSchemas(),
  })
  let broken = false
  for (const d of result.diagnostics) {
    if (d.severity === 'error') broken = true
    process.stderr.write(`vigil: ${formatDiagnostic(d)}\n`)
  }
  if (broken) process.stderr.write('vigil: plans with errors are left out of the selection\n')
  return { plans: [...result.plans], broken }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

/** Selector and plan errors carry a code and an exit code; the CLI boundary knows VigilError. */
function asVigilError(error: unknown): unknown {
  if (error instanceof VigilError || !(error instanceof Error)) return error
  const { code, exitCode } = error as Error & { code?: unknown; exitCode?: unknown }
  if (typeof code !== 'string' || !code.startsWith('VIGIL_')) return error
  return new VigilError(code, error.message, {
    cause: error,
    exitCode: typeof exitCode === 'number' ? exitCode : 2,
  })
}
