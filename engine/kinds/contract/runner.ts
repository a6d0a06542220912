/**
 * The contract check's run: setup per sandbox, then for each request the candidate's conformance
 * and, where asked and safe, the comparison with the baseline (called twice to learn noise). With
 * `sides: both` the baseline's answers are held to the same expectations (sides.ts).
 */
import type { CheckContext, ReportDescriptor } from '../../api/kind.js'
import { ReplayError } from '../../api/replay.js'
import { HttpNetworkError, type HttpExchange } from '../../http/client.js'
import { formatElapsed } from '../../../plans/duration.js'
import { exchangeEvidence, httpEvidence, unansweredEvidence } from '../../api/evidence.js'
import { serviceUrl } from '../../api/sandbox.js'
import { rendererFor, runSetup } from '../../api/setup.js'
import type { Sandbox } from '../../api/sandbox.js'
import {
  compareResponses,
  learnNoise,
  type Change,
  type NoiseModel,
  type ResponseSnapshot,
} from './compare.js'
import { checkConformance, type Expectation } from './conformance.js'
import type { ContractParams } from './params.js'
import { expandRequests, type ContractRequest } from './requests.js'
import { SAFE_METHODS } from '../../api/vocabulary.js'
import { clipValue, describeValue } from '../../api/values.js'
import { judged, setupBothSides, signature } from './sides.js'
import { rootCauses, sentenceValues } from '../../api/comparison/root-cause.js'

type Ctx = CheckContext<ContractParams, 'http'>

interface SandboxState {
  sandbox: Sandbox
  captures?: Map<string, unknown>
  failed?: boolean
}

/** Runs the check; with `only` (a request's label, for `vigil reproduce`), just that request and the setup. */
export async function runContract(ctx: Ctx, only?: string): Promise<void> {
  const all = await expandRequests(ctx.params, ctx.plan.dir, ctx.check.id, ctx.plan.fileRoots)
  const requests = only === undefined ? all : all.filter((r) => r.label === only)
  if (requests.length === 0)
    throw new ReplayError(
      `request "${only}" is no longer in the check; its requests are ${all.map((r) => `"${r.label}"`).join(', ')}`,
    )
  const candidate: SandboxState = { sandbox: ctx.sandboxes.candidate }
  const baseline: SandboxState | undefined = ctx.sandboxes.baseline
    ? { sandbox: ctx.sandboxes.baseline }
    : undefined
  if (!baseline && requests.some((r) => r.compare)) {
    ctx.report({
      messageId: 'compare-skipped',
      severity: 'info',
      data: { reason: 'the run has no baseline' },
    })
  }
  const both = ctx.params.sides === 'both'
  if (both && !baseline) ctx.report({ messageId: 'sides-without-baseline', severity: 'info' })
  if (both && baseline) {
    const outcome = await setupBothSides(ctx, candidate.sandbox, baseline.sandbox)
    for (const [state, o] of [
      [candidate, outcome.candidate],
      [baseline, outcome.baseline],
    ] as const) {
      if (o.ok) state.captures = o.captures
      else state.failed = true
    }
  }
  if (!(await ensureSetup(ctx, candidate))) return
  for (const [i, request] of requests.entries()) {
    ctx.signal.throwIfAborted()
    ctx.progress(`${i + 1}/${requests.length} ${request.label}`)
    await runRequest(ctx, request, candidate, baseline, both && baseline?.captures !== undefined)
  }
}

async function ensureSetup(ctx: Ctx, state: SandboxState): Promise<boolean> {
  if (state.failed) return false
  if (state.captures) return true
  const outcome = await runSetup(ctx, state.sandbox)
  if (!outcome.ok) state.failed = true
  else state.captures = outcome.captures
  return outcome.ok
}

async function send(ctx: Ctx, request: ContractRequest, state: SandboxState): Promise<HttpExchange> {
  const built = request.build(rendererFor(ctx.vars, state.captures ?? new Map()))
  return ctx.clients.http.request({
    method: built.method,
    url: serviceUrl(state.sandbox, request.service, built.path),
    headers: { ...state.sandbox.headers, ...built.headers },
    ...(built.query ? { query: built.query } : {}),
    ...(built.json !== undefined ? { json: built.json } : {}),
    ...(built.body !== undefined ? { body: built.body } : {}),
    signal: ctx.signal,
  })
}

