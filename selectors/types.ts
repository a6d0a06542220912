/**
 * The selector model: a diff and the plan catalog go in, a selection comes out.
 * `selectors/` imports `plans/` only; the engine and the CLI import this folder.
 */
import type { Redactor } from '../plans/redact.js'
import type { Plan } from '../plans/types.js'
import type { ImpactMatch } from './impact.js'

/** How a file changed. */
export type FileStatus = 'added' | 'modified' | 'deleted' | 'renamed' | 'copied'

/** One hunk of a file's diff. */
export interface DiffHunk {
  /** The `@@ -a,b +c,d @@ context` line. */
  header: string
  /** Lines with their `+`, `-`, ` ` or `\` prefix. */
  lines: string[]
}

/** One file of a diff. Paths are relative to the config's folder (see `mapPath`). */
export interface ChangedFile {
  /** The file's path after the change (its old path for a deletion). */
  path: string
  /** The path before a rename or copy. */
  oldPath?: string
  status: FileStatus
  /** True for `Binary files … differ` and `GIT binary patch` entries: no hunks. */
  binary: boolean
  /** File mode change, e.g. `100644 → 100755`. */
  mode?: { old?: string; new?: string }
  additions: number
  deletions: number
  hunks: DiffHunk[]
  /** True when the path lies outside the config's folder (a `../` path): never matched against plan `paths`. */
  outside?: boolean
}

/** A parsed unified diff. */
export interface ParsedDiff {
  /** `sha256:<hex>` of the diff text as given (line endings normalised to LF). */
  hash: string
  files: ChangedFile[]
  /** Size of the diff text in bytes. */
  bytes: number
  /** Notes about parts that could not be parsed strictly (the part is still used leniently). */
  warnings: string[]
}

/** Where a selected plan came from. */
export type SelectionSource = 'paths' | 'always' | 'impact' | 'rules' | 'llm'

export interface SelectedPlan {
  name: string
  source: SelectionSource
  reason: string
  /** Lexical relevance in [0, 1] for `rules` picks. */
  score?: number
  /** `hybrid`: the model rejected this floor plan, and why; it runs anyway. */
  doubt?: string
}

export interface RejectedPlan {
  name: string
  /** `llm`: the model said no; `rules`: the lexical score stayed below the threshold. */
  source: 'llm' | 'rules'
  reason: string
  score?: number
}

/** Token usage summed over every API request of one selection. */
export interface TokenUsage {
  requests: number
  inputTokens: number
  outputTokens: number
  cacheCreationInputTokens: number
  cacheReadInputTokens: number
}

/** What a selector returns; `select()` turns it into a {@link SelectionRecord}. */
export interface SelectorResult {
  selected: SelectedPlan[]
  rejected: RejectedPlan[]
  /** Names the model returned that are not in the catalog: reported, never run. */
  unknown: Array<{ name: string; reason: string }>
  /** True when the selector fell back to rules because the LLM gave no accepted answer. */
  degraded: boolean
  degradedReason?: string
  model?: string
  promptVersion?: string
  usage?: TokenUsage
  /** Present when a result cache was consulted. */
  cache?: { key: string; hit: boolean }
}

/** Options every selector reads; resolved from flags, environment and `vigil.config.yaml` by `resolveSelectorOptions`. */
export interface SelectorOptions {
  /** Minimum lexical relevance (0–1) for a `rules` suggestion. @default 0.2 */
  threshold: number
  /** Messages API model. @default 'claude-sonnet-5-5' (options.ts `DEFAULT_MODEL`) */
  model: string
  /** API key; without one the `llm` selector cannot run. */
  apiKey?: string
  /** API base URL. @default the SDK's (https://api.anthropic.com) */
  baseURL?: string
  /** Per-request timeout in ms. @default 60000 */
  timeoutMs: number
  /** Retries of a request after 408/409/429/5xx and network errors (never 401/403). @default 2 */
  maxRetries: number
  /** Deadline of the whole selection (every request, retry and wait) in ms; then it degrades. @default 60000 */
  deadlineMs: number
  /** Token budget (chars/4) for the diff part of a prompt. @default 12000 */
  diffBudgetTokens: number
  /** Plans per LLM request; larger catalogs are split into batches. @default 150 */
  batchSize: number
  /** Parallel LLM requests when batching. @default 4 */
  concurrency: number
  /** Maximum output tokens per request. @default 4096 */
  maxTokens: number
  /** Folder of the result cache; undefined disables it. */
  cacheDir?: string
}

export interface SelectorContext {
  /** The catalog, sorted by name. */
  plans: readonly Plan[]
  /** Knows the API key and the config's secrets: what a selector writes or reports goes through it. */
  redactor?: Redactor
  diff: ParsedDiff
  /** Absolute folder the diff's paths are relative to (the config's): a changed plan file selects its plan. */
  root?: string
  options: SelectorOptions
  signal?: AbortSignal
  /** What the impact map says of this diff (its picks join the floor). @default no map */
  impact?: ImpactMatch
}

/** One selector: one file, one entry in the registry. */
export interface Selector {
  /** One sentence for `--help` and the README. */
  description: string
  /** True when it needs an API key. */
  needsApiKey: boolean
  select(context: SelectorContext): Promise<SelectorResult>
}
