/**
 * Selectors: diff → selection record. One file per selector, one registry; `select()` runs one and
 * builds the record.
 */
import { createHash } from 'node:crypto'
import path from 'node:path'
import { IMPACT_FILE, matchImpact, readImpactMap } from './impact.js'
import type { ImpactMap } from './impact.js'
import { Redactor, redactableKeys } from '../plans/redact.js'
import type { Plan } from '../plans/types.js'
import { hybrid, hybridFloor } from './hybrid.js'
import { llm } from './llm.js'
import type { SelectorName } from './options.js'
import { renderCatalog } from './catalog.js'
import { summariseFile } from './record.js'
import type { DiffSource, SelectionRecord } from './record.js'
import { rules } from './rules.js'
import type {
  ParsedDiff,
  SelectedPlan,
  Selector,
  SelectorContext,
  SelectorOptions,
  SelectorResult,
} from './types.js'

export const selectors = { rules, llm, hybrid } satisfies Record<SelectorName, Selector>

export interface SelectInput {
  /** The catalog (any order; sorted by name here). */
  plans: readonly Plan[]
  diff: ParsedDiff
  /** Absolute folder the diff's paths are relative to (the config's): a changed plan file selects its plan. */
  root?: string
  /** Where the diff came from, for the record. */
  source: { kind: DiffSource; file?: string; base?: string; mergeBase?: string }
  selector: SelectorName
  /** How the selector was chosen, for the record. @default '--selector' */
  choice?: string
  options: SelectorOptions
  signal?: AbortSignal
  /**
   * The impact map: `false` for none; a map; or, by default, `vigil.impact.json` in `root` when there is one.
   */
  impact?: ImpactMap | false
  /** Knows the config's secrets (engine/vars.ts `configRedactor`); the API key is added here. @default none */
  redactor?: Redactor
}

/**
 * Runs a selector and returns its record, redacted whole: no form of the API key or of a configured
 * secret reaches the record, its files (`--out`, `selection.json`), the cache or an error message.
 * Throws what the selector throws (`llm` on API failure), its message redacted.
 */
export async function select(input: SelectInput): Promise<SelectionRecord> {
  const started = performance.now()
  const { plans, redactor, map, impact, context } = await prepare(input)
  let result: SelectorResult
  try {
    result = await selectors[input.selector].select(context)
  } catch (error) {
    if (error instanceof Error) error.message = redactor.text(error.message)
    throw error
  }
  const { diff, source } = input
  const record: SelectionRecord = {
    schemaVersion: 1,
    diff: {
      hash: diff.hash,
      source: source.kind,
      ...(source.file === undefined ? {} : { file: source.file }),
      ...(source.base === undefined ? {} : { base: source.base }),
      ...(source.mergeBase === undefined ? {} : { mergeBase: source.mergeBase }),
      bytes: diff.bytes,
      // Sorted by path: a --base diff appends untracked files after git's own order.
      files: diff.files.map(summariseFile).sort(byPath),
      ...(diff.warnings.length ? { warnings: diff.warnings } : {}),
    },
    selector: input.selector,
    selectorChoice: input.choice ?? '--selector',
    ...(result.model === undefined ? {} : { model: result.model }),
    ...(result.promptVersion === undefined ? {} : { promptVersion: result.promptVersion }),
    // A degraded `llm` selection is the rules selection, threshold included.
    ...(input.selector === 'llm' && !result.degraded ? {} : { threshold: input.options.threshold }),
    catalog: {
      plans: plans.length,
      hash: `sha256:${createHash('sha256').update(renderCatalog(plans)).digest('hex')}`,
    },
    plans: result.selected,
    rejected: result.rejected,
    unknown: result.unknown,
    degraded: result.degraded,
    ...(result.degradedReason === undefined ? {} : { degradedReason: result.degradedReason }),
    usage: result.usage ?? {
      requests: 0,
      inputTokens: 0,
      outputTokens: 0,
      cacheCreationInputTokens: 0,
      cacheReadInputTokens: 0,
    },
    ...(result.cache ? { cache: result.cache } : {}),
    ...(impact && map
      ? {
          impact: {
            ...(map.commit ? { commit: map.commit } : {}),
            plans: impact.selected.map((p) => p.name),
            stale: impact.stale,
            uncoveredFiles: impact.uncoveredFiles,
            uncoveredLines: impact.uncoveredLines,
            notes: impact.notes,
          },
        }
      : {}),
    durationMs: Math.round((performance.now() - started) * 10) / 10,
  }
  return redactor.json(record)
}

