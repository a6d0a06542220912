/**
 * `markdown`: a summary for a pull-request comment or GitHub's job summary. Without a path it appends
 * to GITHUB_STEP_SUMMARY when that is set (as GitHub expects), else writes to stdout.
 */
import type { CheckResult, Finding, PlanResult, PlanState, Verdict } from '../engine/verdict.js'
import {
  deferredNote,
  byteLength,
  checkDuration,
  describeCounts,
  detailsLines,
  findingFacts,
  formatDuration,
  findingMessage,
  formatLocation,
  limitLines,
  logsLines,
  logsTitle,
  notes,
  planCounts,
  problems,
  reproduceAfterRun,
  sideServiceLines,
  sideSourceLine,
  sidesOf,
  sortedPlans,
  tailLines,
  WARNINGS_TITLE,
  resourceRows,
} from './format.js'
import type { Problem } from './format.js'
import { htmlText, mdCode, mdFence, mdTable, mdText } from './markdown-text.js'
import { writeDocument } from './output.js'
import type { ReporterFactory } from './types.js'

/** GitHub rejects a step summary over 1 MiB; stay a little below so other steps' text still fits. */
export const GITHUB_SUMMARY_LIMIT = 1_000_000

export interface MarkdownOptions {
  /** Largest output in bytes (UTF-8); sections are cut with a note to fit. @default 1_000_000 */
  maxBytes?: number
  /** Where the JSON verdict is written, for the `vigil reproduce` lines. @default `<verdict.json>` */
  verdictPath?: string
}

const STATUS_EMOJI = { pass: '✅', fail: '❌', error: '💥' } as const
const PLAN_EMOJI: Record<PlanState, string> = {
  passed: '✅',
  failed: '❌',
  warned: '⚠️',
  errored: '💥',
  skipped: '⏭️',
}

/** A titled list of blocks that may be cut at the end to fit; `note` says how many were left out. */
interface Section {
  title: string
  /** Markdown shown before the blocks. */
  intro?: string
  /** A table's head: the blocks are its rows. */
  table?: string[]
  blocks: string[]
  /** What the blocks are, for the "not shown" note, e.g. `failing checks`. */
  unit: string
}

function headline(verdict: Verdict): string[] {
  const c = verdict.summary.checks
  const bad = [
    c.failed && `${c.failed} failed`,
    c.errored && `${c.errored} errored`,
    c.warned && `${c.warned} warned`,
  ]
    .filter(Boolean)
    .join(', ')
  const title = `${verdict.status.toUpperCase()}${bad ? ` — ${bad} of ${c.total} checks` : ` — ${c.total} checks`}`
  const id = verdict.identity
  const facts = [`run ${mdCode(id.runId)}`]
  if (id.commit) facts.push(`commit ${mdCode(id.commit)}`)
  if (id.base) facts.push(`base ${mdCode(id.base)}`)
  if (id.patch) facts.push(`patch ${mdCode(id.patch)}`)
  facts.push(`seed ${id.seed}`)
  if (id.requester) facts.push(`requested by ${mdText(id.requester)}`)
  const lines = [
    `## ${STATUS_EMOJI[verdict.status]} vigil: ${title}`,
    '',
    `${describeCounts(verdict.summary.checks, 'check')} · ${describeCounts(verdict.summary.plans, 'plan')} · ${formatDuration(verdict.durationMs)} · exit ${verdict.exitCode}`,
    '',
    facts.join(' · '),
  ]
  const sides = sidesOf(id)
  if (sides.length) {
    lines.push('', mdTable(['Side', 'Built from', 'Services'], []).join('\n'))
    for (const [name, side] of sides) {
      const services = sideServiceLines(side).map(mdCode).join('<br>')
      lines.push(`| ${name} | ${mdText(sideSourceLine(side))} | ${services} |`)
    }
  }
  if (verdict.cancelled) lines.push('', '> [!WARNING]', '> The run was cancelled: results are partial.')
  const deferred = deferredNote(verdict)
  if (deferred) lines.push('', '> [!WARNING]', `> Not a full verdict — ${mdText(deferred)}.`)
  return lines
}

