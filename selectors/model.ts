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
import { PROMPT_VERSION, TOOL_NAME, buildRequest, planBatches, renderDiff } from './prompt.js'
import type { FloorPlan } from './prompt.js'
import { UnacceptedAnswer, readReply } from './reply.js'
import type { ReadReply } from './reply.js'
import { GaveUp, startDeadline, withRetries } from './retry.js'
import { byName, rulesSelection } from './rules.js'
import type { SelectorContext, SelectorResult, TokenUsage } from './types.js'

/** What would be sent for a selection: one request per batch of the catalog. */
export interface PreparedRequests {
  /** Plan names of each batch, in catalog order. */
  batches: string[][]
  requests: Anthropic.MessageCreateParamsNonStreaming[]
  /** Files of the diff whose hunks did not fit the diff budget. */
  omittedFiles: number
}

/**
 * The requests a selection sends, built without a key or a network: batches sized so no reply can be cut
 * at `max_tokens` (prompt.ts `planBatches`), each told which of its plans the floor keeps.
 */
export function prepareRequests(
  { plans, diff, options }: Pick<SelectorContext, 'plans' | 'diff' | 'options'>,
  floor: readonly FloorPlan[] = [],
): PreparedRequests {
  const { text: diffText, omittedFiles } = renderDiff(diff, plans, options.diffBudgetTokens)
  const groups = planBatches(plans, options.batchSize, options.maxTokens)
  const requests = groups.map((group) =>
    buildRequest(group, diffText, options.model, options.maxTokens, floor),
  )
  return { batches: groups.map((g) => g.map((p) => p.name)), requests, omittedFiles }
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
  context: SelectorContext,
  selector: 'llm' | 'hybrid',
  floor: readonly FloorPlan[] = [],
): Promise<SelectorResult> {
  const { plans, options, signal, redactor } = context
  if (!options.apiKey) {
    throw new LlmError(
      'VIGIL_LLM_NO_KEY',
      'no API key: set ANTHROPIC_API_KEY (or the variable selector.apiKeyEnv names)',
    )
  }
  const { batches: batchNames, requests } = prepareRequests(context, floor)
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
  const usage = emptyUsage()
  const unknown = new Map<string, { name: string; reason: string }>()
  const limit = pLimit(Math.max(1, options.concurrency))
  let answers
  try {
    answers = await Promise.all(
      requests.map((request, i) =>
        limit(async () => {
          const ask = async (body: typeof request): Promise<unknown> => {
            try {
              return await withRetries((s) => client.messages.create(body, { signal: s }), policy)
            } catch (error) {
              throw new LlmError('VIGIL_LLM_API', describeApiError(error), { cause: error })
            }
          }
          const names = batchNames[i]!
          const first = await ask(request)
          let answer: ReadReply
          try {
            answer = readReply(first, names)
          } catch (error) {
            if (!(error instanceof LlmError) || error.code !== 'VIGIL_LLM_INVALID_REPLY') throw error
            // One more chance, told what was wrong; a second unaccepted answer degrades the selection.
            for (const u of error instanceof UnacceptedAnswer ? error.unknown : []) unknown.set(u.name, u)
            usage.requests += 1
            try {
              answer = readReply(await ask(correction(request, first, error.message)), names)
            } catch (again) {
              if (again instanceof LlmError && again.code === 'VIGIL_LLM_INVALID_REPLY')
                again.message =
                  again.message === error.message
                    ? `${again.message} (asked twice)`
                    : `${again.message} (asked twice; the first answer: ${error.message})`
              throw again
            }
          }
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
    unknown: [...unknown.values()].sort(byName),
    usage,
    ...(options.cacheDir ? { cache: { key, hit: false } } : {}),
  }
}

/**
 * The request asking again after an unaccepted answer: when the reply held a `select_plans` call, the
 * conversation continues with that call and an error result saying what was wrong (the model corrects its
 * own answer); otherwise (text, a cut reply) the same request once more.
 */
function correction(
  request: Anthropic.MessageCreateParamsNonStreaming,
  reply: unknown,
  problem: string,
): Anthropic.MessageCreateParamsNonStreaming {
  const content = (reply as { content?: unknown } | undefined)?.content
  const call = Array.isArray(content)
    ? (content as Array<Record<string, unknown>>).find(
        (b) => b?.type === 'tool_use' && b.name === TOOL_NAME && typeof b.id === 'string',
      )
    : undefined
  if (!call) return request
  return {
    ...request,
    messages: [
      ...request.messages,
      {
        role: 'assistant',
        content: [{ type: 'tool_use', id: call.id as string, name: TOOL_NAME, input: call.input ?? {} }],
      },
      {
        role: 'user',
        content: [
          {
            type: 'tool_result',
            tool_use_id: call.id as string,
            is_error: true,
            content: `${problem}. Call ${TOOL_NAME} again: every plan of the catalog exactly once, spelled as the catalog spells it, each with a reason.`,
          },
        ],
      },
    ],
  }
}

/**
 * The selection when the model gave no accepted answer: the full `rules` selection (`always`, `paths`,
 * changed plan files and lexical picks), marked degraded with the reason.
 */
export function degradedSelection(context: SelectorContext, error: LlmError): SelectorResult {
  const { plans, diff, options, root, redactor, impact } = context
  const fallback = rulesSelection(plans, diff, options.threshold, root, impact)
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
