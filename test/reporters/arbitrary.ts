/** fast-check arbitraries of verdicts: typed as the engine's types, so they stay in step with them. */
import fc from 'fast-check'
import type {
  CheckResult,
  Counts,
  Evidence,
  Finding,
  PlanResult,
  RunError,
  SerializedError,
  SourceLocation,
  Verdict,
  VerdictSelection,
} from '../../engine/verdict.js'

const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/)
const text = fc.string({ maxLength: 40 })
const ms = fc.integer({ min: 0, max: 120_000 })
const opt = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined })

/** Drops keys whose value is undefined, as JSON would. */
function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T
}

const location: fc.Arbitrary<SourceLocation> = fc
  .record({
    file: name.map((n) => `plans/${n}.md`),
    line: opt(fc.integer({ min: 1, max: 999 })),
    column: opt(fc.integer({ min: 1, max: 80 })),
  })
  .map(compact)

const headers = fc.dictionary(name, text, { maxKeys: 3 })
const json = fc.jsonValue({ maxDepth: 2 })

// The fields every transport has; reporters render only these.
const evidenceBase = {
  sandbox: opt(fc.constantFrom('candidate', 'baseline')),
  summary: fc.array(fc.record({ label: name, value: text }), { maxLength: 3 }),
  excerpt: opt(fc.record({ label: name, text })),
  reproduce: opt(text),
  details: opt(fc.dictionary(name, json, { maxKeys: 3 })),
}

const httpEvidence = fc
  .record({
    transport: fc.constant('http' as const),
    ...evidenceBase,
    request: opt(
      fc
        .record({ method: fc.constantFrom('GET', 'POST'), url: fc.webUrl(), headers, body: opt(text) })
        .map(compact),
    ),
    response: opt(fc.record({ status: fc.integer({ min: 100, max: 599 }), headers, durationMs: ms })),
  })
  .map(compact)

// Transports without a variant of their own (a plug-in's) carry only the common fields.
const otherEvidence = fc
  .record({ transport: fc.constantFrom('process', 'tcp', 'message'), ...evidenceBase })
  .map(compact)

const evidence: fc.Arbitrary<Evidence> = fc.oneof(httpEvidence, otherEvidence)

export const finding: fc.Arbitrary<Finding> = fc
  .record({
    messageId: opt(name),
    message: text,
    severity: fc.constantFrom('error', 'warning', 'info'),
    pointer: opt(text),
    expected: opt(json),
    actual: opt(json),
    evidence: opt(evidence),
    step: opt(text),
    preExisting: opt(fc.constant(true as const)),
    partial: opt(fc.constant(true as const)),
  })
  // JSON drops `null` for absent expected/actual only when undefined; keep null as a value.
  .map(compact)

const findings = fc.array(finding, { maxLength: 3 })

const serializedError: fc.Arbitrary<SerializedError> = fc
  .record({
    name: name,
    message: text,
    code: opt(name),
    stack: opt(text),
    logTail: opt(fc.array(text, { maxLength: 3 })),
  })
  .map(compact)

function checkResult(plan: string): fc.Arbitrary<CheckResult> {
  const base = {
    plan: fc.constant(plan),
    check: name,
    kind: fc.constantFrom('contract', 'e2e', 'load', 'adversarial'),
    location,
    blocking: opt(fc.constant(false as const)),
  }
  return fc
    .oneof(
      fc.record({ ...base, state: fc.constant('passed' as const), durationMs: ms, findings }),
      fc.record({ ...base, state: fc.constant('failed' as const), durationMs: ms, findings }),
      fc.record({ ...base, state: fc.constant('skipped' as const), note: text }),
      fc.record({
        ...base,
        state: fc.constant('errored' as const),
        durationMs: ms,
        error: serializedError,
        findings,
      }),
    )
    .map((c) => compact(c) as CheckResult)
}

const planResult: fc.Arbitrary<PlanResult> = name.chain((planName) =>
  fc.record({
    name: fc.constant(planName),
    title: text,
    file: fc.constant(`plans/${planName}.md`),
    blocking: fc.boolean(),
    state: fc.constantFrom('passed', 'failed', 'warned', 'errored', 'skipped'),
    durationMs: ms,
    checks: fc.array(checkResult(planName), { maxLength: 4 }),
  }),
)

const count = fc.nat({ max: 50 })
const counts: fc.Arbitrary<Counts> = fc.record({
  total: count,
  passed: count,
  failed: count,
  errored: count,
  skipped: count,
  warned: count,
})

const selection: fc.Arbitrary<VerdictSelection> = fc
  .record({
    selector: fc.constantFrom('rules', 'llm', 'hybrid'),
    model: opt(text),
    degraded: opt(fc.boolean()),
    degradedReason: opt(text),
    diffHash: opt(text),
    plans: fc.array(
      fc.record({
        name,
        source: fc.constantFrom('paths', 'always', 'rules', 'llm', 'manual', 'session'),
        reason: text,
      }),
      {
        maxLength: 4,
      },
    ),
  })
  .map(compact)

const runError: fc.Arbitrary<RunError> = fc
  .record({
    code: name,
    message: text,
    location: opt(location),
    logTail: opt(fc.array(text, { maxLength: 3 })),
  })
  .map(compact)

const outcome = fc.constantFrom(
  { status: 'pass', exitCode: 0 } as const,
  { status: 'fail', exitCode: 1 } as const,
  { status: 'error', exitCode: 2 } as const,
  { status: 'error', exitCode: 3 } as const,
)

export const verdictArb: fc.Arbitrary<Verdict> = fc
  .record({
    outcome,
    startedAt: fc
      .date({ min: new Date('2020-01-01'), max: new Date('2030-01-01'), noInvalidDate: true })
      .map((d) => d.toISOString()),
    durationMs: ms,
    identity: fc
      .record({
        runId: name,
        commit: opt(text),
        base: opt(text),
        patch: opt(text),
        requester: opt(text),
        seed: fc.integer(),
      })
      .map(compact),
    selection: opt(selection),
    plans: fc.array(planResult, { maxLength: 4 }),
    errors: fc.array(runError, { maxLength: 2 }),
    summary: fc.record({ plans: counts, checks: counts }),
    timings: fc.array(fc.record({ phase: name, durationMs: ms }), { maxLength: 4 }),
    cancelled: opt(fc.boolean()),
  })
  .map(({ outcome, ...rest }) => compact({ schemaVersion: 3 as const, ...outcome, ...rest }))