function selectionSection(verdict: Verdict): Section | undefined {
  const s = verdict.selection
  if (!s) return undefined
  const by = [`Selected by ${mdCode(s.selector)}`]
  if (s.model) by.push(`model ${mdCode(s.model)}`)
  if (s.diffHash) by.push(`diff ${mdCode(s.diffHash)}`)
  const intro = [`${by.join(', ')}: ${s.plans.length} plan${s.plans.length === 1 ? '' : 's'}.`]
  if (s.degraded) {
    intro.push(
      '',
      '> [!WARNING]',
      `> Selection degraded${s.degradedReason ? `: ${mdText(s.degradedReason)}` : ''}.`,
    )
  }
  const table = s.plans.length > 0 ? mdTable(['Plan', 'Source', 'Why'], []) : undefined
  const blocks = s.plans.map((p) => `| ${mdCode(p.name)} | ${p.source} | ${mdText(p.reason)} |`)
  return { title: 'Selection', intro: intro.join('\n'), table, blocks, unit: 'selected plans' }
}

function planRow(plan: PlanResult): string {
  const counts = planCounts(plan)
  const parts = [`${counts.passed}/${counts.total} passed`]
  for (const key of ['failed', 'errored', 'skipped'] as const)
    if (counts[key]) parts.push(`${counts[key]} ${key}`)
  const state = plan.blocking ? plan.state : `${plan.state} (non-blocking)`
  const title = plan.title && plan.title !== plan.name ? ` ${mdText(plan.title)}` : ''
  return `| ${PLAN_EMOJI[plan.state]} | ${mdCode(plan.name)}${title} | ${state} | ${parts.join(', ')} | ${formatDuration(plan.durationMs)} |`
}

function plansSection(verdict: Verdict): Section | undefined {
  // No plan ran (nothing applies to the change): the headline says so, an empty table would say nothing.
  if (verdict.plans.length === 0) return undefined
  const table = mdTable(['', 'Plan', 'State', 'Checks', 'Duration'], [], ['l', 'l', 'l', 'l', 'r'])
  return { title: 'Plans', table, blocks: sortedPlans(verdict).map(planRow), unit: 'plans' }
}

/** Findings shown per check; the JSON report has them all. */
const MAX_FINDINGS = 20

/** Appends a paragraph-like block with exactly one blank line before it. */
function para(lines: string[], ...block: string[]): void {
  if (lines.length > 0 && lines.at(-1) !== '') lines.push('')
  lines.push(...block)
}

function findingMarkdown(lines: string[], finding: Finding, index: number, verdictPath?: string): void {
  const indent = '   '
  para(lines, `${index + 1}. **${finding.severity}**: ${mdText(findingMessage(finding))}`)
  for (const [label, value] of findingFacts(finding, 500)) lines.push(`${indent}- ${label}: ${mdCode(value)}`)
  const details = detailsLines(finding, 30, 500)
  if (details.length) para(lines, `${indent}Details:`, '', mdFence('text', details.join('\n'), indent))
  const { excerpt, reproduce, logs } = finding.evidence ?? {}
  if (excerpt) {
    const title = `${excerpt.label.charAt(0).toUpperCase()}${excerpt.label.slice(1)}`
    para(
      lines,
      `${indent}${mdText(title)}:`,
      '',
      mdFence('text', limitLines(excerpt.text, 30).join('\n'), indent),
    )
  }
  if (logs) {
    const title = logsTitle(logs)
    para(
      lines,
      `${indent}${mdText(`${title.charAt(0).toUpperCase()}${title.slice(1)}`)}:`,
      '',
      mdFence('text', logsLines(logs).join('\n'), indent),
    )
  }
  if (reproduce) {
    const after =
      finding.id !== undefined ? `\n# after the run:\n${reproduceAfterRun(finding.id, verdictPath)}` : ''
    para(lines, `${indent}Reproduce:`, '', mdFence('sh', `${reproduce}${after}`, indent))
  }
}

