import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type {
  CheckResult,
  Counts,
  EvidenceExcerpt,
  EvidenceLine,
  EvidenceLogs,
  EvidenceWindow,
  FindingExample,
  FindingRepeats,
  ServiceBuild,
  SideIdentity,
  SideSource,
  HttpEvidence,
  Finding,
  PlanResult,
  RecordedRequest,
  RecordedResponse,
  RunError,
  RunIdentity,
  SelectedPlanRef,
  SerializedError,
  SourceLocation,
  TimingEntry,
  Verdict,
  VerdictResources,
  ServiceResources,
  ServiceCopy,
  ResourcePoint,
  VerdictSelection,
} from '../../engine/verdict.js'
import { VERDICT_SCHEMA_ID, isVerdict, validateVerdict, verdictSchema } from '../../reporters/schema.js'
import { verdictArb } from './arbitrary.js'
import { verdict } from './fixture.js'

type Keys<T> = Record<keyof T, true>
// Each list must name every key of its type (the `satisfies` fails to compile otherwise), and the test
// below checks the schema declares exactly these properties: the schema cannot drift from the types.
type CheckKeys = Keys<Extract<CheckResult, { state: 'errored' }>> & { note: true }
const typeKeys = {
  verdict: {
    schemaVersion: true,
    status: true,
    exitCode: true,
    startedAt: true,
    durationMs: true,
    identity: true,
    selection: true,
    plans: true,
    errors: true,
    summary: true,
    timings: true,
    cancelled: true,
    session: true,
    resources: true,
  } satisfies Keys<Verdict>,
  sourceLocation: { file: true, line: true, column: true } satisfies Keys<SourceLocation>,
  recordedRequest: { method: true, url: true, headers: true, body: true } satisfies Keys<RecordedRequest>,
  recordedResponse: { status: true, headers: true, durationMs: true } satisfies Keys<RecordedResponse>,
  evidenceLine: { label: true, value: true } satisfies Keys<EvidenceLine>,
  evidenceExcerpt: { label: true, text: true } satisfies Keys<EvidenceExcerpt>,
  // The http variant holds every field: the common ones and its request and response.
  evidence: {
    transport: true,
    sandbox: true,
    summary: true,
    excerpt: true,
    reproduce: true,
    details: true,
    request: true,
    response: true,
    window: true,
    logs: true,
  } satisfies Keys<HttpEvidence>,
  evidenceWindow: { start: true, end: true, requestId: true } satisfies Keys<EvidenceWindow>,
  evidenceLogs: { attribution: true, services: true, omitted: true } satisfies Keys<EvidenceLogs>,
  finding: {
    id: true,
    repeats: true,
    messageId: true,
    message: true,
    severity: true,
    pointer: true,
    expected: true,
    actual: true,
    evidence: true,
    step: true,
    preExisting: true,
    partial: true,
  } satisfies Keys<Finding>,
  serializedError: {
    name: true,
    message: true,
    code: true,
    stack: true,
    logTail: true,
  } satisfies Keys<SerializedError>,
  checkResult: {
    plan: true,
    check: true,
    kind: true,
    location: true,
    blocking: true,
    state: true,
    durationMs: true,
    findings: true,
    error: true,
    note: true,
  } satisfies CheckKeys,
  planResult: {
    name: true,
    title: true,
    file: true,
    blocking: true,
    state: true,
    durationMs: true,
    checks: true,
  } satisfies Keys<PlanResult>,
  selectedPlanRef: { name: true, source: true, reason: true } satisfies Keys<SelectedPlanRef>,
  selection: {
    selector: true,
    model: true,
    degraded: true,
    degradedReason: true,
    diffHash: true,
    plans: true,
  } satisfies Keys<VerdictSelection>,
  runIdentity: {
    runId: true,
    commit: true,
    base: true,
    patch: true,
    requester: true,
    seed: true,
    config: true,
    sides: true,
  } satisfies Keys<RunIdentity>,
  findingRepeats: { count: true, examples: true } satisfies Keys<FindingRepeats>,
  findingExample: {
    id: true,
    message: true,
    step: true,
    pointer: true,
    actual: true,
    summary: true,
    reproduce: true,
  } satisfies Keys<FindingExample>,
  sideIdentity: { source: true, provider: true, services: true } satisfies Keys<SideIdentity>,
  sideSource: {
    kind: true,
    commit: true,
    dirty: true,
    ref: true,
    patch: true,
    patchSha256: true,
    overrides: true,
  } satisfies Keys<SideSource>,
  serviceBuild: {
    command: true,
    cwd: true,
    prepare: true,
    version: true,
    versionError: true,
    package: true,
    image: true,
    url: true,
  } satisfies Keys<ServiceBuild>,
  runError: { code: true, message: true, location: true, logTail: true } satisfies Keys<RunError>,
  counts: {
    total: true,
    passed: true,
    failed: true,
    errored: true,
    skipped: true,
    warned: true,
  } satisfies Keys<Counts>,
  timingEntry: { phase: true, durationMs: true } satisfies Keys<TimingEntry>,
  verdictResources: { intervalMs: true, services: true } satisfies Keys<VerdictResources>,
  serviceResources: {
    side: true,
    service: true,
    copy: true,
    peak: true,
    cpuMs: true,
    samples: true,
  } satisfies Keys<ServiceResources>,
  serviceCopy: { plan: true, check: true, nth: true } satisfies Keys<ServiceCopy>,
  resourcePoint: {
    atMs: true,
    rss: true,
    cpuMs: true,
    fds: true,
    threads: true,
  } satisfies Keys<ResourcePoint>,
}

