/**
 * `vigil plans lint | list | show`: check plan files, list them, print one parsed plan. Without paths the
 * plans are the config's (`plans:` in vigil.config.yaml, default `plans/`).
 */
import pc from 'picocolors'
import { stringify } from 'yaml'
import { colorEnabled } from '../../../plans/color.js'
import { loadConfig } from '../../../plans/config.js'
import { formatDiagnostic } from '../../../plans/diagnostics.js'
import { formatDuration } from '../../../plans/duration.js'
import { PlansError } from '../../../plans/errors.js'
import { lintReport } from '../../../plans/lint.js'
import type { LoadPlansResult } from '../../../plans/loader.js'
import { didYouMean } from '../../../plans/schema-errors.js'
import type { Plan, PlanDiagnostic } from '../../../plans/types.js'
import { VigilError } from '../../errors.js'
import { loadPlansForRun } from '../../run/load-plans.js'

export interface PlansFlags {
  config?: string
  json?: boolean
}

/** `vigil plans lint`; the exit code. */
export const lint = (paths: string[], flags: PlansFlags) => guarded(() => lintPlans(paths, flags))
/** `vigil plans list`; the exit code. */
export const list = (paths: string[], flags: PlansFlags) => guarded(() => listPlans(paths, flags))
/** `vigil plans show NAME`; the exit code. */
export const show = (name: string, paths: string[], flags: PlansFlags) =>
  guarded(() => showPlan(name, paths, flags))

/** Runs a subcommand and returns its exit code; errors of the plans area become the CLI's known errors. */
async function guarded(work: () => Promise<number>): Promise<number> {
  try {
    return await work()
  } catch (error) {
    if (error instanceof PlansError) {
      throw new VigilError(error.code, error.message, { cause: error, exitCode: error.exitCode })
    }
    throw error
  }
}

async function load(paths: string[], flags: PlansFlags): Promise<LoadPlansResult> {
  const loaded = await loadConfig(flags.config)
  return loadPlansForRun(loaded, paths)
}

const colors = pc.createColors(colorEnabled(process.env, process.stdout.isTTY === true))

function line(d: PlanDiagnostic): string {
  const text = formatDiagnostic(d)
  return d.severity === 'warning' ? colors.yellow(text) : colors.red(text)
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}

async function lintPlans(paths: string[], flags: PlansFlags): Promise<number> {
  const result = await load(paths, flags)
  const report = lintReport(result)
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
  } else {
    for (const d of result.diagnostics) process.stdout.write(`${line(d)}\n`)
    const files = plural(report.files, 'file')
    const summary =
      report.diagnostics.length === 0
        ? `${files} checked, ${plural(result.plans.length, 'plan')}, no problems`
        : `${plural(report.errorCount, 'error')}, ${plural(report.warningCount, 'warning')} in ${files}`
    process.stdout.write(`${result.diagnostics.length ? '\n' : ''}${summary}\n`)
  }
  return report.ok ? 0 : 2
}

/** Kinds with counts, in first-use order: `contract x2, e2e`. */
function kindSummary(plan: Plan): string {
  const counts = new Map<string, number>()
  for (const check of plan.checks) counts.set(check.kind, (counts.get(check.kind) ?? 0) + 1)
  return [...counts].map(([kind, n]) => (n > 1 ? `${kind} x${n}` : kind)).join(', ') || 'no checks'
}

function summary(plan: Plan) {
  return {
    name: plan.name,
    title: plan.title,
    selectionHint: plan.selectionHint,
    kinds: [...new Set(plan.checks.map((c) => c.kind))],
    checks: plan.checks.map((c) => ({
      id: c.id,
      kind: c.kind,
      name: c.name,
      line: c.location.line,
      ...(c.blocking === false ? { blocking: false } : {}),
    })),
    file: plan.file,
    paths: plan.paths,
    tags: plan.tags,
    always: plan.always,
    blocking: plan.blocking,
  }
}

/** Problems go to stderr so stdout stays the listing; any error makes the exit code 2. */
function reportProblems(result: LoadPlansResult): number {
  for (const d of result.diagnostics) process.stderr.write(`vigil: ${formatDiagnostic(d)}\n`)
  const errors = result.diagnostics.filter((d) => d.severity === 'error').length
  if (errors > 0)
    process.stderr.write(`vigil: ${plural(errors, 'error')}; plans with errors are not listed\n`)
  return errors > 0 ? 2 : 0
}

async function listPlans(paths: string[], flags: PlansFlags): Promise<number> {
  const result = await load(paths, flags)
  if (flags.json) {
    const out = { version: 1, plans: result.plans.map(summary), diagnostics: lintReport(result).diagnostics }
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`)
    return result.diagnostics.some((d) => d.severity === 'error') ? 2 : 0
  }
  for (const plan of result.plans) {
    const flagsText = [plan.always ? 'always' : '', plan.blocking ? '' : 'non-blocking'].filter(Boolean)
    process.stdout.write(`${colors.bold(plan.name)}  ${plan.title}\n`)
    process.stdout.write(`  ${[plan.file, kindSummary(plan), ...flagsText].join(' | ')}\n`)
    process.stdout.write(`  ${colors.dim(plan.selectionHint.replace(/\s+/g, ' '))}\n`)
  }
  process.stdout.write(`${plural(result.plans.length, 'plan')}\n`)
  return reportProblems(result)
}

/** The plan as it reads best: frontmatter first, then each check with its location and parameters. */
function printable(plan: Plan, json: boolean) {
  return {
    name: plan.name,
    title: plan.title,
    file: plan.file,
    selectionHint: plan.selectionHint,
    paths: plan.paths,
    tags: plan.tags,
    always: plan.always,
    blocking: plan.blocking,
    ...(plan.timeoutMs === undefined
      ? {}
      : json
        ? { timeoutMs: plan.timeoutMs }
        : { timeout: formatDuration(plan.timeoutMs) }),
    vars: plan.vars,
    checks: plan.checks.map((c) => ({
      id: c.id,
      kind: c.kind,
      name: c.name,
      ...(json
        ? { location: c.location }
        : { at: `${c.location.file}:${c.location.line}:${c.location.column}` }),
      ...(c.blocking === false ? { blocking: false } : {}),
      params: c.params,
      ...(json ? { source: c.source } : {}),
    })),
    ...(json ? { frontmatter: plan.frontmatter } : {}),
  }
}

async function showPlan(name: string, paths: string[], flags: PlansFlags): Promise<number> {
  const result = await load(paths, flags)
  const plan = result.plans.find((p) => p.name === name)
  if (!plan) {
    const own = result.diagnostics.filter((d) => d.plan === name)
    if (own.length > 0) {
      for (const d of own) process.stderr.write(`vigil: ${formatDiagnostic(d)}\n`)
      process.stderr.write(`vigil: plan "${name}" has errors\n`)
      return 2
    }
    const suggestion = didYouMean(
      name,
      result.plans.map((p) => p.name),
    )
    const hint = suggestion
      ? `; did you mean "${suggestion}"?`
      : result.plans.length
        ? ''
        : ' (no plans found)'
    process.stderr.write(`vigil: no plan named "${name}"${hint}\n`)
    return 2
  }
  const out = printable(plan, Boolean(flags.json))
  process.stdout.write(flags.json ? `${JSON.stringify(out, null, 2)}\n` : stringify(out, { lineWidth: 0 }))
  return 0
}