async function runRequest(
  ctx: Ctx,
  request: ContractRequest,
  candidate: SandboxState,
  baseline: SandboxState | undefined,
  /** `sides: both`, with a baseline whose setup passed: its answer is checked too. */
  both: boolean,
): Promise<void> {
  const step = request.label
  const method = request.build(rendererFor(ctx.vars, candidate.captures!)).method
  const safe = SAFE_METHODS.has(method)
  let compare = request.compare && baseline ? request.compare : null
  if (compare && !safe && !compare.unsafe) {
    ctx.report({
      messageId: 'compare-skipped',
      severity: 'info',
      step,
      data: {
        reason: `${method} is not a safe method; set compare.unsafe: true to send it to the baseline too`,
      },
    })
    compare = null
  }
  if (compare && baseline && !(await ensureSetup(ctx, baseline))) compare = null

  // What the candidate violates, judged against the baseline's violations before it is reported.
  const found: ReportDescriptor[] = []
  const baselineViolations = new Set<string>()
  const unanswered = (error: HttpNetworkError, sandbox: string): ReportDescriptor => ({
    messageId: 'request-failed',
    step,
    data: { request: step, sandbox, reason: error.message },
    evidence: unansweredEvidence(error, sandbox),
  })
  const sendCandidate = () =>
    send(ctx, request, candidate).catch((error: unknown) => {
      if (!(error instanceof HttpNetworkError)) throw error
      found.push(unanswered(error, 'candidate'))
      return undefined
    })
  // Baseline failures are not the candidate's fault: they make the check errored (thrown) — except with
  // both sides, where a baseline that does not answer either makes the candidate's failure pre-existing.
  const sendBaseline = () => send(ctx, request, baseline!)
  const sendFirstBaseline = () =>
    !both
      ? sendBaseline()
      : sendBaseline().catch((error: unknown) => {
          if (!(error instanceof HttpNetworkError)) throw error
          baselineViolations.add(signature(unanswered(error, 'baseline')))
          return undefined
        })
  const wantBaseline = compare !== null || both
  // A warm session remembers the noise learned from earlier baseline calls while the baseline is the same
  // processes: the second baseline call is only made when nothing is remembered.
  const noiseKey = `noise ${method} ${step}`
  const remembered = compare?.learnNoise ? ctx.memory?.get<NoiseModel>(noiseKey) : undefined
  const learnAgain = compare?.learnNoise === true && remembered === undefined
  let candidateExchange: HttpExchange | undefined
  let primary: HttpExchange | undefined
  let secondary: HttpExchange | undefined
  if (safe) {
    ;[candidateExchange, primary, secondary] = await Promise.all([
      sendCandidate(),
      wantBaseline ? sendFirstBaseline() : Promise.resolve(undefined),
      learnAgain ? sendBaseline() : Promise.resolve(undefined),
    ])
  } else {
    // Unsafe requests change state: one at a time, baseline first so both see the same history.
    if (wantBaseline) primary = await sendFirstBaseline()
    if (learnAgain && primary) secondary = await sendBaseline()
    candidateExchange = await sendCandidate()
  }
  const flush = (descriptors = judged(found, baselineViolations)) => {
    for (const d of descriptors) report(ctx, d)
  }
  if (!candidateExchange) return flush()

  const expectation: Expectation = {}
  const { status, contentType, headers } = request.expect
  if (status !== undefined) expectation.status = Array.isArray(status) ? status : [status]
  if (contentType !== undefined)
    expectation.contentType = Array.isArray(contentType) ? contentType : [contentType]
  if (headers) expectation.headers = headers
  if (request.schema) expectation.schema = request.schema
  if (request.operation) expectation.operation = request.operation
  const conformance = checkConformance(candidateExchange.response, expectation)
  const evidence = exchangeEvidence(candidateExchange, 'candidate')
  for (const v of conformance.violations) {
    found.push({
      messageId: v.messageId,
      data: v.data,
      expected: v.expected,
      actual: v.actual,
      step,
      evidence,
      ...(v.pointer !== undefined ? { pointer: v.pointer } : {}),
    })
  }
  if (both && primary) {
    for (const v of checkConformance(primary.response, expectation).violations)
      baselineViolations.add(signature({ messageId: v.messageId, pointer: v.pointer, step }))
  }
  if (!compare || !primary) flush()
  if (compare && !primary) {
    ctx.report({
      messageId: 'compare-skipped',
      severity: 'info',
      step,
      data: { reason: 'the baseline did not answer' },
    })
  }
  if (!compare || !primary) return

  const snapshot = (e: HttpExchange): ResponseSnapshot => {
    const json = e.response.json()
    return {
      status: e.response.status,
      headers: e.response.headers,
      body: json !== undefined ? json : e.response.text(),
    }
  }
  const options = { ...compare, ...(conformance.schema ? { enums: conformance.schema.enums } : {}) }
  const noise = secondary ? learnNoise(snapshot(primary), snapshot(secondary), options) : remembered
  if (secondary && noise) ctx.memory?.set(noiseKey, noise)
  const changes = compareResponses(snapshot(primary), snapshot(candidateExchange), noise, options)
  const baselineRecord = ctx.clients.http.recordResponse(primary.response)
  // The candidate's exchange, with the baseline's response beside it (a line, and its body in details).
  const compared = httpEvidence({
    sandbox: 'candidate',
    ...candidateExchange.recorded(),
    reproduce: candidateExchange.curl(),
    more: [
      {
        label: 'baseline',
        value: `${baselineRecord.response.status} in ${formatElapsed(baselineRecord.response.durationMs)}`,
      },
    ],
    details: {
      baseline: { ...baselineRecord.response, ...(baselineRecord.body ? { body: baselineRecord.body } : {}) },
    },
  })
  // One finding per root cause: what the comparison explains (a removed field the schema requires, a
  // changed status the plan expected) is reported once, by the comparison's more specific finding.
  const causes = rootCauses(judged(found, baselineViolations), changes)
  flush(causes.kept)
  for (const change of changes) {
    const explained = causes.explained.get(change)
    reportChange(ctx, explained ? explain(change, explained.severity, expectation) : change, step, compared)
  }
  const learned = noise
    ? [...(noise.status ? ['status'] : []), ...noise.headers.map((h) => `header:${h}`), ...noise.paths]
    : []
  if (learned.length) {
    ctx.report({
      messageId: 'noise-learned',
      severity: 'info',
      step,
      data: { pointers: learned.join(', ') },
      actual: learned,
    })
  }
}

