/**
 * Asking the model, for `llm` and `hybrid`: the catalog in batches (p-limit), each request through the
 * Messages API (`@anthropic-ai/sdk`) under one deadline and vigil's retry policy (retry.ts), replies checked
 * like untrusted input (reply.ts), accepted answers cached (cache.ts). The selectors import this module on
 * their first use, so a `rules` selection never loads the SDK.
 */
import Anthropic from '@anthropic-ai/sdk'
import pLimit from 'p-limit'
import { cacheKey, readCached, writeCached } from './cache.js'
import { LlmError } from './errors.js'
import { PROMPT_VERSION, buildRequest, renderDiff } from './prompt.js'
import { UnacceptedAnswer, readReply } from './reply.js'
import { GaveUp, startDeadline, withRetries } from './retry.js'
import { byName, rulesSelection } from './rules.js'
import type { SelectorContext, SelectorResult, TokenUsage } from './types.js'

export function batches<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += Math.max(1, size)) out.push(items.slice(i, i + Math.max(1, size)))
  return out
}

/** The SDK's endpoint when none is configured. */
const DEFAULT_BASE_URL = 'https://api.anthropic.com'

function emptyUsage(): TokenUsage {
  return {
    requests: 0,
    inputTokens: 0,
    outputTokens: 0,
    cacheCreationInputTokens: 0,
    cacheReadInputTokens: 0,
  }
}

/**
 * Asks the model (or the cache) for a selection of `context.plans`. Throws {@link LlmError} when there is
 * no accepted answer; only accepted answers are cached.
 */
export async function askModel(
  { plans, diff, options, signal, redactor }: SelectorContext,
  selector: 'llm' | 'hybrid',
): Promise<SelectorResult> {
  if (!options.apiKey) {
    throw new LlmError(
      'VIGIL_LLM_NO_KEY',
      'no API key: set ANTHROPIC_API_KEY (or the variable selector.apiKeyEnv names)',
    )
  }
  const { text: diffText } = renderDiff(diff, plans, options.diffBudgetTokens)
  const groups = plans.length ? batches(plans, options.batchSize) : []
  const requests = groups.map((group) => buildRequest(group, diffText, options.model, options.maxTokens))
  const endpoint = (options.baseURL ?? DEFAULT_BASE_URL).replace(/\/+$/, '')
  // Everything that decides the answer: the selector, where it is asked, and the whole of each request
  // (model, system prompt, catalog, tool schema, diff, max_tokens).
  const key = cacheKey({ selector, endpoint, promptVersion: PROMPT_VERSION, requests })
  const base = { model: options.model, promptVersion: PROMPT_VERSION, degraded: false }
  const names = plans.map((p) => p.name)
  if (options.cacheDir) {
    const hit = await readCached(options.cacheDir, key, names)
    if (hit) {
      const { selected, rejected } = hit
      return { ...base, selected, rejected, unknown: [], usage: emptyUsage(), cache: { key, hit: true } }
    }
  }

  const client = new Anthropic({
    apiKey: options.apiKey,
    authToken: null,
    baseURL: options.baseURL ?? null,
    maxRetries: 0,
    timeout: options.timeoutMs,
  })
  const deadline = startDeadline(options.deadlineMs)
  // The first failure stops the other batches: the selection is degraded either way.
  const siblings = new AbortController()
  const combined = AbortSignal.any([deadline.signal, siblings.signal, ...(signal ? [signal] : [])])
  const policy = {
    maxRetries: options.maxRetries,
    deadline,
    signal: combined,
    ...(signal ? { callerSignal: signal } : {}),
  }
  const batchNames = groups.map((group) => group.map((p) => p.name))
  const usage = emptyUsage()
  const limit = pLimit(Math.max(1, options.concurrency))
  let answers
  try {
    answers = await Promise.all(
      requests.map((request, i) =>
        limit(async () => {
          let reply: unknown
          try {
            reply = await withRetries((s) => client.messages.create(request, { signal: s }), policy)
          } catch (error) {
            throw new LlmError('VIGIL_LLM_API', describeApiError(error), { cause: error })
          }
          const answer = readReply(reply, batchNames[i]!)
          for (const k of Object.keys(usage) as Array<keyof TokenUsage>) usage[k] += answer.usage[k]
          return answer
        }),
      ),
    )
  } catch (error) {
    limit.clearQueue()
    siblings.abort()
    throw error
  } finally {
    deadline.clear()
  }
  const selected = answers.flatMap((a) => a.selected).sort(byName)
  const rejected = answers.flatMap((a) => a.rejected).sort(byName)
  if (options.cacheDir) {
    await writeCached(options.cacheDir, { version: 2, key, ...base, selected, rejected, usage }, redactor)
  }
  return {
    ...base,
    selected,
    rejected,
    unknown: [],
    usage,
    ...(options.cacheDir ? { cache: { key, hit: false } } : {}),
  }
}

