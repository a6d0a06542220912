/**
 * Selection quality on labelled changes, against the "run everything" floor scored on the same labels:
 * - the sample shop's changes (`samples/shop/changes/`): `rules` must find every must plan (enforced);
 * - the json-server set (`test/fixtures/selection/json-server/`): real commits of a project written
 *   elsewhere, labelled against ten hint-only plans. Targets: `rules` alone must-recall >= 0.9, and
 *   `rules + impact map` >= 0.95, each at no more than a third of the plans per change that running
 *   everything costs. They are reported, not enforced, until the selectors reach them.
 * The set's diffs are regenerated from json-server's history and are not committed: without them, the
 * bench prints how to regenerate them and skips the set.
 */
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadConfig } from '../../plans/config.js'
import { loadPlans } from '../../plans/loader.js'
import type { Plan } from '../../plans/types.js'
import { checkSchemas } from '../../engine/run/load-plans.js'
import { readChange, resolveSelector, select } from '../../selectors/index.js'
import type { SelectionRecord, SelectorOptions } from '../../selectors/index.js'
import { evaluate, loadLabelledSet, renderComparison } from '../../selectors/eval.js'
import type { ComparisonRow, EvalReport, LabelledChange } from '../../selectors/eval.js'
import type { Bench, BenchGoal } from './harness.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

interface Catalog {
  plans: Plan[]
  dir: string
  /** The config's selector options, resolved as `vigil select --selector rules` resolves them. */
  options: SelectorOptions
}

/** A selector measured on a set: how it selects for one change, given the catalog. */
type SelectFor = (catalog: Catalog, change: LabelledChange) => Promise<SelectionRecord>

interface Variant {
  label: string
  /** Missing while the selector cannot run on the set; `pending` says why. */
  selectFor?: SelectFor
  pending?: string
  /** Must-recall the variant must reach on the json-server set. */
  recallGoal: number
}

/** `rules` on a change; `withMap`: with the impact map beside the config (`vigil.impact.json`), as `vigil select` reads it. */
const rulesWith =
  (withMap: boolean): SelectFor =>
  async (catalog, change) => {
    const text = await readFile(change.diffFile, 'utf8')
    const { diff, source } = await readChange({ kind: 'patch', text, file: change.diffFile }, catalog.dir)
    return select({
      plans: catalog.plans,
      diff,
      root: catalog.dir,
      source,
      selector: 'rules',
      options: catalog.options,
      ...(withMap ? {} : { impact: false as const }),
    })
  }
const rulesFor = rulesWith(false)

/**
 * The selectors compared on the json-server set: `rules` alone (no map: a team that has not recorded one),
 * and `rules` with the impact map committed beside the set's config (recorded with `vigil impact record`
 * on json-server 0.17.4; see the set's SOURCE.md).
 */
const variants: Variant[] = [
  { label: 'rules', selectFor: rulesFor, recallGoal: 0.9 },
  { label: 'rules + impact map', selectFor: rulesWith(true), recallGoal: 0.95 },
]

async function loadCatalog(config: string): Promise<Catalog> {
  const loaded = await loadConfig(config, root)
  const { plans, diagnostics } = await loadPlans({
    roots: loaded.config.plans.map((p) => path.resolve(loaded.dir, p)),
    cwd: root,
    checkSchemas: checkSchemas(),
  })
  const errors = diagnostics.filter((d) => d.severity === 'error')
  if (errors.length) throw new Error(`${config}: ${errors.length} plan error(s): ${errors[0]!.message}`)
  // No API key and no cache: only `rules` runs here, offline.
  const { options } = resolveSelector({
    config: loaded.config.selector,
    env: {},
    flags: { selector: 'rules' },
  })
  return { plans: [...plans], dir: loaded.dir, options }
}

async function measure(
  catalog: Catalog,
  changes: LabelledChange[],
  selectFor: SelectFor,
): Promise<EvalReport> {
  return evaluate({
    changes,
    catalog: new Set(catalog.plans.map((p) => p.name)),
    selectFor: (change) => selectFor(catalog, change),
  })
}

export const bench: Bench = {
  name: 'selection-set',
  async run(log) {
    const goals: BenchGoal[] = []

    const shop = await loadCatalog(path.join(root, 'samples/shop/vigil.config.yaml'))
    const shopChanges = (await loadLabelledSet(path.join(root, 'samples/shop/changes'))).changes
    const shopReport = await measure(shop, shopChanges, rulesFor)
    log(`sample shop, ${shopChanges.length} labelled changes, ${shop.plans.length} plans:`)
    for (const line of renderComparison([
      { label: 'rules', totals: shopReport.totals },
      { label: 'run everything', totals: shopReport.runEverything },
    ]))
      log(`  ${line}`)
    goals.push({
      label: 'shop: rules must-recall',
      value: shopReport.totals.recall,
      unit: '',
      goal: '= 1.00',
      met: shopReport.totals.recall === 1,
    })

    const labels = path.join(root, 'test/fixtures/selection/json-server/labels.json')
    const set = await loadLabelledSet(labels)
    if (set.missingDiffs) {
      log(`json-server set: skipped, its diffs are not there (${path.relative(root, set.missingDiffs.dir)}).`)
      log(`  regenerate them: ${set.missingDiffs.regenerate ?? 'see SOURCE.md'} PATH_TO_A_JSON_SERVER_CLONE`)
      log('  (without a path the script clones https://github.com/typicode/json-server.git)')
      return goals
    }
    for (const problem of set.problems) log(`note: ${problem}`)
    const catalog = await loadCatalog(path.join(path.dirname(labels), 'vigil.config.yaml'))
    const rows: ComparisonRow[] = []
    let floor: EvalReport['runEverything'] | undefined
    let rulesReport: EvalReport | undefined
    for (const variant of variants) {
      if (!variant.selectFor) {
        rows.push({ label: variant.label, pending: variant.pending ?? 'no selector' })
        continue
      }
      const report = await measure(catalog, set.changes, variant.selectFor)
      floor ??= report.runEverything
      if (variant.label === 'rules') rulesReport = report
      rows.push({ label: variant.label, totals: report.totals })
      const share = report.totals.plansPerChange / report.runEverything.plansPerChange
      goals.push(
        {
          label: `json-server: ${variant.label} must-recall`,
          value: report.totals.recall,
          unit: '',
          goal: `>= ${variant.recallGoal.toFixed(2)}`,
          met: report.totals.recall >= variant.recallGoal,
          informational: true,
        },
        {
          label: `json-server: ${variant.label} plans per change / run everything's`,
          value: share,
          unit: '',
          goal: '<= 0.33',
          met: share <= 1 / 3,
          informational: true,
        },
      )
    }
    if (floor) rows.push({ label: 'run everything', totals: floor })
    log(`json-server set, ${set.changes.length} labelled commits, ${catalog.plans.length} hint-only plans:`)
    for (const line of renderComparison(rows)) log(`  ${line}`)
    for (const change of rulesReport?.changes ?? [])
      if (change.misses.length)
        log(
          `  rules missed ${change.misses.join(', ')} on ${change.name} ${change.description ?? ''}`.trimEnd(),
        )
    return goals
  },
}