function reportChange(ctx: Ctx, change: Change, step: string, evidence: ReportDescriptor['evidence']): void {
  const header = change.pointer.startsWith('header:') ? change.pointer.slice(7) : undefined
  const redact = (value: unknown) =>
    header && typeof value === 'string'
      ? ctx.clients.http.redactor.headerValue(header, value)
      : ctx.clients.http.redactor.json(clipValue(value))
  const data: Record<string, string> = {}
  for (const [k, v] of Object.entries(change.data)) data[k] = ctx.clients.http.redactor.text(v)
  // Values are redacted before they are described: a header's secret may be cut short by the description.
  if (change.baseline !== undefined) data.baseline = describeValue(redact(change.baseline))
  if (change.candidate !== undefined) data.candidate = describeValue(redact(change.candidate))
  // A status change says how to accept it; machines find the YAML in the evidence's details too.
  const accept = change.data.accept
  const values = sentenceValues(change.messageId, redact(change.baseline), redact(change.candidate))
  ctx.report({
    messageId: change.messageId,
    severity: change.severity,
    pointer: change.pointer,
    ...values,
    data,
    step,
    evidence:
      accept !== undefined && evidence ? { ...evidence, details: { ...evidence.details, accept } } : evidence,
  })
}

function report(ctx: Ctx, descriptor: ReportDescriptor): void {
  const redactor = ctx.clients.http.redactor
  ctx.report({
    ...descriptor,
    expected: redactor.json(clipValue(descriptor.expected)),
    actual: redactor.json(clipValue(descriptor.actual)),
    ...(descriptor.data
      ? {
          data: Object.fromEntries(
            Object.entries(descriptor.data).map(([k, v]) => [
              k,
              typeof v === 'string' ? redactor.text(v) : v,
            ]),
          ),
        }
      : {}),
  })
}

/**
 * A change that also stands for the expectation it broke: as severe as that finding was, and a status
 * change says that accepting it means expecting the new status too.
 */
function explain(change: Change, severity: Change['severity'], expectation: Expectation): Change {
  const out = { ...change, severity, data: { ...change.data } }
  if (change.messageId === 'status-changed') {
    const status = String(change.candidate)
    if (expectation.status !== undefined) out.data.how += `, and expect status ${status} (expect.status)`
    else if (expectation.operation) out.data.how += `, and document status ${status} for the operation`
  }
  return out
}
