/** The console reporter's text, as pure functions: run header, finished-check lines, live block, summary. */
import pc from 'picocolors'
import type { Colors } from 'picocolors/types.js'
import type { CheckEvent, CheckResult, RunStartInfo, Verdict } from '../engine/verdict.js'
import { formatTable } from '../plans/table.js'
import { errorLines, findingLines, logTailLines } from './finding-text.js'
import type { TextStyle } from './finding-text.js'
import {
  formatDuration,
  findingMessage,
  formatLocation,
  notes,
  planCounts,
  problems,
  sideServiceLines,
  sideSourceLine,
  sidesOf,
  sortedPlans,
  verdictLine,
  WARNINGS_TITLE,
  withVisibleControls,
  resourceRows,
  copyLabel,
} from './format.js'

export interface ConsoleRenderOptions {
  /** Emit ANSI colours. @default false */
  color?: boolean
  /** Findings printed per check in the summary; the JSON report has them all. @default 20 */
  maxFindings?: number
  /** Notes (warning/info findings of passing checks) printed in the summary. @default 20 */
  maxNotes?: number
  /** Where the JSON verdict is written, for the `vigil reproduce` lines. @default `<verdict.json>` */
  verdictPath?: string
}

export const SYMBOLS = { passed: '✓', failed: '✗', errored: '!', skipped: '-' } as const

export function colorsFor(options: ConsoleRenderOptions): Colors {
  return pc.createColors(options.color ?? false)
}

function styleFor(c: Colors): TextStyle {
  return {
    label: c.dim,
    dim: c.dim,
    severity: (severity, text) =>
      severity === 'error' ? c.red(text) : severity === 'warning' ? c.yellow(text) : c.cyan(text),
  }
}

function paint(c: Colors, state: CheckResult['state'], text: string): string {
  return state === 'passed'
    ? c.green(text)
    : state === 'failed'
      ? c.red(text)
      : state === 'errored'
        ? c.magenta(text)
        : c.dim(text)
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}

/** `4 plans · 6 checks`, the selector, a degraded warning, and the sandboxes' services. */
export function renderRunStart(raw: RunStartInfo, options: ConsoleRenderOptions = {}): string {
  const c = colorsFor(options)
  const info = withVisibleControls(raw)
  const checks = info.plans.reduce((n, p) => n + p.checks.length, 0)
  const lines = [
    `${c.bold('vigil')} ${c.dim(info.runId)} · ${plural(info.plans.length, 'plan')} · ${plural(checks, 'check')}`,
  ]
  const s = info.selection
  if (s) {
    lines.push(
      `  ${c.dim('selected by')} ${s.selector}${s.model ? ` (${s.model})` : ''}: ${s.plans.map((p) => p.name).join(', ') || 'no plans'}`,
    )
    if (s.degraded)
      lines.push(`  ${c.yellow(`⚠ selection degraded${s.degradedReason ? `: ${s.degradedReason}` : ''}`)}`)
  }
  for (const sandbox of info.sandboxes) {
    const services = Object.entries(sandbox.services)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([name, url]) => `${name} ${c.dim(url)}`)
    lines.push(`  ${c.dim(`${sandbox.name}:`)} ${services.join(', ')}`)
  }
  return `${lines.join('\n')}\n\n`
}

/** One finished check: `✗ plan › check  kind · 1.23s · 2 errors`, and for a failure its first message. */
/**
 * One finished check. A failure in a non-blocking plan (`warning: true`) is shown as a warning, as the
 * final summary does, so the live view never shows a cross for something that will not fail the run.
 */
export function renderCheckLine(
  raw: CheckResult,
  options: ConsoleRenderOptions & { warning?: boolean } = {},
): string {
  const c = colorsFor(options)
  const result = withVisibleControls(raw)
  const name = `${c.dim(`${result.plan} ›`)} ${result.check}`
  const warned = options.warning === true && result.state === 'failed'
  const symbol = warned ? c.yellow('▲') : paint(c, result.state, SYMBOLS[result.state])
  if (result.state === 'skipped') return `${symbol} ${name}  ${c.dim(`skipped: ${result.note}`)}\n`
  const facts = [result.kind, formatDuration(result.durationMs)]
  const bySeverity = { error: 0, warning: 0, info: 0 }
  for (const f of result.findings) bySeverity[f.severity] += 1
  const counted = (['error', 'warning', 'info'] as const).filter((s) => bySeverity[s] > 0)
  if (counted.length)
    facts.push(counted.map((s) => plural(bySeverity[s], s === 'info' ? 'note' : s)).join(', '))
  const lines = [`${symbol} ${name}  ${c.dim(facts.join(' · '))}`]
  if (result.state === 'errored')
    lines.push(`    ${c.magenta(`${result.error.name}: ${result.error.message}`)}`)
  if (result.state === 'failed') {
    const first = result.findings.find((f) => f.severity === 'error') ?? result.findings[0]
    const tint = warned ? c.yellow : c.red
    if (first) lines.push(`    ${tint(first.message)}${first.step ? c.dim(` (${first.step})`) : ''}`)
  }
  return `${lines.join('\n')}\n`
}

