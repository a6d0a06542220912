/**
 * `vigil adversary suggest`: a second, independent pass over a change by the Messages API, whose only
 * goal is to break it. The reply is untrusted input — one forced tool call, validated by ajv, every case
 * checked against the block's operations and kept to relative paths, known variables and no credential
 * headers — and is written into the plan as a fenced ```adversarial suggested block for a person to
 * review. Nothing here runs on the validation path: runs stay deterministic.
 */
import { createHash } from 'node:crypto'
import { readFile, rename, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type Anthropic from '@anthropic-ai/sdk'
import { stringify } from 'yaml'
import { loadPlans } from '../../../plans/loader.js'
import { formatDiagnostic } from '../../../plans/diagnostics.js'
import type { CheckBlock, JsonSchema, Plan } from '../../../plans/types.js'
import { describeApiError, messagesClient, readToolCall, type ModelCallOptions } from '../../llm/tool-call.js'
import { placeholders } from '../../template.js'
import { SuggestError } from './errors.js'
import type { AdversarialParams, SuggestedCase } from './params.js'
import { writeSuggestedBlock } from './plan-block.js'
import { PROMPT_VERSION, TOOL_NAME, buildRequest, describeApi, toolSchema } from './prompt.js'
import { resolveTargets, type Target } from './targets.js'

export interface SuggestOptions extends ModelCallOptions {
  /** The plan file to read and write. */
  planFile: string
  /** A unified diff of the change. */
  diff: string
  /** The adversarial block to start from (its name). @default the first one that is not `suggested` */
  check?: string
  /** @default 20 */
  maxCases?: number
  /** Return the new file text without writing it. @default false */
  dryRun?: boolean
  /** Reported file paths are relative to it. @default process.cwd() */
  cwd?: string
  /** Folders the plan may read files from (the config's project and allowFiles). @default the project of cwd */
  fileRoots?: readonly string[]
  /** Every check kind's block schema, to load the plan as a run does (the registry's; this kind does not import it). */
  checkSchemas: Readonly<Record<string, JsonSchema>>
  signal?: AbortSignal
}

export interface SuggestResult {
  file: string
  cases: SuggestedCase[]
  /** True when an existing suggested block was replaced. */
  replaced: boolean
  /** The plan file's new text. */
  text: string
  model: string
}

const FORBIDDEN_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
])

async function loadPlan(
  file: string,
  cwd: string,
  fileRoots: readonly string[] | undefined,
  checkSchemas: Readonly<Record<string, JsonSchema>>,
): Promise<{ plan: Plan; text: string }> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new SuggestError(
      'VIGIL_SUGGEST_PLAN',
      `${path.relative(cwd, file)}: cannot read: ${error.code ?? error.message}`,
    )
  })
  const result = await loadPlans({
    roots: [file],
    cwd,
    checkSchemas,
    ...(fileRoots ? { fileRoots } : {}),
  })
  const errors = result.diagnostics.filter((d) => d.severity === 'error')
  if (errors.length || !result.plans[0]) {
    throw new SuggestError(
      'VIGIL_SUGGEST_PLAN',
      errors.map(formatDiagnostic).join('\n') || `${path.relative(cwd, file)}: no plan`,
    )
  }
  return { plan: result.plans[0], text }
}

function pickBlock(plan: Plan, name: string | undefined): CheckBlock {
  const blocks = plan.checks.filter((c) => c.kind === 'adversarial' && c.name !== 'suggested')
  const block = name === undefined ? blocks[0] : blocks.find((c) => c.name === name)
  if (!block) {
    const names = blocks.map((b) => `"${b.name}"`).join(', ')
    throw new SuggestError(
      'VIGIL_SUGGEST_PLAN',
      `${plan.file}: ${name === undefined ? 'no adversarial block to start from' : `no adversarial block named "${name}"`}${names ? `; it has ${names}` : ''}`,
    )
  }
  return block
}

/** Semantic checks of validated cases; returns one problem per line, empty when they are fine. */
export function checkCases(
  cases: readonly SuggestedCase[],
  targets: readonly Target[],
  captures: readonly string[],
): string[] {
  const ids = new Set(targets.map((t) => t.id))
  const problems: string[] = []
  cases.forEach((c, i) => {
    const where = `/cases/${i} "${c.name}"`
    if (!ids.has(c.operation)) problems.push(`${where}: unknown operation "${c.operation}"`)
    const { path: p } = c.request
    let origin = ''
    try {
      origin = new URL(p, 'http://service.invalid').origin
    } catch {
      origin = 'unparsable'
    }
    if (!p.startsWith('/') || p.startsWith('//') || p.includes('\\') || origin !== 'http://service.invalid')
      problems.push(`${where}: path "${p}" is not relative to the service`)
    const texts = JSON.stringify([
      c.request.path,
      c.request.headers ?? {},
      c.request.json ?? null,
      c.request.body ?? null,
    ])
    for (const name of placeholders(texts)) {
      if (!captures.includes(name)) problems.push(`${where}: variable {{${name}}} is not a captured variable`)
    }
    for (const name of Object.keys(c.request.headers ?? {})) {
      if (FORBIDDEN_HEADERS.has(name.toLowerCase()))
        problems.push(`${where}: header "${name}" is not allowed (use auth)`)
    }
  })
  return problems
}