interface SchemaNode {
  properties?: Record<string, unknown>
  allOf?: Array<{ then?: { properties?: Record<string, unknown> } }>
}

function declaredProperties(node: SchemaNode): string[] {
  const own = Object.keys(node.properties ?? {})
  const branches = (node.allOf ?? []).flatMap((b) => Object.keys(b.then?.properties ?? {}))
  return [...new Set([...own, ...branches])].sort()
}

const clone = <T>(value: T): T => structuredClone(value)

/** The HTTP evidence of the fixture's failed check (`/plans/1/checks/0/findings/0/evidence`). */
function firstEvidence(v: Verdict): object {
  const check = v.plans[1]!.checks[0]!
  if (check.state !== 'failed' || !check.findings[0]?.evidence) throw new Error('fixture changed')
  return check.findings[0].evidence
}

describe('verdict schema', () => {
  it('is draft 2020-12 with the id the JSON reporter writes', () => {
    expect(verdictSchema.$schema).toBe('https://json-schema.org/draft/2020-12/schema')
    expect(verdictSchema.$id).toBe(VERDICT_SCHEMA_ID)
  })

  it('declares exactly the properties of each verdict type', () => {
    const defs = verdictSchema.$defs as Record<string, SchemaNode>
    for (const [def, keys] of Object.entries(typeKeys)) {
      const node = def === 'verdict' ? (verdictSchema as SchemaNode) : defs[def]
      expect(node, def).toBeDefined()
      const expected = Object.keys(keys).concat(def === 'verdict' ? ['$schema'] : [])
      expect(declaredProperties(node!), def).toEqual(expected.sort())
    }
  })

  it('accepts the fixture verdict', () => {
    expect(validateVerdict(verdict)).toEqual({ valid: true, errors: [] })
    expect(isVerdict(verdict)).toBe(true)
  })

  it('accepts every verdict the types allow (seeded property test)', () => {
    fc.assert(
      fc.property(verdictArb, (v) => {
        const result = validateVerdict(JSON.parse(JSON.stringify(v)))
        expect(result.errors).toEqual([])
      }),
      { seed: 20250102, numRuns: 300 },
    )
  })

  it.each([
    [
      'a skipped check carrying findings',
      (v: Verdict) => Object.assign(v.plans[0]!.checks[1]!, { findings: [] }),
      '/plans/0/checks/1 must NOT have unevaluated properties (findings)',
    ],
    [
      'a failed check without findings',
      (v: Verdict) => delete (v.plans[1]!.checks[0] as { findings?: unknown }).findings,
      "/plans/1/checks/0 must have required property 'findings'",
    ],
    [
      'an errored check without its error',
      (v: Verdict) => delete (v.plans[0]!.checks[0] as { error?: unknown }).error,
      "/plans/0/checks/0 must have required property 'error'",
    ],
    [
      'an unknown check state',
      (v: Verdict) => Object.assign(v.plans[2]!.checks[0]!, { state: 'flaky' }),
      '/plans/2/checks/0/state must be equal to one of the allowed values (["passed","failed","skipped","errored"])',
    ],
    [
      'a misspelt finding property',
      (v: Verdict) =>
        Object.assign(v.plans[1]!.checks[0]!.state === 'failed' ? v.plans[1]!.checks[0]!.findings[0]! : {}, {
          expcted: 1,
        }),
      '/plans/1/checks/0/findings/0 must NOT have additional properties (expcted)',
    ],
    [
      'a status that disagrees with the exit code',
      (v: Verdict) => Object.assign(v, { status: 'pass' }),
      '/exitCode must be equal to constant (0)',
    ],
    [
      'a bad timestamp',
      (v: Verdict) => Object.assign(v, { startedAt: 'yesterday' }),
      '/startedAt must match format "date-time"',
    ],
    [
      'a negative duration',
      (v: Verdict) => Object.assign(v.timings[0]!, { durationMs: -1 }),
      '/timings/0/durationMs must be >= 0',
    ],
    [
      'an unknown selection source',
      (v: Verdict) => Object.assign(v.selection!.plans[0]!, { source: 'guess' }),
      '/selection/plans/0/source must be equal to one of the allowed values (["paths","always","impact","rules","llm","manual","session"])',
    ],
    [
      'another schema version',
      (v: Verdict) => Object.assign(v, { schemaVersion: 2 }),
      '/schemaVersion must be equal to constant (3)',
    ],
    [
      'a request on evidence of another transport',
      (v: Verdict) => Object.assign(firstEvidence(v), { transport: 'process' }),
      '/plans/1/checks/0/findings/0/evidence/request must not be present here',
    ],
    [
      'evidence without its transport',
      (v: Verdict) => delete (firstEvidence(v) as { transport?: string }).transport,
      "/plans/1/checks/0/findings/0/evidence must have required property 'transport'",
    ],
  ])('rejects %s, saying where', (_label, mutate, message) => {
    const v = clone(verdict)
    mutate(v)
    const result = validateVerdict(v)
    expect(result.valid).toBe(false)
    expect(result.errors).toContain(message)
  })
})
