/**
 * The model's reply is untrusted input. A 200 from the endpoint must be a Messages API message holding
 * exactly one `select_plans` call whose input matches {@link selectionInput}, and that input must account
 * for every plan of the batch it was asked about — each selected or rejected, with a reason — and name no
 * other plan. Anything else (HTML, `{}`, `content: null`, a wrong input shape, an empty answer, a plan left
 * out, a near-miss name such as `crud_resources`) is an {@link LlmError}: the selection degrades to the
 * deterministic floor rather than passing a change no plan looked at.
 */
import { closest, distance } from 'fastest-levenshtein'
import { z } from 'zod'
import { LlmError } from './errors.js'
import { TOOL_NAME, selectionInput } from './prompt.js'
import type { RejectedPlan, SelectedPlan, TokenUsage } from './types.js'

const count = z.number().int().nonnegative().nullish().catch(undefined)

/** The part of a Messages API message vigil reads; other fields are allowed and ignored. */
const messageShape = z.looseObject({
  type: z.literal('message'),
  content: z.array(z.looseObject({ type: z.string() })),
  stop_reason: z.string().nullish(),
  usage: z
    .looseObject({
      input_tokens: count,
      output_tokens: count,
      cache_creation_input_tokens: count,
      cache_read_input_tokens: count,
    })
    .nullish()
    .catch(undefined),
})

const toolUse = z.looseObject({ type: z.literal('tool_use'), name: z.string(), input: z.unknown() })

export interface ReadReply {
  selected: SelectedPlan[]
  rejected: RejectedPlan[]
  /** Token usage the message reports (zero where it reports none). */
  usage: TokenUsage
}

/**
 * Reads one reply against the names of the batch it was asked about (in catalog order).
 * Throws {@link LlmError} `VIGIL_LLM_INVALID_REPLY` saying what was wrong.
 */
export function readReply(reply: unknown, catalog: readonly string[]): ReadReply {
  const message = messageShape.safeParse(reply)
  if (!message.success)
    throw invalid(`reply is not a Messages API message: ${describeValue(reply, message.error)}`)
  const { content, stop_reason: stop, usage } = message.data
  const calls = content.filter((block) => block.type === 'tool_use' && block.name === TOOL_NAME)
  if (calls.length !== 1) {
    const kinds = content.map((b) => (b.type === 'tool_use' ? `tool_use ${String(b.name)}` : b.type))
    const cut = stop === 'max_tokens' ? ' (cut at max_tokens)' : ''
    const what = calls.length ? `${calls.length} ${TOOL_NAME} calls` : `no ${TOOL_NAME} call`
    throw invalid(`reply has ${what}${cut}; got: ${kinds.join(', ') || 'nothing'}`)
  }
  const call = toolUse.safeParse(calls[0])
  if (!call.success) throw invalid(`${TOOL_NAME} call is malformed: ${issues(call.error)}`)
  const input = selectionInput.safeParse(call.data.input)
  if (!input.success) throw invalid(`${TOOL_NAME} input does not match its schema: ${issues(input.error)}`)
  return { ...account(input.data, catalog), usage: usageOf(usage) }
}

