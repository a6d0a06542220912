/**
 * Evaluation on labelled changes: a folder of `<name>.patch` (or `.diff`) files, each with a
 * `<name>.expect.json` whose `plans` lists the plans that must be selected. Precision, recall and F1 per
 * change and in total (micro-averaged over all plan picks), with every miss and false pick named.
 */
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { SelectorError } from './errors.js'
import type { SelectionRecord } from './record.js'

export interface LabelledChange {
  name: string
  /** The diff file, as a path joined onto the folder given. */
  diffFile: string
  expected: string[]
  description?: string
}

/** Reads the pairs of a folder, sorted by name. Unpaired files are reported in `problems`, not fatal. */
export async function loadLabelledChanges(
  dir: string,
): Promise<{ changes: LabelledChange[]; problems: string[] }> {
  let entries: string[]
  try {
    entries = await readdir(dir)
  } catch (error) {
    throw new SelectorError(
      'VIGIL_USAGE',
      `--eval ${dir}: cannot read the folder: ${(error as Error).message}`,
    )
  }
  const diffs = new Map<string, string>()
  const labels = new Set<string>()
  for (const entry of entries.sort()) {
    const diff = /^(.*)\.(patch|diff)$/.exec(entry)
    if (diff && !diffs.has(diff[1]!)) diffs.set(diff[1]!, entry)
    const label = /^(.*)\.expect\.json$/.exec(entry)
    if (label) labels.add(label[1]!)
  }
  const problems: string[] = []
  const changes: LabelledChange[] = []
  for (const [name, file] of diffs) {
    if (!labels.has(name)) {
      problems.push(`${path.join(dir, file)}: no ${name}.expect.json next to it; skipped`)
      continue
    }
    const labelFile = path.join(dir, `${name}.expect.json`)
    let label: unknown
    try {
      label = JSON.parse(await readFile(labelFile, 'utf8'))
    } catch (error) {
      problems.push(`${labelFile}: ${(error as Error).message}; skipped`)
      continue
    }
    const plans = (label as { plans?: unknown })?.plans
    if (!Array.isArray(plans) || !plans.every((p) => typeof p === 'string')) {
      problems.push(`${labelFile}: "plans" must be an array of plan names; skipped`)
      continue
    }
    const description = (label as { description?: unknown }).description
    changes.push({
      name,
      diffFile: path.join(dir, file),
      expected: [...new Set(plans as string[])].sort(),
      ...(typeof description === 'string' ? { description } : {}),
    })
  }
  for (const name of [...labels].sort())
    if (!diffs.has(name))
      problems.push(`${path.join(dir, `${name}.expect.json`)}: no ${name}.patch or .diff; skipped`)
  return { changes, problems }
}

export interface Scores {
  precision: number
  recall: number
  f1: number
}

export interface ChangeScore extends Scores {
  name: string
  expected: string[]
  selected: string[]
  /** Expected but not selected: faults these plans catch would slip through. */
  misses: string[]
  /** Selected but not expected: run time spent for nothing. */
  falsePicks: string[]
  degraded: boolean
}

export interface EvalReport {
  selector: string
  model?: string
  changes: ChangeScore[]
  totals: Scores & {
    changes: number
    expected: number
    selected: number
    truePositives: number
    misses: number
    falsePicks: number
  }
  /** Labels naming plans that are not in the catalog (each counts as a miss). */
  unknownLabels: Array<{ change: string; plan: string }>
  degradedChanges: number
  problems: string[]
}

function scores(tp: number, selected: number, expected: number): Scores {
  const precision = selected ? tp / selected : 1
  const recall = expected ? tp / expected : 1
  const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0
  const round = (n: number) => Math.round(n * 1000) / 1000
  return { precision: round(precision), recall: round(recall), f1: round(f1) }
}

/** Scores one record against its labels. */
export function scoreChange(name: string, expected: readonly string[], record: SelectionRecord): ChangeScore {
  const selected = record.plans.map((p) => p.name).sort()
  const want = new Set(expected)
  const got = new Set(selected)
  const misses = [...want].filter((p) => !got.has(p)).sort()
  const falsePicks = selected.filter((p) => !want.has(p))
  const tp = selected.length - falsePicks.length
  return {
    name,
    expected: [...want].sort(),
    selected,
    misses,
    falsePicks,
    degraded: record.degraded,
    ...scores(tp, selected.length, want.size),
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
      if (!input.catalog.has(plan)) unknownLabels.push({ change: change.name, plan })
    results.push(scoreChange(change.name, change.expected, record))
  }
  const expected = results.reduce((n, r) => n + r.expected.length, 0)
  const selected = results.reduce((n, r) => n + r.selected.length, 0)
  const misses = results.reduce((n, r) => n + r.misses.length, 0)
  const falsePicks = results.reduce((n, r) => n + r.falsePicks.length, 0)
  const truePositives = selected - falsePicks
  return {
    selector,
    ...(model === undefined ? {} : { model }),
    changes: results,
    totals: {
      changes: results.length,
      expected,
      selected,
      truePositives,
      misses,
      falsePicks,
      ...scores(truePositives, selected, expected),
    },
    unknownLabels,
    degradedChanges: results.filter((r) => r.degraded).length,
    problems: input.problems ?? [],
  }
}

/** The human table: one row per change, then totals, misses and false picks by name. */
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
  const widths = header.map((h, i) => Math.max(h.length, ...[...rows, total].map((r) => r[i]!.length)))
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd()
  const out = [
    `selector ${report.selector}${report.model ? ` (${report.model})` : ''} on ${t.changes} labelled change(s)`,
    '',
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    line(total),
    '',
    `precision ${fmt(t.precision)}  recall ${fmt(t.recall)}  F1 ${fmt(t.f1)}  (${t.truePositives} of ${t.expected} expected picks found, ${t.selected} picks made)`,
  ]
  if (report.degradedChanges) out.push(`degraded: ${report.degradedChanges} change(s) fell back to rules`)
  for (const u of report.unknownLabels) out.push(`label names an unknown plan: ${u.change} expects ${u.plan}`)
  for (const p of report.problems) out.push(`note: ${p}`)
  return `${out.join('\n')}\n`
}

function fmt(n: number): string {
  return n.toFixed(2)
}
