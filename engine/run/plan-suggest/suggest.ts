/**
 * `vigil plans suggest`: for what no plan covers (plan coverage, engine/run/coverage.ts), a model in a context
 * of its own drafts one plan. The reply is untrusted input: it must match the tool schema, hold no command,
 * and lint clean as a plan file; what is wrong is sent back once, then the draft is refused with the reason.
 * A draft that lints is run once against the candidate (no baseline), and only then written — never over
 * an existing file — with the run's outcome in its review note, or printed.
 */
import { createHash } from 'node:crypto'
import { mkdir, readFile, rm, rmdir, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type Anthropic from '@anthropic-ai/sdk'
import type { LoadedConfig } from '../../../plans/config.js'
import { formatDiagnostic } from '../../../plans/diagnostics.js'
import type { Plan } from '../../../plans/types.js'
import { VigilError } from '../../errors.js'
import { checkKinds } from '../../kinds/index.js'
import { describeApiError, messagesClient, readToolCall, type ModelCallOptions } from '../../llm/tool-call.js'
import type { Verdict } from '../../verdict.js'
import { loadPlansForRun } from '../load-plans.js'
import { runValidation } from '../run.js'
import { draftProblems, renderDraft, type Draft } from './draft.js'
import { PROMPT_VERSION, TOOL_NAME, buildRequest, toolSchema } from './prompt.js'

export interface SuggestPlanOptions extends ModelCallOptions {
  loaded: LoadedConfig
  cwd: string
  /** The plan catalog (its files are shown to the model; its names are taken). */
  plans: readonly Plan[]
  /** What the draft is for: plan coverage's targets (coverage.ts `coverageTargets`). */
  targets: readonly string[]
  /** API documents (absolute paths). */
  apis: readonly string[]
  /** The change as a unified diff; empty without one. */
  diff: string
  /** Where the plan is written (absolute). */
  folder: string
  /** The candidate runs with this patch (relative to cwd). */
  patch?: string
  /** Print the request and send nothing. */
  dryRun?: boolean
  /** Print the plan instead of writing it. */
  print?: boolean
  /** Hides secrets in what is sent (the config's redactor). @default nothing is hidden */
  redact?: (text: string) => string
  log?: (line: string) => void
  signal?: AbortSignal
}

export interface SuggestPlanResult {
  /** The request that was (or, with dryRun, would be) sent first. */
  request: Anthropic.MessageCreateParamsNonStreaming
  draft?: Draft
  /** The plan file's text. */
  text?: string
  /** Where it was written, relative to cwd; absent when printed. */
  file?: string
  /** Requests sent: 1, or 2 when the first draft was sent back. */
  attempts: number
  /** The run against the candidate: its status and the problems it found. */
  run?: { status: Verdict['status']; failures: string[] }
}

/** `vigil plans suggest` could not produce a draft. Exit 2 for a usage or reply problem, 3 for the API or the run. */
export class PlanSuggestError extends VigilError {
  constructor(
    code: 'VIGIL_SUGGEST_NO_KEY' | 'VIGIL_SUGGEST_API' | 'VIGIL_SUGGEST_REPLY' | 'VIGIL_SUGGEST_RUN',
    message: string,
    options?: { cause?: unknown },
  ) {
    const infra = code === 'VIGIL_SUGGEST_API' || code === 'VIGIL_SUGGEST_RUN'
    super(code, message, { ...options, exitCode: infra ? 3 : 2 })
  }
}

const rel = (from: string, file: string) => path.relative(from, file).split(path.sep).join('/')

export async function suggestPlan(options: SuggestPlanOptions): Promise<SuggestPlanResult> {
  const { loaded, cwd, folder } = options
  const kinds = Object.fromEntries(
    Object.entries(checkKinds as Record<string, { meta: { description: string } }>).map(([k, v]) => [
      k,
      v.meta.description,
    ]),
  )
  const read = (files: readonly string[]) =>
    Promise.all(files.map(async (f) => ({ file: rel(folder, f), text: await readFile(f, 'utf8') })))
  const request = buildRequest(
    {
      diff: options.diff,
      targets: options.targets,
      apis: await read(options.apis),
      catalog: await read(options.plans.map((p) => path.resolve(cwd, p.file))),
      kinds,
      services: Object.keys(loaded.config.sandbox?.services ?? {}),
      secrets: Object.keys(loaded.config.secrets),
      folder: `${rel(loaded.dir, folder) || '.'}/`,
    },
    options.model,
    options.maxTokens ?? 8192,
    options.redact,
  )
  if (options.dryRun) return { request, attempts: 0 }
  if (!options.apiKey)
    throw new PlanSuggestError(
      'VIGIL_SUGGEST_NO_KEY',
      'no API key: set ANTHROPIC_API_KEY (or the variable selector.apiKeyEnv names in vigil.config.yaml)',
    )
  const client = messagesClient({
    apiKey: options.apiKey,
    ...(options.baseURL ? { baseURL: options.baseURL } : {}),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.maxRetries === undefined ? {} : { maxRetries: options.maxRetries }),
  })
  const schema = toolSchema(Object.keys(kinds), options.targets)
  const diffHash = options.diff
    ? `diff ${createHash('sha256').update(options.diff).digest('hex').slice(0, 12)}`
    : 'no diff'
  const origin = { model: options.model, promptVersion: PROMPT_VERSION, diffHash }
  const existing = options.plans.map((p) => p.name)
  const createdFolder = await ensureFolder(folder)
  const scratch = path.join(folder, `.plans-suggest-${process.pid}.md`)
  const messages = [...request.messages]
  try {
    for (let attempt = 1; ; attempt++) {
      let message: Anthropic.Message
      try {
        message = await client.messages.create(
          { ...request, messages },
          options.signal ? { signal: options.signal } : {},
        )
      } catch (error) {
        throw new PlanSuggestError('VIGIL_SUGGEST_API', describeApiError(error), { cause: error })
      }
      const reading = readToolCall(message, TOOL_NAME, schema)
      if ('missing' in reading)
        throw new PlanSuggestError(
          'VIGIL_SUGGEST_REPLY',
          `the reply has no ${TOOL_NAME} call (got ${reading.missing}); nothing was written`,
        )
      let problems: string[]
      let draft: Draft | undefined
      if (!reading.ok) problems = reading.invalid.map((p) => `does not match the plan schema: ${p}`)
      else {
        draft = reading.input as Draft
        problems = draftProblems(draft, existing)
        if (!problems.length) problems = await lint(renderDraft(draft, origin), draft.name)
      }
      if (!problems.length && draft) {
        const outcome = await runOnce(options, scratch, renderDraft(draft, origin))
        const text = renderDraft(draft, { ...origin, outcome: outcome.lines })
        const file = options.print ? undefined : await writeNew(folder, draft.name, text)
        return {
          request,
          draft,
          text,
          attempts: attempt,
          run: { status: outcome.status, failures: outcome.failures },
          ...(file ? { file: rel(cwd, file) } : {}),
        }
      }
      if (attempt === 2)
        throw new PlanSuggestError(
          'VIGIL_SUGGEST_REPLY',
          `the draft was refused after one correction: ${problems.slice(0, 8).join('; ')}; nothing was written`,
        )
      options.log?.(`the draft has ${problems.length} problem(s); sending them back once`)
      messages.push(
        { role: 'assistant', content: message.content },
        {
          role: 'user',
          content: [
            {
              type: 'tool_result',
              tool_use_id: reading.call.id,
              is_error: true,
              content: `The plan was rejected:\n${problems.map((p) => `- ${p}`).join('\n')}\nSend the corrected plan with ${TOOL_NAME}.`,
            },
          ],
        },
      )
    }
  } finally {
    await rm(scratch, { force: true })
    if (createdFolder) await rmdir(folder).catch(() => undefined)
  }

  /** The draft's lint errors as `<name>.md:line:col message`. */
  async function lint(text: string, name: string): Promise<string[]> {
    await writeFile(scratch, text)
    const result = await loadPlansForRun(loaded, [scratch], cwd)
    return result.diagnostics
      .filter((d) => d.severity === 'error')
      .map((d) => formatDiagnostic({ ...d, file: `${name}.md` }))
  }
}