/** The catalog sorted, the redactor knowing the key, the impact map read and matched: what a selector gets. */
async function prepare(input: SelectInput) {
  const plans = [...input.plans].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const keys = redactableKeys([input.options.apiKey])
  const redactor = input.redactor ? input.redactor.with(keys) : new Redactor({ secrets: keys })
  const map =
    input.impact === false || !input.root
      ? undefined
      : (input.impact ?? (await readImpactMap(path.join(input.root, IMPACT_FILE))))
  const impact = map && input.root ? await matchImpact(map, input.diff, input.root) : undefined
  const context: SelectorContext = {
    plans,
    ...(impact ? { impact } : {}),
    diff: input.diff,
    options: input.options,
    redactor,
    ...(input.root ? { root: input.root } : {}),
    ...(input.signal ? { signal: input.signal } : {}),
  }
  return { plans, redactor, map, impact, context }
}

/** One request `--dry-run` shows: the batch it asks about and its size. */
export interface PreviewedRequest {
  plans: string[]
  /** The request body exactly as the SDK would send it (JSON), redacted. */
  body: string
  bytes: number
  /** Estimated input tokens (4 characters a token). */
  estimatedInputTokens: number
  /** `max_tokens` and the most output the batch's answer should need. */
  maxTokens: number
  replyBudget: number
}

/**
 * What `llm` or `hybrid` would send for this change, without a key and without sending anything: one
 * request per batch, each with its size. `hybrid`'s requests name the floor it keeps.
 */
export async function previewRequests(
  input: SelectInput & { selector: 'llm' | 'hybrid' },
): Promise<{ requests: PreviewedRequest[]; floor: SelectedPlan[]; omittedFiles: number }> {
  const { plans, redactor, context } = await prepare(input)
  // The prompt and the SDK load on first use, as for a selection that asks the model.
  const { prepareRequests } = await import('./model.js')
  const { estimateTokens, replyBudget } = await import('./prompt.js')
  const floor = input.selector === 'hybrid' ? hybridFloor(context).selected : []
  const prepared = prepareRequests(context, floor)
  const byName = new Map(plans.map((p) => [p.name, p]))
  const requests = prepared.requests.map((request, i) => {
    const body = redactor.text(JSON.stringify(request, null, 2))
    const batch = prepared.batches[i]!
    return {
      plans: batch,
      body,
      bytes: Buffer.byteLength(body),
      estimatedInputTokens: estimateTokens(JSON.stringify(request)),
      maxTokens: request.max_tokens,
      replyBudget: replyBudget(batch.map((n) => byName.get(n)!)),
    }
  })
  return { requests, floor, omittedFiles: prepared.omittedFiles }
}

function byPath(a: { path: string }, b: { path: string }): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0
}

export { parseDiff } from './diff.js'
export { diffAgainstBase, gitLocation, mergeBaseOf, pathMapper } from './git.js'
export { notADiff, readChange, readDiffFile, withoutPaths } from './input.js'
export type { ChangeInput, ChangeSource, ReadChangeOptions } from './input.js'
export { defaultCacheDir } from './llm.js'
export { IMPACT_FILE, readImpactMap, matchImpact, ImpactMapError } from './impact.js'
export type { ImpactMap, ImpactMatch } from './impact.js'
export { DEFAULT_MODEL, resolveSelector, SELECTOR_NAMES } from './options.js'
export type { SelectorConfig, SelectorFlags, SelectorName, ResolvedSelector } from './options.js'
export {
  readSelectionRecord,
  parseSelectionRecord,
  selectionRecordSchema,
  toVerdictSelection,
} from './record.js'
export type { SelectionRecord, DiffSource } from './record.js'
export { SelectorError, DiffError, LlmError, SelectionRecordError } from './errors.js'
export type * from './types.js'
