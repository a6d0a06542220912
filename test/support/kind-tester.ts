/**
 * KindTester: the one harness every check kind's tests use (ESLint's RuleTester is the model).
 *
 * Give it a kind — a registry name, or a kind object with its fence word (a test-only kind) — and the
 * sandboxes it runs against: real servers on loopback of any transport (an HTTP server, a TCP service,
 * a broker: a `Target` is service names and URLs), started once for a table or per case by a factory,
 * or a real `Sandbox` from `startSandboxes`. Then tables of blocks, each the YAML body of a fence:
 *
 *   const tester = new KindTester({ kind: 'contract', candidate: () => startServer(handler) })
 *   tester.run('contract', {
 *     valid: [{ name: 'same answer', block: 'request: GET /orders/1' }],
 *     invalid: [{
 *       name: 'removed field',
 *       block: { request: 'GET /orders/1', compare: 'baseline' },
 *       baseline: () => startServer(withTotal),
 *       findings: [{ messageId: 'field-removed', pointer: '/totalCents', data: { … } }],
 *     }],
 *     rejected: [{ name: 'typo', block: 'requets: GET /', errors: ['1:1 contract: unknown property …'] }],
 *     errored: [{ name: 'missing file', block: …, error: /cannot read schema/ }],
 *   })
 *
 * Every block is written into a plan file and loaded by the real plan loader (schema validation and the
 * file checks happen there), run by the real local executor with the real clients bound to the
 * sandboxes' addresses, and its result built into a verdict that must validate against the published
 * schema. Then:
 * - `valid`: the check passes, with no finding above info (and exactly the info findings it lists);
 * - `invalid`: the verdict's findings (repeats merged, as every reporter shows them) are exactly the
 *   listed ones, in order — each names its messageId and may pin
 *   severity (default error), pointer, step, data (a subset of what the kind reported) and the rendered
 *   message, expected and actual; info findings whose messageId the tester calls `quiet` are left out
 *   unless listed;
 * - `rejected`: the plan does not load, with exactly these `line:col message` diagnostics, lines
 *   counted from the block's first line;
 * - `errored`: the check throws (errored, or `state: 'skipped'`) with a message matching `error`.
 * In every table, a reported messageId must exist in `meta.messages` with all its placeholders given.
 * `assert(run)` adds checks of its own (the servers' side, evidence, captured variables, progress);
 * `tester.check(case)` runs one case and returns the same `KindRun` for a test written by hand.
 */
import { rmSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import type { AnyCheckKind, ReportDescriptor } from '../../engine/api/kind.js'
import type { ClientRegistry } from '../../engine/clients/index.js'
import { checkKinds } from '../../engine/kinds/index.js'
import type { SecretSpec } from '../../engine/vars.js'
import type { CheckResult, Finding, Severity } from '../../engine/verdict.js'
import type { Plan } from '../../plans/types.js'
import { executeCase, type KindRun } from './kind-tester/execute.js'
import { blockDiagnostic, loadWritten, writePlan } from './kind-tester/plan.js'
import { startSide, type Side, type Target } from './kind-tester/targets.js'

export { shared, type Side, type Target } from './kind-tester/targets.js'
export type { KindRun } from './kind-tester/execute.js'

export interface KindTesterOptions<T extends Target = Target> {
  /** A registered kind's name (engine/kinds/index.ts), or a kind object. */
  kind: string | AnyCheckKind
  /** The word the fence uses for a kind object. @default the registry name, or `test-kind` */
  name?: string
  /** The clients registry; a test-only kind adds its transport's client. @default engine/clients */
  clients?: ClientRegistry
  candidate?: Side<T>
  /** @default none: the check runs without a baseline */
  baseline?: Side<T>
  /** Secrets as in vigil.config.yaml. @default {} */
  secrets?: Record<string, SecretSpec>
  /** Header names to redact besides the defaults. @default [] */
  redactHeaders?: string[]
  /** Names plans may read as `{{env.NAME}}`. @default [] */
  envAllow?: string[]
  /** Files beside the plan: path (relative to its folder) → text, or a value written as JSON. @default {} */
  files?: Record<string, string | object>
  /** The run seed; each check's seed derives from it. @default 1 */
  seed?: number
  /** Milliseconds vitest gives each case. @default the suite's testTimeout */
  testTimeout?: number
  /** Info messageIds left out of the comparison unless a case names them (a summary, a measurement). */
  quiet?: string[]
}

export interface KindCase<T extends Target = Target> {
  name: string
  /** The fence's body: YAML text, or a value written as YAML. */
  block: string | object
  /** The rest of the fence's info string (the check's name). @default `<name of the case>` */
  title?: string
  /** Overrides the tester's sides; `null` runs without a baseline. */
  candidate?: Side<T>
  baseline?: Side<T> | null
  /** Plan frontmatter besides name, title and hint (`vars`, `timeout`, …). */
  plan?: Record<string, unknown>
  /** Merged over the tester's. */
  secrets?: Record<string, SecretSpec>
  files?: Record<string, string | object>
  redactHeaders?: string[]
  envAllow?: string[]
  /** Environment variables set for `{{env.NAME}}` and `{ env: NAME }` secrets, over process.env. */
  env?: Record<string, string>
  seed?: number
  /** Runs after the plan loaded and the sides started, before the check runs. */
  before?(setup: { dir: string; plan: Plan; candidate: T; baseline?: T }): void | Promise<void>
  /** More assertions on the run. */
  assert?(run: KindRun<T>): void | Promise<void>
}

export interface ExpectedFinding {
  messageId: string
  /** @default 'error' */
  severity?: Severity
  pointer?: string
  step?: string
  /** A subset of the data the kind reported (asymmetric matchers work). */
  data?: Record<string, unknown>
  /** The finding's expected and actual values, as in the verdict. */
  expected?: unknown
  actual?: unknown
  /** The rendered message, exactly or as a pattern. */
  message?: string | RegExp
}

export interface ValidCase<T extends Target = Target> extends KindCase<T> {
  /** The info findings it must report (every one that is not quiet). @default none */
  findings?: ExpectedFinding[]
}

export interface InvalidCase<T extends Target = Target> extends KindCase<T> {
  findings: ExpectedFinding[]
}

export interface ErroredCase<T extends Target = Target> extends KindCase<T> {
  /** The error's (or skip note's) message. */
  error: string | RegExp
  /** @default 'errored' */
  state?: 'errored' | 'skipped'
}

export interface RejectedCase {
  name: string
  block: string | object
  title?: string
  plan?: Record<string, unknown>
  files?: Record<string, string | object>
  /** `line:col message`, lines counted from the block's first line (the fence's is 0). */
  errors: string[]
}

export interface KindTables<T extends Target = Target> {
  valid?: Array<ValidCase<T>>
  invalid?: Array<InvalidCase<T>>
  rejected?: RejectedCase[]
  errored?: Array<ErroredCase<T>>
}

export class KindTester<T extends Target = Target> {
  readonly kind: AnyCheckKind
  readonly name: string

  constructor(readonly options: KindTesterOptions<T>) {
    if (typeof options.kind === 'string') {
      const kind = (checkKinds as Record<string, AnyCheckKind>)[options.kind]
      if (!kind) throw new Error(`KindTester: no check kind "${options.kind}" in engine/kinds/index.ts`)
      this.kind = kind
      this.name = options.name ?? options.kind
    } else {
      this.kind = options.kind
      this.name = options.name ?? 'test-kind'
    }
  }

  /** Declares a describe block with one test per case. */
  run(title: string, tables: KindTables<T>): void {
    const timeout = this.options.testTimeout
    describe(title, () => {
      for (const c of tables.valid ?? []) it(`valid: ${c.name}`, () => this.valid(c), timeout)
      for (const c of tables.invalid ?? []) it(`invalid: ${c.name}`, () => this.invalid(c), timeout)
      for (const c of tables.rejected ?? []) it(`rejected: ${c.name}`, () => this.rejected(c), timeout)
      for (const c of tables.errored ?? []) it(`errored: ${c.name}`, () => this.errored(c), timeout)
    })
  }

  async valid(c: ValidCase<T>): Promise<KindRun<T>> {
    return this.check(c, async (run) => {
      const above = run.findings.filter((f) => f.severity !== 'info')
      expect(above, `${c.name}: findings above info`).toEqual([])
      expect(run.result.state, describeResult(run.result)).toBe('passed')
      for (const f of c.findings ?? [])
        expect(f.severity, `${c.name}: a valid case expects info`).toBe('info')
      this.compare(run, c.findings ?? [], c.name)
    })
  }

  async invalid(c: InvalidCase<T>): Promise<KindRun<T>> {
    return this.check(c, async (run) => {
      expect(['failed', 'passed'], describeResult(run.result)).toContain(run.result.state)
      this.compare(run, c.findings, c.name)
      const fails = c.findings.some((f) => (f.severity ?? 'error') === 'error')
      expect(run.result.state, describeResult(run.result)).toBe(fails ? 'failed' : 'passed')
    })
  }

  /** The findings, less the quiet ones the list does not name, are exactly the list, in order. */
  private compare(run: KindRun<T>, expected: ExpectedFinding[], name: string): void {
    const named = new Set(expected.map((f) => f.messageId))
    const quiet = new Set(this.options.quiet ?? [])
    const got = run.findings.flatMap((finding, i) =>
      quiet.has(finding.messageId ?? '') && !named.has(finding.messageId ?? '')
        ? []
        : [{ finding, report: run.reportOf[i] }],
    )
    const shown = JSON.stringify(got.map((g) => [g.finding.messageId, g.finding.message]))
    expect(got.length, `${name}: findings ${shown}`).toBe(expected.length)
    expected.forEach((want, i) =>
      matchFinding(want, got[i]!.finding, got[i]!.report, `${name} #${i} in ${shown}`),
    )
  }

  async errored(c: ErroredCase<T>): Promise<KindRun<T>> {
    return this.check(c, async (run) => {
      const state = c.state ?? 'errored'
      expect(run.result.state, describeResult(run.result)).toBe(state)
      const message =
        run.result.state === 'skipped'
          ? run.result.note
          : run.result.state === 'errored'
            ? run.result.error.message
            : ''
      if (typeof c.error === 'string') expect(message).toBe(c.error)
      else expect(message).toMatch(c.error)
    })
  }

  async rejected(c: RejectedCase): Promise<void> {
    const written = writePlan(this.name, { ...c, files: { ...this.options.files, ...c.files } })
    try {
      const { plans, diagnostics } = await loadWritten(written.dir, this.kinds())
      expect(plans, `${c.name}: the plan loaded`).toEqual([])
      expect(diagnostics.map((d) => blockDiagnostic(d, written))).toEqual(c.errors)
    } finally {
      rmSync(written.dir, { recursive: true, force: true })
    }
  }

  /** Runs one case through the loader and the executor; `verify` asserts on the result. */
  async check(c: KindCase<T>, verify?: (run: KindRun<T>) => Promise<void>): Promise<KindRun<T>> {
    const o = this.options
    const written = writePlan(this.name, { ...c, files: { ...o.files, ...c.files } })
    const started: T[] = []
    try {
      const { plans, diagnostics } = await loadWritten(written.dir, this.kinds())
      const problems = diagnostics.map((d) => blockDiagnostic(d, written))
      expect(problems, `${c.name}: the block loads`).toEqual([])
      const plan = plans[0]!
      const candidate = await startSide('candidate', c.candidate ?? o.candidate, started)
      if (!candidate) throw new Error(`KindTester: case "${c.name}" has no candidate`)
      const baseline =
        c.baseline === null ? undefined : await startSide('baseline', c.baseline ?? o.baseline, started)
      await c.before?.({ dir: written.dir, plan, candidate: candidate.target, baseline: baseline?.target })
      const run = await executeCase({
        kinds: this.kinds(),
        name: this.name,
        plan,
        dir: written.dir,
        candidate,
        ...(baseline ? { baseline } : {}),
        ...(o.clients ? { clients: o.clients } : {}),
        secrets: { ...o.secrets, ...c.secrets },
        redactHeaders: [...(o.redactHeaders ?? []), ...(c.redactHeaders ?? [])],
        envAllow: [...(o.envAllow ?? []), ...(c.envAllow ?? [])],
        env: { ...process.env, ...c.env },
        seed: c.seed ?? o.seed ?? 1,
        label: c.name,
      })
      for (const f of run.reports) checkMessage(this.kind, f)
      await verify?.(run)
      await c.assert?.(run)
      return run
    } finally {
      await Promise.all(started.map((t) => t.close?.()))
      rmSync(written.dir, { recursive: true, force: true })
    }
  }

  /** The registry with the kind under test in it. */
  private kinds(): Record<string, AnyCheckKind> {
    return { ...(checkKinds as Record<string, AnyCheckKind>), [this.name]: this.kind }
  }
}

function describeResult(result: CheckResult): string {
  if (result.state === 'errored') return `errored: ${result.error.message}`
  if (result.state === 'skipped') return `skipped: ${result.note}`
  return `${result.state}: ${JSON.stringify(result.findings.map((f) => f.message))}`
}

/** ESLint's rule: a reported messageId exists, and the data gives each of its placeholders. */
function checkMessage(kind: AnyCheckKind, d: ReportDescriptor): void {
  if (d.messageId === undefined) return
  const template = kind.meta.messages[d.messageId]
  expect(template, `messageId "${d.messageId}" is in meta.messages`).toBeDefined()
  for (const [, key] of template!.matchAll(/\{\{\s*([\w.-]+)\s*\}\}/g)) {
    expect(Object.hasOwn(d.data ?? {}, key!), `"${d.messageId}" has data for {{${key}}}`).toBe(true)
  }
}

function matchFinding(
  want: ExpectedFinding,
  got: Finding,
  report: ReportDescriptor | undefined,
  label: string,
): void {
  expect(got.messageId, label).toBe(want.messageId)
  expect(got.severity, `${label} severity`).toBe(want.severity ?? 'error')
  if (want.pointer !== undefined) expect(got.pointer, `${label} pointer`).toBe(want.pointer)
  if (want.step !== undefined) expect(got.step, `${label} step`).toBe(want.step)
  if (want.data !== undefined) expect(report?.data, `${label} data`).toMatchObject(want.data)
  if ('expected' in want) expect(got.expected, `${label} expected`).toEqual(want.expected)
  if ('actual' in want) expect(got.actual, `${label} actual`).toEqual(want.actual)
  if (typeof want.message === 'string') expect(got.message, `${label} message`).toBe(want.message)
  else if (want.message) expect(got.message, `${label} message`).toMatch(want.message)
}