/** A running check, for the live block. */
export interface RunningCheck extends CheckEvent {
  startedAt: number
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏']

/** Cuts `text` to `width` visible characters (the text is plain; colour is applied after cutting). */
export function fitWidth(text: string, width: number): string {
  const chars = [...text]
  if (chars.length <= width) return text
  return `${chars.slice(0, Math.max(0, width - 1)).join('')}…`
}

/**
 * The live block: one line per running check (spinner, name, elapsed, progress note), then a status
 * line. Lines are cut to `width` so that none wraps (the redraw counts lines).
 */
export function renderLiveBlock(
  running: readonly RunningCheck[],
  status: { done: number; total: number; failed: number; elapsedMs: number },
  now: number,
  frame: number,
  width: number,
  maxRows: number,
  options: ConsoleRenderOptions = {},
): string[] {
  const c = colorsFor(options)
  const spinner = SPINNER[frame % SPINNER.length]!
  // maxRows counts every line: the running checks, the `… and N more` line and the status line.
  const shown = running.length + 1 > maxRows ? running.slice(0, Math.max(1, maxRows - 2)) : running
  const lines = shown.map((check) => {
    const r = withVisibleControls(check)
    const head = fitWidth(`${r.plan} › ${r.check}`, Math.max(10, width - 4))
    const tail = fitWidth(
      `  ${r.kind} ${formatDuration(now - r.startedAt)}${r.note ? `  ${r.note}` : ''}`,
      Math.max(0, width - 3 - [...head].length),
    )
    return `${c.cyan(spinner)} ${head}${c.dim(tail)}`
  })
  if (shown.length < running.length)
    lines.push(c.dim(fitWidth(`  … and ${running.length - shown.length} more running`, width - 1)))
  const failed = status.failed ? ` · ${c.red(`${status.failed} failed`)}` : ''
  const plain = `${running.length} running · ${status.done}/${status.total} done`
  lines.push(
    `${c.dim(fitWidth(plain, width - 20))}${failed}${c.dim(` · ${formatDuration(status.elapsedMs)}`)}`,
  )
  return lines
}

function problemSection(
  verdict: Verdict,
  warnings: boolean,
  c: Colors,
  options: ConsoleRenderOptions,
): string[] {
  const list = problems(verdict).filter((p) => p.warning === warnings)
  if (list.length === 0) return []
  const style = styleFor(c)
  const max = options.maxFindings ?? 20
  const lines = [c.bold(warnings ? WARNINGS_TITLE : 'Failures'), '']
  for (const { plan, result } of list) {
    const symbol = warnings ? c.yellow('⚠') : paint(c, result.state, SYMBOLS[result.state])
    const facts = [
      result.kind,
      formatLocation(result.location),
      ...(result.blocking === false ? ['non-blocking'] : []),
    ]
    lines.push(`${symbol} ${c.bold(`${plan.name} › ${result.check}`)}  ${c.dim(facts.join(' · '))}`)
    if (result.state === 'errored') lines.push(...errorLines(result.error, '  ', style))
    const limits = options.verdictPath !== undefined ? { verdictPath: options.verdictPath } : {}
    result.findings.slice(0, max).forEach((f, i) => lines.push(...findingLines(f, i, '  ', style, limits)))
    if (result.findings.length > max)
      lines.push(c.dim(`  … and ${result.findings.length - max} more findings (see the JSON report)`))
    lines.push('')
  }
  return lines
}

function notesSection(verdict: Verdict, c: Colors, options: ConsoleRenderOptions): string[] {
  const all = notes(verdict)
  if (all.length === 0) return []
  const max = options.maxNotes ?? 20
  const style = styleFor(c)
  const lines = [c.bold('Notes from passing checks'), '']
  for (const { plan, result, finding } of all.slice(0, max)) {
    lines.push(
      `  ${style.severity(finding.severity, finding.severity === 'info' ? 'ℹ' : '⚠')} ${c.dim(`${plan.name} › ${result.check}:`)} ${findingMessage(finding)}`,
    )
  }
  if (all.length > max) lines.push(c.dim(`  … and ${all.length - max} more (see the JSON report)`))
  return [...lines, '']
}

function runErrorsSection(verdict: Verdict, c: Colors): string[] {
  if (verdict.errors.length === 0) return []
  const lines = [c.bold('Run errors'), '']
  for (const error of verdict.errors) {
    const where = error.location ? `${formatLocation(error.location)} ` : ''
    lines.push(`${c.red('!')} ${where}${error.message} ${c.dim(`[${error.code}]`)}`)
    lines.push(...logTailLines(error.logTail, '  ', styleFor(c)))
  }
  return [...lines, '']
}

function buildsSection(verdict: Verdict, c: Colors): string[] {
  const sides = sidesOf(verdict.identity)
  if (sides.length === 0) return []
  const lines = [c.bold('Builds compared'), '']
  for (const [name, side] of sides) {
    lines.push(`  ${c.dim(`${name}:`)} ${sideSourceLine(side)}`)
    for (const service of sideServiceLines(side)) lines.push(`    ${service}`)
  }
  return [...lines, '']
}

function table(rows: string[][], rightAligned: ReadonlySet<number>): string[] {
  return formatTable(rows, { right: rightAligned, indent: '  ' })
}

function plansSection(verdict: Verdict, c: Colors): string[] {
  if (verdict.plans.length === 0) return []
  const head = ['plan', 'state', 'checks', 'passed', 'failed', 'errored', 'skipped', 'time']
  const rows = sortedPlans(verdict).map((plan) => {
    const n = planCounts(plan)
    const state = plan.blocking ? plan.state : `${plan.state} (non-blocking)`
    return [plan.name, state, n.total, n.passed, n.failed, n.errored, n.skipped]
      .map(String)
      .concat(formatDuration(plan.durationMs))
  })
  const t = verdict.summary.checks
  const total = ['total', '', t.total, t.passed, t.failed + t.warned, t.errored, t.skipped]
    .map(String)
    .concat(formatDuration(verdict.durationMs))
  const lines = table([head, ...rows, total], new Set([2, 3, 4, 5, 6, 7]))
  const colour: Record<string, (s: string) => string> = {
    passed: c.green,
    failed: c.red,
    warned: c.yellow,
    errored: c.magenta,
    skipped: c.dim,
  }
  const out = [c.dim(lines[0]!)]
  sortedPlans(verdict).forEach((plan, i) => out.push((colour[plan.state] ?? String)(lines[i + 1]!)))
  out.push(c.dim(lines.at(-1)!))
  return [c.bold('Plans'), '', ...out, '']
}

function resourcesSection(verdict: Verdict, c: Colors): string[] {
  const resources = resourceRows(verdict)
  if (!resources) return []
  const rows = resources.rows.map((row) => [
    row.copy ? `${row.service} (${copyLabel(row.copy)})` : row.service,
    ...row.cells,
  ])
  const lines = table([resources.head, ...rows], new Set([1, 2, 3]))
  return [c.bold('Resources while the checks ran'), '', c.dim(lines[0]!), ...lines.slice(1), '']
}

function timingsSection(verdict: Verdict, c: Colors): string[] {
  if (verdict.timings.length === 0) return []
  const total = verdict.durationMs > 0 ? verdict.durationMs : 1
  const rows = verdict.timings.map((t) => {
    const share = Math.min(1, Math.max(0, t.durationMs / total))
    const filled = Math.round(share * 20)
    return [
      t.phase,
      formatDuration(t.durationMs),
      `${'█'.repeat(filled)}${'░'.repeat(20 - filled)}`,
      `${Math.round(share * 100)}%`,
    ]
  })
  return [
    c.bold('Where time went'),
    '',
    ...table(rows, new Set([1, 3])).map((l) => l.replace(/[█░]+/, (bar) => c.cyan(bar))),
    '',
  ]
}

/**
 * The end-of-run summary: failures with every finding (message, step, expected vs actual, request,
 * response excerpt, reproduce command), warnings, notes, run errors with log tails, a table of plans,
 * where time went, and the one-line verdict. Order is fixed (plans by name), whatever the completion order.
 */
export function renderSummary(raw: Verdict, options: ConsoleRenderOptions = {}): string {
  const c = colorsFor(options)
  const verdict = withVisibleControls(raw)
  const status = { pass: c.green, fail: c.red, error: c.magenta }[verdict.status]
  const lines = [
    ...problemSection(verdict, false, c, options),
    ...problemSection(verdict, true, c, options),
    ...notesSection(verdict, c, options),
    ...runErrorsSection(verdict, c),
    ...buildsSection(verdict, c),
    ...plansSection(verdict, c),
    ...resourcesSection(verdict, c),
    ...timingsSection(verdict, c),
    c.bold(status(verdictLine(verdict))),
  ]
  return `\n${lines.join('\n')}\n`
}