/** Every plan of the batch exactly accounted for, nothing else named; or an error saying what is off. */
function account(
  answer: z.infer<typeof selectionInput>,
  catalog: readonly string[],
): { selected: SelectedPlan[]; rejected: RejectedPlan[] } {
  const known = new Set(catalog)
  const selected = new Map<string, SelectedPlan>()
  const rejected = new Map<string, RejectedPlan>()
  const unknown = new Set<string>()
  const blank = new Set<string>()
  for (const { name, reason } of answer.selected) {
    if (!known.has(name)) unknown.add(name)
    else if (!oneLine(reason)) blank.add(name)
    else if (!selected.has(name)) selected.set(name, { name, source: 'llm', reason: oneLine(reason) })
  }
  for (const { name, reason } of answer.rejected) {
    if (!known.has(name)) unknown.add(name)
    else if (!oneLine(reason)) blank.add(name)
    // Named on both sides: selected wins, a missed plan costs more than an extra one.
    else if (!rejected.has(name)) rejected.set(name, { name, source: 'llm', reason: oneLine(reason) })
  }
  for (const name of selected.keys()) rejected.delete(name)
  const missing = catalog.filter((name) => !selected.has(name) && !rejected.has(name) && !blank.has(name))
  const problems: string[] = []
  if (!answer.selected.length && !answer.rejected.length)
    problems.push(`the answer is empty (${plural(catalog.length, 'plan')} to account for)`)
  if (unknown.size)
    problems.push(`names not in the catalog: ${list([...unknown].map((n) => nearMiss(n, catalog)))}`)
  if (blank.size) problems.push(`no reason given for ${list([...blank])}`)
  if (missing.length && (answer.selected.length || answer.rejected.length))
    problems.push(`${plural(missing.length, 'plan')} neither selected nor rejected: ${list(missing)}`)
  if (problems.length)
    throw new UnacceptedAnswer(
      `${TOOL_NAME} answer not accepted: ${problems.join('; ')}`,
      [...unknown].map((name) => ({ name: oneLine(name), reason: 'not in the catalog: never run' })),
    )
  return { selected: [...selected.values()], rejected: [...rejected.values()] }
}

/** `crud_resources (did you mean crud-resources?)` when a catalog name is a near miss. */
function nearMiss(name: string, catalog: readonly string[]): string {
  const shown = JSON.stringify(oneLine(name).slice(0, 80))
  if (!catalog.length) return shown
  const canonical = name.toLowerCase().replace(/[\s_.]+/g, '-')
  const best = catalog.find((c) => c === canonical) ?? closest(canonical, [...catalog])
  const near = distance(canonical, best) <= Math.max(2, Math.floor(best.length / 4))
  return near ? `${shown} (did you mean ${best}?)` : shown
}

function usageOf(usage: z.infer<typeof messageShape>['usage']): TokenUsage {
  return {
    requests: 1,
    inputTokens: usage?.input_tokens ?? 0,
    outputTokens: usage?.output_tokens ?? 0,
    cacheCreationInputTokens: usage?.cache_creation_input_tokens ?? 0,
    cacheReadInputTokens: usage?.cache_read_input_tokens ?? 0,
  }
}

/** A well-formed answer that does not account for the catalog; carries its names outside the catalog. */
export class UnacceptedAnswer extends LlmError {
  constructor(
    message: string,
    readonly unknown: Array<{ name: string; reason: string }>,
  ) {
    super('VIGIL_LLM_INVALID_REPLY', message)
  }
}

function invalid(message: string): LlmError {
  return new LlmError('VIGIL_LLM_INVALID_REPLY', message)
}

/** What arrived instead of a message, briefly: `text "<html>…"`, or the first schema issues. */
function describeValue(value: unknown, error: z.ZodError): string {
  if (typeof value === 'string') return `got text ${JSON.stringify(oneLine(value).slice(0, 80))}`
  if (value === null || value === undefined) return 'got an empty body'
  if (typeof value !== 'object' || Array.isArray(value))
    return `got ${Array.isArray(value) ? 'an array' : typeof value}`
  return issues(error)
}

function issues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? `/${i.path.join('/')}` : '(input)'} ${i.message}`)
    .join('; ')
}

function list(names: readonly string[]): string {
  const shown = names.slice(0, 8).join(', ')
  return names.length > 8 ? `${shown} and ${names.length - 8} more` : shown
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}

/** Reasons go into terminals and Markdown: one line, bounded. */
function oneLine(text: string): string {
  // Control characters (terminal escapes included) are exactly what must go.
  // eslint-disable-next-line no-control-regex
  const controls = /[\u0000-\u001f\u007f]+/g
  const flat = text.replace(controls, ' ').replace(/\s+/g, ' ').trim()
  return flat.length > 300 ? `${flat.slice(0, 299)}…` : flat
}
