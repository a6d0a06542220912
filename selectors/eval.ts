/**
 * Evaluation on labelled changes (see eval-load.ts for the two layouts). Per change and in total: must-recall
 * (share of the must plans selected; micro over all must labels, and the mean over changes that have one),
 * precision (selected plans that are must or may, over all selected), F1, plans per change and the changes
 * that missed a must plan, with every miss and every false pick named. The "run everything" floor — every
 * plan of the catalog for every change — is scored beside the selector, as what it must beat.
 */
import type { SelectionRecord } from './record.js'
import type { LabelledChange } from './eval-load.js'
import { formatTable } from '../plans/table.js'

export { loadLabelFile, loadLabelledChanges, loadLabelledSet, labelledChangesSchema } from './eval-load.js'
export type { LabelledChange, LoadedChanges } from './eval-load.js'

export interface Scores {
  /** Selected plans that are must or may, over all selected (1 when nothing is selected). */
  precision: number
  /** Must plans selected, over all must plans (1 when there are none). */
  recall: number
  f1: number
}

export interface ChangeScore extends Scores {
  name: string
  description?: string
  /** The must plans. */
  expected: string[]
  /** The plans acceptable to select. */
  may: string[]
  selected: string[]
  /** Must but not selected: faults these plans catch would slip through. */
  misses: string[]
  /** Selected may plans: acceptable, neither credited to recall nor counted against precision. */
  acceptable: string[]
  /** Selected but neither must nor may: run time spent for nothing. */
  falsePicks: string[]
  degraded: boolean
}

export interface Totals extends Scores {
  changes: number
  /** Must labels over all changes. */
  expected: number
  selected: number
  truePositives: number
  acceptable: number
  misses: number
  falsePicks: number
  /** Mean of the per-change must-recall over the changes that have a must plan; null when none has. */
  recallPerChange: number | null
  /** Changes with at least one must plan. */
  changesWithMust: number
  /** Changes that left out at least one must plan. */
  changesWithMiss: number
  /** Selected plans per change. */
  plansPerChange: number
}

export interface EvalReport {
  selector: string
  model?: string
  changes: ChangeScore[]
  totals: Totals
  /** The floor every selector is measured against: every plan of the catalog for every change. */
  runEverything: Totals
  /** Plans in the catalog. */
  catalogSize: number
  /** Labels naming plans that are not in the catalog (a must one counts as a miss). */
  unknownLabels: Array<{ change: string; plan: string; label: 'must' | 'may' }>
  degradedChanges: number
  problems: string[]
}

const round = (n: number) => Math.round(n * 1000) / 1000

function scores(good: number, tp: number, selected: number, expected: number): Scores {
  const precision = selected ? good / selected : 1
  const recall = expected ? tp / expected : 1
  const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0
  return { precision: round(precision), recall: round(recall), f1: round(f1) }
}

/** Scores a selection (plan names) against a change's must and may plans. */
export function scorePicks(
  name: string,
  expected: readonly string[],
  picked: readonly string[],
  may: readonly string[] = [],
): Omit<ChangeScore, 'degraded'> {
  const selected = [...new Set(picked)].sort()
  const want = new Set(expected)
  const ok = new Set(may.filter((p) => !want.has(p)))
  const got = new Set(selected)
  const misses = [...want].filter((p) => !got.has(p)).sort()
  const acceptable = selected.filter((p) => ok.has(p))
  const falsePicks = selected.filter((p) => !want.has(p) && !ok.has(p))
  const tp = selected.length - acceptable.length - falsePicks.length
  return {
    name,
    expected: [...want].sort(),
    may: [...ok].sort(),
    selected,
    misses,
    acceptable,
    falsePicks,
    ...scores(tp + acceptable.length, tp, selected.length, want.size),
  }
}

/** Scores one record against its labels. */
export function scoreChange(
  name: string,
  expected: readonly string[],
  record: SelectionRecord,
  may: readonly string[] = [],
): ChangeScore {
  const score = scorePicks(
    name,
    expected,
    record.plans.map((p) => p.name),
    may,
  )
  return { ...score, degraded: record.degraded }
}

/** Micro-averaged totals of scored changes. */
export function totalsOf(results: ReadonlyArray<Omit<ChangeScore, 'degraded'>>): Totals {
  const sum = (pick: (r: Omit<ChangeScore, 'degraded'>) => number) => results.reduce((n, r) => n + pick(r), 0)
  const expected = sum((r) => r.expected.length)
  const selected = sum((r) => r.selected.length)
  const acceptable = sum((r) => r.acceptable.length)
  const falsePicks = sum((r) => r.falsePicks.length)
  const truePositives = selected - acceptable - falsePicks
  const withMust = results.filter((r) => r.expected.length > 0)
  return {
    changes: results.length,
    expected,
    selected,
    truePositives,
    acceptable,
    misses: sum((r) => r.misses.length),
    falsePicks,
    ...scores(truePositives + acceptable, truePositives, selected, expected),
    recallPerChange: withMust.length
      ? round(
          withMust.reduce(
            (n, r) => n + r.expected.filter((p) => r.selected.includes(p)).length / r.expected.length,
            0,
          ) / withMust.length,
        )
      : null,
    changesWithMust: withMust.length,
    changesWithMiss: results.filter((r) => r.misses.length > 0).length,
    plansPerChange: results.length ? round(selected / results.length) : 0,
  }
}