/**
 * The selection when the model gave no accepted answer: the full `rules` selection (`always`, `paths`,
 * changed plan files and lexical picks), marked degraded with the reason.
 */
export function degradedSelection(context: SelectorContext, error: LlmError): SelectorResult {
  const { plans, diff, options, root, redactor } = context
  const fallback = rulesSelection(plans, diff, options.threshold, root)
  return {
    ...fallback,
    unknown: error instanceof UnacceptedAnswer ? error.unknown : [],
    degraded: true,
    // The API's error text may echo the key or a secret of the diff.
    degradedReason: redactor ? redactor.text(error.message) : error.message,
    model: options.model,
    promptVersion: PROMPT_VERSION,
  }
}

/** One line saying what failed and after how many attempts, without headers or keys. */
export function describeApiError(error: unknown): string {
  if (!(error instanceof GaveUp)) return `Messages API failed: ${(error as Error)?.message ?? String(error)}`
  const { reason, attempts, last, deadlineMs, waitMs } = error
  const tries = `${attempts} ${attempts === 1 ? 'attempt' : 'attempts'}`
  const lastly = last === undefined ? '' : ` (last: ${failure(last)})`
  switch (reason) {
    case 'deadline':
      return `Messages API: deadline of ${seconds(deadlineMs)} reached after ${tries}${lastly}`
    case 'no-time':
      return `Messages API: deadline of ${seconds(deadlineMs)} reached after ${tries}: no time left for the ${seconds(waitMs ?? 0)} wait before a retry${lastly}`
    case 'aborted':
      return 'Messages API request aborted'
    case 'final':
    case 'exhausted':
      return `Messages API ${failure(last)}${attempts > 1 ? ` after ${tries}` : ''}`
  }
}

/** `answered 401 authentication_error: invalid x-api-key`, `timed out after 60 s`, `unreachable: …`. */
function failure(error: unknown): string {
  if (error instanceof Anthropic.APIConnectionTimeoutError) return 'timed out'
  if (error instanceof Anthropic.APIConnectionError) return `unreachable: ${oneLine(rootCause(error))}`
  if (error instanceof Anthropic.APIError && error.status !== undefined) {
    const type = typeof error.type === 'string' ? ` ${error.type}` : ''
    // Without a JSON body the SDK's message is `<status> <body text>` or `<status> status code (no body)`.
    const detail = error.apiMessage ?? error.message.replace(/^\d+ /, '')
    return `answered ${error.status}${type}${detail ? `: ${oneLine(detail)}` : ''}`
  }
  return `reply unreadable: ${oneLine((error as Error)?.message ?? String(error))}`
}

/** The innermost message of a cause chain: `connect ECONNREFUSED 127.0.0.1:1`, not `fetch failed`. */
function rootCause(error: Error): string {
  let inner: Error = error
  for (let depth = 0; depth < 5 && inner.cause instanceof Error; depth++) inner = inner.cause
  // undici's connection errors carry their detail on an AggregateError's members, or as a code.
  const first = inner instanceof AggregateError ? (inner.errors[0] as Error | undefined) : undefined
  const code = (inner as Error & { code?: unknown }).code
  return first?.message || inner.message || (typeof code === 'string' ? code : error.message)
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim()
  return flat.length > 200 ? `${flat.slice(0, 199)}…` : flat
}

/** `60 s`, `1.5 s`, `0.15 s`. */
function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(2))} s`
}