function problemBlock({ plan, result, warning }: Problem, verdictPath?: string): string {
  const icon = warning ? '⚠️' : result.state === 'errored' ? '💥' : '❌'
  const findings = result.findings
  const first =
    result.state === 'errored'
      ? result.error.message
      : (findings.find((f) => f.severity === 'error') ?? findings[0])?.message
  const summary = `${icon} <code>${htmlText(plan.name)}</code> › ${htmlText(result.check)}${first ? ` — ${htmlText(first)}` : ''}`
  const lines = ['<details>', `<summary>${summary}</summary>`]
  const duration = formatDuration(checkDuration(result as CheckResult) ?? 0)
  const nonBlocking = result.blocking === false ? ' · non-blocking check' : ''
  para(
    lines,
    `${mdCode(formatLocation(result.location))} · ${mdText(result.kind)} · ${duration}${nonBlocking}`,
  )
  if (result.state === 'errored') {
    const e = result.error
    para(lines, `**${mdText(e.name)}${e.code ? ` ${mdCode(e.code)}` : ''}**: ${mdText(e.message)}`)
    if (e.logTail?.length) para(lines, 'Log tail:', '', mdFence('text', tailLines(e.logTail, 50).join('\n')))
  }
  findings.slice(0, MAX_FINDINGS).forEach((finding, i) => findingMarkdown(lines, finding, i, verdictPath))
  if (findings.length > MAX_FINDINGS) {
    para(lines, `_… and ${findings.length - MAX_FINDINGS} more findings; the JSON report has them all._`)
  }
  para(lines, '</details>')
  return lines.join('\n')
}

function runErrorsSection(verdict: Verdict): Section | undefined {
  if (verdict.errors.length === 0) return undefined
  const blocks = verdict.errors.map((error) => {
    const where = error.location ? `${mdCode(formatLocation(error.location))} ` : ''
    const lines = [`- 💥 ${mdCode(error.code)} ${where}${mdText(error.message)}`]
    if (error.logTail?.length) lines.push('', mdFence('text', tailLines(error.logTail, 50).join('\n'), '  '))
    return lines.join('\n')
  })
  return { title: 'Run errors', blocks, unit: 'run errors' }
}

function notesSection(verdict: Verdict): Section | undefined {
  const all = notes(verdict)
  if (all.length === 0) return undefined
  const blocks = all.map(({ plan, result, finding }) => {
    const icon = finding.severity === 'warning' ? '⚠️' : 'ℹ️'
    return `- ${icon} ${mdCode(plan.name)} › ${mdText(result.check)}: ${mdText(findingMessage(finding))}`
  })
  return { title: 'Notes from passing checks', blocks, unit: 'notes' }
}

function resourcesSection(verdict: Verdict): Section | undefined {
  const table = resourceRows(verdict)
  if (!table) return undefined
  return {
    title: 'Resources while the checks ran',
    table: mdTable(table.head, [], ['l', 'r', 'r', 'r']),
    blocks: table.rows.map(({ service, copy, cells }) => {
      const name = copy
        ? `${mdCode(service)} (copy${copy.nth ? ` ${copy.nth}` : ''}: ${mdCode(copy.plan)} › ${mdText(copy.check)})`
        : mdCode(service)
      return `| ${name} | ${cells.join(' | ')} |`
    }),
    unit: 'services',
  }
}

function timingsSection(verdict: Verdict): Section | undefined {
  if (verdict.timings.length === 0) return undefined
  const total = verdict.durationMs > 0 ? verdict.durationMs : 1
  const table = mdTable(['Phase', 'Duration', 'Share'], [], ['l', 'r', 'r'])
  const blocks = verdict.timings.map(
    (t) =>
      `| ${mdCode(t.phase)} | ${formatDuration(t.durationMs)} | ${Math.round((t.durationMs / total) * 100)}% |`,
  )
  return { title: 'Where time went', table, blocks, unit: 'timings' }
}

