/**
 * The adversary's prompt: its only goal is to break the change. It sees the diff and the API's schemas
 * — never the author's reasoning, commit message or plan prose — and answers through one forced tool
 * call whose input is a list of cases.
 */
import type Anthropic from '@anthropic-ai/sdk'
import { suggestedCaseSchema } from './kind.js'
import type { Target } from './targets.js'

export const TOOL_NAME = 'propose_cases'
export const PROMPT_VERSION = 'adversary-v1'
const MAX_DIFF_CHARS = 60_000
const MAX_API_CHARS = 40_000

export const SYSTEM_PROMPT = `You are an adversarial tester. Your only goal is to find requests that break the code change you are shown: inputs it now accepts but must reject, inputs that crash it (5xx), responses that leak stack traces, file paths or secrets, and requests by one principal that reach another principal's data.
You do not judge whether the change is good and you do not explain it. You know nothing about why it was written; do not guess the author's intent.
Propose concrete HTTP requests against the operations listed, each with the status a correct service must answer. Prefer requests that exercise what the diff changed. Paths are relative to the service and start with "/". Credentials are chosen with "auth": "owner" (default), "other" (a second principal) or "none"; never put credentials in headers. Variables in double braces may only name the captured variables listed. Answer only with the ${TOOL_NAME} tool.`

/** The JSON Schema of the tool's input: `{ cases: [...] }`. */
export function toolSchema(maxCases: number): Record<string, unknown> {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['cases'],
    properties: { cases: { type: 'array', minItems: 1, maxItems: maxCases, items: suggestedCaseSchema } },
  }
}

function clip(text: string, max: number, what: string): string {
  return text.length <= max
    ? text
    : `${text.slice(0, max)}\n… (${what} cut at ${max} of ${text.length} characters)`
}

/** The operations as the model sees them: ids, methods, paths, parameter and body schemas, examples. */
export function describeApi(targets: readonly Target[], captures: readonly string[]): string {
  const operations = targets.map((t) => ({
    operation: t.id,
    method: t.method,
    path: t.path,
    needsCredentials: t.auth,
    parameters: t.params.map((p) => ({
      name: p.name,
      in: p.in,
      required: p.required,
      schema: p.schema ?? {},
    })),
    ...(t.body
      ? { body: { mediaTypes: t.body.mediaTypes, schema: t.body.schema ?? {}, example: t.body.example } }
      : {}),
  }))
  return clip(
    JSON.stringify({ operations, capturedVariables: captures }, null, 1),
    MAX_API_CHARS,
    'API description',
  )
}

export function buildRequest(input: {
  model: string
  maxTokens: number
  diff: string
  api: string
  maxCases: number
}): Anthropic.MessageCreateParamsNonStreaming {
  return {
    model: input.model,
    max_tokens: input.maxTokens,
    system: SYSTEM_PROMPT,
    tools: [
      {
        name: TOOL_NAME,
        description: `Propose up to ${input.maxCases} requests that should break the change, each with the status a correct service answers.`,
        input_schema: toolSchema(input.maxCases) as Anthropic.Tool.InputSchema,
      },
    ],
    tool_choice: { type: 'tool', name: TOOL_NAME },
    messages: [
      {
        role: 'user',
        content: `The API (operations you may target):\n${input.api}\n\nThe change to break:\n\`\`\`diff\n${clip(input.diff, MAX_DIFF_CHARS, 'diff')}\n\`\`\``,
      },
    ],
  }
}
