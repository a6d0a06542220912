/**
 * `llm`: the plan catalog and the diff go to the Messages API (`@anthropic-ai/sdk`) with a forced
 * `select_plans` tool call at temperature 0. Catalogs larger than `batchSize` are split into batches
 * sent in parallel (p-limit); each batch's catalog is its own cacheable prefix. Replies are validated
 * like untrusted input (reply.ts). Failures throw {@link LlmError}; `hybrid` turns them into a degraded
 * `rules` selection.
 */
import Anthropic from '@anthropic-ai/sdk'
import pLimit from 'p-limit'
import path from 'node:path'
import type { Plan } from '../plans/types.js'
import { cacheKey, readCached, writeCached } from './cache.js'
import { LlmError } from './errors.js'
import { PROMPT_VERSION, buildRequest, renderCatalog, renderDiff } from './prompt.js'
import { readReply } from './reply.js'
import { byName } from './rules.js'
import type {
  RejectedPlan,
  SelectedPlan,
  Selector,
  SelectorContext,
  SelectorResult,
  TokenUsage,
} from './types.js'

export function batches<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += Math.max(1, size)) out.push(items.slice(i, i + Math.max(1, size)))
  return out
}

function emptyUsage(): TokenUsage {
  return {
    requests: 0,
    inputTokens: 0,
    outputTokens: 0,
    cacheCreationInputTokens: 0,
    cacheReadInputTokens: 0,
  }
}

/** Runs the LLM selection (or reads it from the cache). Throws {@link LlmError} on any failure. */
export async function llmSelection({
  plans,
  diff,
  options,
  signal,
}: SelectorContext): Promise<SelectorResult> {
  if (!options.apiKey) {
    throw new LlmError(
      'VIGIL_LLM_NO_KEY',
      'no API key: set ANTHROPIC_API_KEY (or the variable selector.apiKeyEnv names)',
    )
  }
  const { text: diffText } = renderDiff(diff, plans, options.diffBudgetTokens)
  const groups = plans.length ? batches(plans, options.batchSize) : []
  const key = cacheKey({
    model: options.model,
    promptVersion: PROMPT_VERSION,
    catalogs: groups.map(renderCatalog),
    diff: diffText,
    maxTokens: options.maxTokens,
  })
  const base = { model: options.model, promptVersion: PROMPT_VERSION, degraded: false }
  if (options.cacheDir) {
    const hit = await readCached(options.cacheDir, key)
    if (hit) {
      return {
        ...base,
        selected: hit.selected,
        rejected: hit.rejected,
        unknown: hit.unknown,
        usage: emptyUsage(),
        cache: { key, hit: true },
      }
    }
  }

  const client = new Anthropic({
    apiKey: options.apiKey,
    authToken: null,
    baseURL: options.baseURL ?? null,
    maxRetries: options.maxRetries,
    timeout: options.timeoutMs,
  })
  const usage = emptyUsage()
  const limit = pLimit(Math.max(1, options.concurrency))
  const answers = await Promise.all(
    groups.map((group) =>
      limit(() => ask(client, group, diffText, options.model, options.maxTokens, usage, signal)),
    ),
  )
  const selected: SelectedPlan[] = answers.flatMap((a) => a.selected).sort(byName)
  const rejected: RejectedPlan[] = answers.flatMap((a) => a.rejected).sort(byName)
  const unknown = answers.flatMap((a) => a.unknown).sort(byName)
  if (options.cacheDir) {
    await writeCached(options.cacheDir, { version: 1, key, ...base, selected, rejected, unknown, usage })
  }
  return {
    ...base,
    selected,
    rejected,
    unknown,
    usage,
    ...(options.cacheDir ? { cache: { key, hit: false } } : {}),
  }
}

async function ask(
  client: Anthropic,
  group: readonly Plan[],
  diffText: string,
  model: string,
  maxTokens: number,
  usage: TokenUsage,
  signal: AbortSignal | undefined,
) {
  let message: Anthropic.Message
  try {
    message = await client.messages.create(
      buildRequest(group, diffText, model, maxTokens),
      signal ? { signal } : {},
    )
  } catch (error) {
    throw new LlmError('VIGIL_LLM_API', describeApiError(error, client.maxRetries), { cause: error })
  }
  usage.requests++
  usage.inputTokens += message.usage?.input_tokens ?? 0
  usage.outputTokens += message.usage?.output_tokens ?? 0
  usage.cacheCreationInputTokens += message.usage?.cache_creation_input_tokens ?? 0
  usage.cacheReadInputTokens += message.usage?.cache_read_input_tokens ?? 0
  return readReply(message, new Set(group.map((p) => p.name)))
}

/** One line saying what failed, without headers or keys. */
export function describeApiError(error: unknown, retries: number): string {
  const after = retries ? ` after ${retries} ${retries === 1 ? 'retry' : 'retries'}` : ''
  if (error instanceof Anthropic.APIConnectionTimeoutError) return `Messages API timed out${after}`
  if (error instanceof Anthropic.APIUserAbortError) return 'Messages API request aborted'
  if (error instanceof Anthropic.APIConnectionError)
    return `Messages API unreachable${after}: ${error.message}`
  if (error instanceof Anthropic.APIError && error.status !== undefined) {
    const detail = (error.error as { error?: { message?: string } } | undefined)?.error?.message
    return `Messages API answered ${error.status}${after}${detail ? `: ${detail}` : ''}`
  }
  return `Messages API reply unreadable: ${(error as Error)?.message ?? String(error)}`
}

export const llm: Selector = {
  description: 'Asks the Messages API to pick plans from the catalog for the diff; replies are validated.',
  needsApiKey: true,
  select: llmSelection,
}

/** The default cache folder of a config folder. */
export function defaultCacheDir(configDir: string): string {
  return path.join(configDir, '.vigil', 'cache', 'selections')
}