/** Runs `selectFor` on every change, one after another (an LLM selector is rate-limited anyway). */
export async function evaluate(input: {
  changes: readonly LabelledChange[]
  catalog: ReadonlySet<string>
  problems?: string[]
  selectFor(change: LabelledChange): Promise<SelectionRecord>
}): Promise<EvalReport> {
  const results: ChangeScore[] = []
  const unknownLabels: EvalReport['unknownLabels'] = []
  let selector = ''
  let model: string | undefined
  for (const change of input.changes) {
    const record = await input.selectFor(change)
    selector = record.selector
    model ??= record.model
    for (const plan of change.expected)
      if (!input.catalog.has(plan)) unknownLabels.push({ change: change.name, plan, label: 'must' })
    for (const plan of change.may)
      if (!input.catalog.has(plan)) unknownLabels.push({ change: change.name, plan, label: 'may' })
    results.push({
      ...scoreChange(change.name, change.expected, record, change.may),
      ...(change.description === undefined ? {} : { description: change.description }),
    })
  }
  const everything = [...input.catalog]
  return {
    selector,
    ...(model === undefined ? {} : { model }),
    changes: results,
    totals: totalsOf(results),
    runEverything: totalsOf(input.changes.map((c) => scorePicks(c.name, c.expected, everything, c.may))),
    catalogSize: input.catalog.size,
    unknownLabels,
    degradedChanges: results.filter((r) => r.degraded).length,
    problems: input.problems ?? [],
  }
}

/** One row of a comparison between selectors, or a variant that cannot be measured yet and why. */
export type ComparisonRow = { label: string; totals: Totals } | { label: string; pending: string }

/** Must-recall, precision and plans per change of several selectors side by side, for a report or a bench. */
export function renderComparison(rows: readonly ComparisonRow[]): string[] {
  const header = ['selector', 'must-recall', 'per change', 'precision', 'plans/change', 'changes with a miss']
  const cells = rows.map((row) =>
    'pending' in row
      ? [row.label, `not measured: ${row.pending}`]
      : [
          row.label,
          fmt(row.totals.recall),
          row.totals.recallPerChange === null ? '-' : fmt(row.totals.recallPerChange),
          fmt(row.totals.precision),
          row.totals.plansPerChange.toFixed(2),
          `${row.totals.changesWithMiss} of ${row.totals.changesWithMust}`,
        ],
  )
  return table(header, cells)
}

/** The human table: one row per change, then totals, the run-everything floor, misses and false picks by name. */
export function renderEvalReport(report: EvalReport): string {
  const rows = report.changes.map((c) => [
    c.name,
    fmt(c.precision),
    fmt(c.recall),
    fmt(c.f1),
    c.misses.join(', ') || '-',
    c.falsePicks.join(', ') || '-',
  ])
  const t = report.totals
  const header = ['change', 'precision', 'recall', 'F1', 'misses', 'false picks']
  const total = ['total', fmt(t.precision), fmt(t.recall), fmt(t.f1), String(t.misses), String(t.falsePicks)]
  const label = `${report.selector}${report.model ? ` (${report.model})` : ''}`
  const out = [
    `selector ${label} on ${t.changes} labelled change(s), ${report.catalogSize} plan(s)`,
    '',
    ...table(header, [...rows, total]),
    '',
    `precision ${fmt(t.precision)}  recall ${fmt(t.recall)}  F1 ${fmt(t.f1)}  (${t.truePositives} of ${t.expected} expected picks found, ${t.selected} picks made${t.acceptable ? `, ${t.acceptable} of them acceptable (may)` : ''})`,
    '',
    ...renderComparison([
      { label, totals: t },
      { label: 'run everything', totals: report.runEverything },
    ]),
  ]
  if (report.degradedChanges) out.push(`degraded: ${report.degradedChanges} change(s) fell back to rules`)
  for (const u of report.unknownLabels)
    out.push(
      `label names an unknown plan: ${u.change} ${u.label === 'must' ? 'expects' : 'allows'} ${u.plan}`,
    )
  for (const p of report.problems) out.push(`note: ${p}`)
  return `${out.join('\n')}\n`
}

function table(header: readonly string[], rows: readonly string[][]): string[] {
  return formatTable([header, ...rows], { rule: true })
}

function fmt(n: number): string {
  return n.toFixed(2)
}
