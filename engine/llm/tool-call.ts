/**
 * One forced tool call to the Messages API, for the commands that ask a model to draft something a person
 * reviews (`vigil adversary suggest`, `vigil plans suggest`). The reply is untrusted input: only the call
 * to the named tool counts, and its input must match the tool's JSON Schema (ajv) before anything reads it.
 * Nothing here is on the validation path: runs stay deterministic.
 */
import Anthropic from '@anthropic-ai/sdk'
import { validatorFor } from '../../plans/ajv.js'

export interface MessagesClientOptions {
  apiKey: string
  /** @default the SDK's */
  baseURL?: string
  /** @default 60000 */
  timeoutMs?: number
  /** @default 2 */
  maxRetries?: number
}

/** The model settings of a drafting command (from `resolveSelector`: the config, the environment, flags). */
export interface ModelCallOptions {
  /** Without one, the command says so and sends nothing. */
  apiKey?: string
  /** @default the SDK's */
  baseURL?: string
  model: string
  /** @default the command's */
  maxTokens?: number
  /** @default 60000 */
  timeoutMs?: number
  /** @default 2 */
  maxRetries?: number
}

/** A client that uses the key it is given and no other credential of the environment. */
export function messagesClient(options: MessagesClientOptions): Anthropic {
  return new Anthropic({
    apiKey: options.apiKey,
    authToken: null,
    baseURL: options.baseURL ?? null,
    maxRetries: options.maxRetries ?? 2,
    timeout: options.timeoutMs ?? 60_000,
  })
}

/** What went wrong with a request, in one line, without the request's content. */
export function describeApiError(error: unknown): string {
  if (error instanceof Anthropic.APIConnectionTimeoutError) return 'Messages API timed out'
  if (error instanceof Anthropic.APIConnectionError) return `Messages API unreachable: ${error.message}`
  if (error instanceof Anthropic.APIError && error.status !== undefined)
    return `Messages API answered ${error.status}`
  return `Messages API failed: ${(error as Error)?.message ?? String(error)}`
}

/** The reply's call to the tool, its input valid against the schema; or why it cannot be read. */
export type ToolCallReading =
  | { ok: true; input: unknown; call: Anthropic.ToolUseBlock }
  | { ok: false; missing: string }
  | { ok: false; invalid: string[]; call: Anthropic.ToolUseBlock }

/** Reads the call to `tool` in `message` and validates its input (at most five schema errors are named). */
export function readToolCall(
  message: Anthropic.Message,
  tool: string,
  schema: Record<string, unknown>,
): ToolCallReading {
  const content = Array.isArray(message.content) ? message.content : []
  const call = content.find((b) => b.type === 'tool_use' && b.name === tool)
  if (!call || call.type !== 'tool_use') {
    const got = content.map((b) => (b.type === 'tool_use' ? `tool_use ${b.name}` : b.type)).join(', ')
    return { ok: false, missing: got || 'nothing' }
  }
  const validate = validatorFor(schema)
  if (validate(call.input)) return { ok: true, input: call.input, call }
  const invalid = (validate.errors ?? [])
    .slice(0, 5)
    .map((e) => `${e.instancePath || '(input)'} ${e.message ?? 'is invalid'}`)
  return { ok: false, invalid, call }
}
