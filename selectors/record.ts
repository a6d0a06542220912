/**
 * The selection record: what `vigil select --json` prints and `vigil run --selection` reads. Its JSON
 * Schema ships as `selectors/schema/selection-record.json` (versioned by `schemaVersion`).
 */
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { validatorFor } from '../plans/ajv.js'
import { SelectionRecordError } from './errors.js'
import type { ChangedFile, FileStatus, RejectedPlan, SelectedPlan, TokenUsage } from './types.js'

const require = createRequire(import.meta.url)
/** The published schema (JSON, loaded once). */
export const selectionRecordSchema = require('./schema/selection-record.json') as Record<string, unknown>

/** Where the diff came from; `inline` is diff text passed as an argument (an MCP tool call). */
export type DiffSource = 'file' | 'stdin' | 'inline' | 'base' | 'patch'

export interface DiffFileSummary {
  path: string
  oldPath?: string
  status: FileStatus
  binary: boolean
  additions: number
  deletions: number
  outside?: boolean
}

export interface SelectionRecord {
  $schema?: string
  schemaVersion: 1
  diff: {
    hash: string
    source: DiffSource
    file?: string
    base?: string
    mergeBase?: string
    bytes: number
    files: DiffFileSummary[]
    warnings?: string[]
  }
  selector: 'rules' | 'llm' | 'hybrid'
  /** How the selector was chosen: `--selector`, `config selector.default`, `default: API key present`, `default: no API key`. */
  selectorChoice: string
  model?: string
  promptVersion?: string
  threshold?: number
  catalog: { plans: number; hash: string }
  /** Selected plans, sorted by name. */
  plans: SelectedPlan[]
  rejected: RejectedPlan[]
  unknown: Array<{ name: string; reason: string }>
  degraded: boolean
  degradedReason?: string
  usage: TokenUsage
  cache?: { key: string; hit: boolean }
  /** What the impact map said: the plans it selected, stale files, and changed code no plan exercises. */
  impact?: {
    commit?: string
    plans: string[]
    stale: string[]
    uncoveredFiles: string[]
    uncoveredLines: string[]
    notes: string[]
  }
  durationMs: number
}

export function summariseFile(file: ChangedFile): DiffFileSummary {
  const out: DiffFileSummary = {
    path: file.path,
    status: file.status,
    binary: file.binary,
    additions: file.additions,
    deletions: file.deletions,
  }
  if (file.oldPath !== undefined) out.oldPath = file.oldPath
  if (file.outside) out.outside = true
  return out
}

/** Validates a parsed record; `where` starts error messages. Throws {@link SelectionRecordError}. */
export function parseSelectionRecord(value: unknown, where: string): SelectionRecord {
  const validate = validatorFor<SelectionRecord>(selectionRecordSchema)
  if (validate(value)) return value
  const detail = (validate.errors ?? [])
    .slice(0, 5)
    .map((e) => `${e.instancePath || '(record)'} ${e.message ?? 'is invalid'}`)
    .join('; ')
  throw new SelectionRecordError(`${where}: not a vigil selection record: ${detail}`)
}

/** Reads and validates a record file written by `vigil select --out` / `--json`. */
export async function readSelectionRecord(file: string): Promise<SelectionRecord> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    throw new SelectionRecordError(`${file}: cannot read the selection record: ${(error as Error).message}`, {
      cause: error,
    })
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw new SelectionRecordError(`${file}: invalid JSON: ${(error as Error).message}`, { cause: error })
  }
  return parseSelectionRecord(value, file)
}

/** The part of a record the verdict keeps (engine/verdict.ts `VerdictSelection`, structurally). */
export interface RecordSelectionSummary {
  selector: string
  model?: string
  degraded?: boolean
  degradedReason?: string
  diffHash?: string
  plans: Array<{ name: string; source: SelectedPlan['source']; reason: string }>
}

export function toVerdictSelection(record: SelectionRecord): RecordSelectionSummary {
  const out: RecordSelectionSummary = {
    selector: record.selector,
    diffHash: record.diff.hash,
    plans: record.plans.map(({ name, source, reason, doubt }) => ({
      name,
      source,
      reason: doubt === undefined ? reason : `${reason}; the model doubts it: ${doubt}`,
    })),
  }
  if (record.model !== undefined) out.model = record.model
  if (record.degraded) out.degraded = true
  if (record.degradedReason !== undefined) out.degradedReason = record.degradedReason
  return out
}