/**
 * The verdict as GitHub-flavoured Markdown, at most `maxBytes` (UTF-8). When the whole does not fit,
 * sections are filled in priority order (run errors, plans, failures, warnings, selection, notes,
 * timings) and each cut section says how many entries it left out.
 */
export function renderMarkdown(verdict: Verdict, options: MarkdownOptions = {}): string {
  const maxBytes = options.maxBytes ?? GITHUB_SUMMARY_LIMIT
  const all = problems(verdict)
  const failing: Section = {
    title: 'Failures',
    blocks: all.filter((p) => !p.warning).map((p) => problemBlock(p, options.verdictPath)),
    unit: 'failing checks',
  }
  const warned: Section = {
    title: WARNINGS_TITLE,
    blocks: all.filter((p) => p.warning).map((p) => problemBlock(p, options.verdictPath)),
    unit: 'warnings',
  }
  const ordered = [
    selectionSection(verdict),
    plansSection(verdict),
    failing.blocks.length ? failing : undefined,
    warned.blocks.length ? warned : undefined,
    runErrorsSection(verdict),
    notesSection(verdict),
    resourcesSection(verdict),
    timingsSection(verdict),
  ].filter((s): s is Section => s !== undefined)
  const priority = [
    'Run errors',
    'Plans',
    'Failures',
    WARNINGS_TITLE,
    'Selection',
    'Notes from passing checks',
    'Resources while the checks ran',
    'Where time went',
  ]
  const head = headline(verdict).join('\n')
  const truncationNote =
    '\n\n---\n_This summary was shortened to fit its size limit (GitHub takes at most 1 MiB); the JSON and JUnit reports have everything._\n'
  let budget = maxBytes - byteLength(head) - byteLength(truncationNote) - 2
  const kept = new Map<Section, number>()
  for (const title of priority) {
    const section = ordered.find((s) => s.title === title)
    if (!section) continue
    const frame = byteLength(
      `\n\n### ${section.title}\n\n${section.intro ?? ''}\n\n${(section.table ?? []).join('\n')}\n\n_000000 of 000000 ${section.unit} not shown._`,
    )
    if (frame > budget) {
      kept.set(section, -1)
      continue
    }
    budget -= frame
    let count = 0
    for (const block of section.blocks) {
      const size = byteLength(block) + 2
      if (size > budget) break
      budget -= size
      count += 1
    }
    kept.set(section, count)
  }
  let truncated = false
  const parts = [head]
  for (const section of ordered) {
    const count = kept.get(section) ?? -1
    if (count < 0) {
      truncated = true
      continue
    }
    const shown = section.blocks.slice(0, count)
    // Table rows must be on consecutive lines; other blocks (details, list items) get a blank line between.
    const body = section.table ? [...section.table, ...shown].join('\n') : shown.join('\n\n')
    let text = `### ${section.title}${section.intro ? `\n\n${section.intro}` : ''}${body ? `\n\n${body}` : ''}`
    if (count < section.blocks.length) {
      truncated = true
      text += `\n\n_${section.blocks.length - count} of ${section.blocks.length} ${section.unit} not shown._`
    }
    parts.push(text)
  }
  return `${parts.join('\n\n')}${truncated ? truncationNote : '\n'}`
}

export const markdown: ReporterFactory = {
  description:
    'a Markdown summary for PR comments; markdown:FILE, else appended to $GITHUB_STEP_SUMMARY, else stdout',
  defaultTarget: (io) =>
    io.env.GITHUB_STEP_SUMMARY ? { path: io.env.GITHUB_STEP_SUMMARY, append: true } : 'stdout',
  create: ({ target, io }) => ({
    onRunEnd: (verdict) =>
      writeDocument(
        target,
        renderMarkdown(verdict, io.verdictPath !== undefined ? { verdictPath: io.verdictPath } : {}),
      ),
  }),
}
