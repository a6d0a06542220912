/**
 * The model's reply is untrusted input: it must be one `select_plans` tool call whose input matches
 * {@link SELECTION_SCHEMA}; names outside the catalog are reported as unknown and never selected.
 */
import type Anthropic from '@anthropic-ai/sdk'
import { Ajv } from 'ajv'
import { LlmError } from './errors.js'
import { SELECTION_SCHEMA, TOOL_NAME } from './prompt.js'
import type { RejectedPlan, SelectedPlan } from './types.js'

const validate = new Ajv({ allErrors: true, strict: true }).compile<{
  selected: Array<{ name: string; reason: string }>
  rejected?: Array<{ name: string; reason: string }>
}>(SELECTION_SCHEMA)

export interface ReadReply {
  selected: SelectedPlan[]
  rejected: RejectedPlan[]
  unknown: Array<{ name: string; reason: string }>
}

/** Validates one reply against the names of the catalog it was asked about. Throws {@link LlmError}. */
export function readReply(message: Anthropic.Message, catalog: ReadonlySet<string>): ReadReply {
  const call = message.content.find((block) => block.type === 'tool_use' && block.name === TOOL_NAME)
  if (!call || call.type !== 'tool_use') {
    const kinds = message.content
      .map((b) => (b.type === 'tool_use' ? `tool_use ${b.name}` : b.type))
      .join(', ')
    const cut = message.stop_reason === 'max_tokens' ? ' (cut at max_tokens)' : ''
    throw new LlmError(
      'VIGIL_LLM_INVALID_REPLY',
      `reply has no ${TOOL_NAME} call${cut}; got: ${kinds || 'nothing'}`,
    )
  }
  if (!validate(call.input)) {
    const errors = (validate.errors ?? [])
      .slice(0, 5)
      .map((e) => `${e.instancePath || '(input)'} ${e.message ?? 'is invalid'}`)
      .join('; ')
    throw new LlmError('VIGIL_LLM_INVALID_REPLY', `${TOOL_NAME} input does not match its schema: ${errors}`)
  }
  const selected = new Map<string, SelectedPlan>()
  const rejected = new Map<string, RejectedPlan>()
  const unknown = new Map<string, { name: string; reason: string }>()
  for (const { name, reason } of call.input.selected) {
    if (!catalog.has(name))
      unknown.set(name, { name, reason: `not in the catalog (the model said: ${oneLine(reason)})` })
    else if (!selected.has(name))
      selected.set(name, { name, source: 'llm', reason: oneLine(reason) || 'selected by the model' })
  }
  for (const { name, reason } of call.input.rejected ?? []) {
    if (!catalog.has(name) || selected.has(name) || rejected.has(name)) continue
    rejected.set(name, { name, source: 'llm', reason: oneLine(reason) || 'rejected by the model' })
  }
  return {
    selected: [...selected.values()],
    rejected: [...rejected.values()],
    unknown: [...unknown.values()],
  }
}

/** Reasons go into terminals and Markdown: one line, bounded. */
function oneLine(text: string): string {
  // Control characters (terminal escapes included) are exactly what must go.
  // eslint-disable-next-line no-control-regex
  const controls = /[\u0000-\u001f\u007f]+/g
  const flat = text.replace(controls, ' ').replace(/\s+/g, ' ').trim()
  return flat.length > 300 ? `${flat.slice(0, 299)}…` : flat
}