/** Creates the folder when it is missing; true when it did (so an unused one is removed again). */
async function ensureFolder(folder: string): Promise<boolean> {
  const exists = await stat(folder).then(
    (s) => s.isDirectory(),
    () => false,
  )
  if (!exists) await mkdir(folder, { recursive: true })
  return !exists
}

/** Runs the draft once against the candidate: its status, its problems, and the lines of the review note. */
async function runOnce(
  options: SuggestPlanOptions,
  scratch: string,
  text: string,
): Promise<{ status: Verdict['status']; failures: string[]; lines: string[] }> {
  await writeFile(scratch, text)
  options.log?.('running the draft once against the candidate')
  const verdict = await runValidation({
    ...(options.loaded.found ? { configPath: options.loaded.file } : {}),
    cwd: options.cwd,
    planRoots: [scratch],
    baseline: false,
    ...(options.patch ? { patch: options.patch } : {}),
    ...(options.log ? { log: options.log } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  })
  if (verdict.errors.length)
    throw new PlanSuggestError(
      'VIGIL_SUGGEST_RUN',
      `the draft could not be run against the candidate: ${verdict.errors[0]!.message}; nothing was written`,
    )
  const failures: string[] = []
  const skipped: string[] = []
  for (const check of verdict.plans.flatMap((p) => p.checks)) {
    if (check.state === 'skipped') skipped.push(`${check.check}: ${check.note}`)
    else if (check.state === 'errored') failures.push(`${check.check}: errored: ${check.error.message}`)
    else if (check.state === 'failed')
      failures.push(
        `${check.check}: ${check.findings.find((f) => f.severity === 'error')?.message ?? 'failed'}`,
      )
  }
  const lines = [
    `Ran once against the candidate: ${verdict.status === 'pass' ? 'passed' : 'did not pass'}.`,
    ...failures.map((f) => `  failed ${f}`),
    ...skipped.map((s) => `  skipped ${s}`),
    ...(failures.length
      ? ['A failure is either the change breaking what the plan asserts, or the draft wrong.']
      : []),
  ]
  return { status: verdict.status, failures, lines }
}

/** Writes `<name>.md`, or `<name>-2.md`… when that exists: an existing file is never overwritten. */
async function writeNew(folder: string, name: string, text: string): Promise<string> {
  for (let n = 1; ; n++) {
    const file = path.join(folder, `${name}${n === 1 ? '' : `-${n}`}.md`)
    try {
      await writeFile(file, text, { flag: 'wx' })
      return file
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || n >= 100) throw error
    }
  }
}
