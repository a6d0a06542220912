/**
 * The plan author's prompt for `vigil plans suggest`. A context of its own: the model sees the diff, what no
 * plan covers, the API documents and the plan catalog — never the conversation or the reasoning of whoever
 * wrote the code — and answers through one forced tool call whose input is the draft plan.
 */
import type Anthropic from '@anthropic-ai/sdk'

export const TOOL_NAME = 'draft_plan'
export const PROMPT_VERSION = 'plan-suggest-v1'
const MAX_DIFF_CHARS = 60_000
const MAX_API_CHARS = 40_000
const MAX_CATALOG_CHARS = 40_000

/** Everything the model is shown. */
export interface PromptContext {
  diff: string
  /** What no plan covers: also the enum of the tool's `covers`. */
  targets: readonly string[]
  /** API documents: path relative to the draft's folder, and text. */
  apis: ReadonlyArray<{ file: string; text: string }>
  /** Plan files of the catalog: path relative to the draft's folder, and text. */
  catalog: ReadonlyArray<{ file: string; text: string }>
  /** Check kinds a draft may use, with what each checks. */
  kinds: Readonly<Record<string, string>>
  services: readonly string[]
  secrets: readonly string[]
  /** Where the draft will be written, relative to the config folder (e.g. `suggested/`). */
  folder: string
}

export const SYSTEM_PROMPT = `You write validation plans for vigil, a tool that runs plans against a sandbox of the services (a candidate build of a code change). You are shown a change, the code and API operations of it that no existing plan exercises, the API documents and the existing plans. Draft ONE new plan that exercises what is uncovered, in the same format and style as the existing plans.
A plan has a name (kebab-case, not one of the existing plans' names), a title, a selectionHint (what the plan validates and when a change needs it, in the words of the domain), optional paths (globs of source files relative to the project folder), a short description for humans, and checks. Each check has a kind, a name, and params: the YAML body of its fenced block as a JSON object, in exactly the shape the existing plans use for that kind. Requests go to the sandbox services by name, with paths relative to the service. Credentials only as {{secrets.NAME}} of the secrets listed. File references (schemas, API documents) are relative to the folder the plan is written to. Checks never run commands: no "run" steps, no "engine" settings. Assert what a correct service must do, from the API documents — not what the changed code happens to do.
You know nothing about why the change was written; do not guess the author's intent. Answer only with the ${TOOL_NAME} tool.`

const KEBAB = '^[a-z0-9]+(-[a-z0-9]+)*$'

/** The JSON Schema of the tool's input: the draft plan. Names are constrained by enums where they can be. */
export function toolSchema(kinds: readonly string[], targets: readonly string[]): Record<string, unknown> {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['name', 'title', 'selectionHint', 'description', 'covers', 'checks'],
    properties: {
      name: { type: 'string', pattern: KEBAB, maxLength: 64 },
      title: { type: 'string', minLength: 1, maxLength: 120, pattern: '^[^\\r\\n]+$' },
      selectionHint: { type: 'string', minLength: 20, maxLength: 800 },
      paths: { type: 'array', maxItems: 10, items: { type: 'string', minLength: 1, maxLength: 200 } },
      description: { type: 'string', minLength: 1, maxLength: 2000 },
      covers: {
        type: 'array',
        minItems: 1,
        uniqueItems: true,
        items: { type: 'string', enum: [...targets] },
      },
      vars: { type: 'object' },
      checks: {
        type: 'array',
        minItems: 1,
        maxItems: 8,
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['kind', 'name', 'params'],
          properties: {
            kind: { type: 'string', enum: [...kinds] },
            name: { type: 'string', minLength: 1, maxLength: 100, pattern: '^[^\\r\\n`]+$' },
            params: { type: 'object' },
          },
        },
      },
    },
  }
}

function clip(text: string, max: number, what: string): string {
  return text.length <= max
    ? text
    : `${text.slice(0, max)}\n… (${what} cut at ${max} of ${text.length} characters)`
}

/** Files one after the other under a budget; the ones that do not fit are named, not sent. */
function files(list: PromptContext['apis'], max: number): string {
  let used = 0
  const parts: string[] = []
  const left: string[] = []
  for (const f of list) {
    const part = `--- ${f.file}\n${f.text.trimEnd()}\n`
    if (used + part.length > max) left.push(f.file)
    else {
      parts.push(part)
      used += part.length
    }
  }
  if (left.length) parts.push(`(not shown, to keep the request small: ${left.join(', ')})\n`)
  return parts.join('\n') || '(none)\n'
}

export function buildRequest(
  context: PromptContext,
  model: string,
  maxTokens: number,
  redact: (text: string) => string = (t) => t,
): Anthropic.MessageCreateParamsNonStreaming {
  const kinds = Object.entries(context.kinds).map(([k, d]) => `- ${k}: ${d}`)
  const content = [
    `What no plan covers (name each one your plan exercises in "covers"):\n${context.targets.map((t) => `- ${t}`).join('\n')}`,
    `Check kinds:\n${kinds.join('\n')}`,
    `Sandbox services: ${context.services.join(', ') || '(the default service only)'}. Secrets: ${context.secrets.join(', ') || '(none)'}.`,
    `The plan will be written to ${context.folder}; paths below are relative to that folder.`,
    `API documents:\n${files(context.apis, MAX_API_CHARS)}`,
    `Existing plans:\n${files(context.catalog, MAX_CATALOG_CHARS)}`,
    `The change:\n\`\`\`diff\n${clip(context.diff, MAX_DIFF_CHARS, 'diff') || '(no change given: cover the operations above)'}\n\`\`\``,
  ].join('\n\n')
  return {
    model,
    max_tokens: maxTokens,
    system: SYSTEM_PROMPT,
    tools: [
      {
        name: TOOL_NAME,
        description: 'Draft one plan that exercises what no plan covers.',
        input_schema: toolSchema(Object.keys(context.kinds), context.targets) as Anthropic.Tool.InputSchema,
      },
    ],
    tool_choice: { type: 'tool', name: TOOL_NAME },
    messages: [{ role: 'user', content: redact(content) }],
  }
}