/** Asks for cases, validates them and writes (or, with dryRun, returns) the plan with the suggested block. */
export async function suggestCases(options: SuggestOptions): Promise<SuggestResult> {
  const cwd = options.cwd ?? process.cwd()
  if (!options.apiKey) {
    throw new SuggestError(
      'VIGIL_SUGGEST_NO_KEY',
      'no API key: set ANTHROPIC_API_KEY (or the variable selector.apiKeyEnv names in vigil.config.yaml)',
    )
  }
  const file = path.resolve(cwd, options.planFile)
  const { plan, text } = await loadPlan(file, cwd, options.fileRoots, options.checkSchemas)
  const block = pickBlock(plan, options.check)
  const params = block.params as AdversarialParams
  const targets = await resolveTargets(params, plan.dir, plan.fileRoots)
  const captures = (params.setup ?? []).flatMap((s) => Object.keys(s.capture ?? {})).sort()
  const maxCases = Math.max(1, Math.min(options.maxCases ?? 20, 50))
  const client = messagesClient({
    apiKey: options.apiKey,
    ...(options.baseURL ? { baseURL: options.baseURL } : {}),
    ...(options.maxRetries === undefined ? {} : { maxRetries: options.maxRetries }),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  })
  let message: Anthropic.Message
  try {
    const request = buildRequest({
      model: options.model,
      maxTokens: options.maxTokens ?? 4096,
      diff: options.diff,
      api: describeApi(targets, captures),
      maxCases,
    })
    message = await client.messages.create(request, options.signal ? { signal: options.signal } : {})
  } catch (error) {
    throw new SuggestError('VIGIL_SUGGEST_API', describeApiError(error), { cause: error })
  }
  const cases = readCases(message, maxCases, targets, captures, plan.file)
  const diffHash = createHash('sha256').update(options.diff).digest('hex').slice(0, 12)
  const suggestedBlock: Record<string, unknown> = {}
  for (const key of [
    'service',
    'openapi',
    'operations',
    'requests',
    'params',
    'headers',
    'principals',
    'setup',
    'oracles',
  ] as const) {
    if (params[key] !== undefined) suggestedBlock[key] = params[key]
  }
  suggestedBlock.cases = 0
  suggestedBlock.suggested = cases
  const yaml =
    `# Proposed by vigil adversary suggest (${options.model}, ${PROMPT_VERSION}, diff ${diffHash}) from "${block.name}".\n` +
    `# REVIEW BEFORE RELYING ON IT: keep, edit or delete each case; rerunning the command replaces this block.\n` +
    stringify(suggestedBlock, { lineWidth: 0 })
  const written = writeSuggestedBlock(text, yaml)
  if (!options.dryRun) {
    const temporary = `${file}.${process.pid}.tmp`
    await writeFile(temporary, written.text)
    await rename(temporary, file)
  }
  return { file: plan.file, cases, replaced: written.replaced, text: written.text, model: options.model }
}

const toolSchemas = new Map<number, Record<string, unknown>>()

/** The cases of a reply, or a SuggestError naming everything wrong with it. */
export function readCases(
  message: Anthropic.Message,
  maxCases: number,
  targets: readonly Target[],
  captures: readonly string[],
  where: string,
): SuggestedCase[] {
  let schema = toolSchemas.get(maxCases)
  if (!schema) toolSchemas.set(maxCases, (schema = toolSchema(maxCases)))
  const reading = readToolCall(message, TOOL_NAME, schema)
  if ('missing' in reading)
    throw new SuggestError(
      'VIGIL_SUGGEST_REPLY',
      `${where}: the reply has no ${TOOL_NAME} call (got ${reading.missing}); the plan is unchanged`,
    )
  if (!reading.ok)
    throw new SuggestError(
      'VIGIL_SUGGEST_REPLY',
      `${where}: the reply does not match the case schema: ${reading.invalid.join('; ')}; the plan is unchanged`,
    )
  const cases = (reading.input as { cases: SuggestedCase[] }).cases
  const problems = checkCases(cases, targets, captures)
  if (problems.length) {
    throw new SuggestError(
      'VIGIL_SUGGEST_REPLY',
      `${where}: the reply was rejected: ${problems.slice(0, 5).join('; ')}; the plan is unchanged`,
    )
  }
  return cases
}
