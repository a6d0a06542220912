/**
 * The check-kind interface: a kind is `defineCheckKind({ meta, run })` in `engine/kinds/<kind>/kind.ts`,
 * shaped like an ESLint rule — it only calls `ctx.report`, and the engine adds plan, check, location and
 * severity. A thrown error makes the check errored, a different outcome from failed.
 */
import type { BlockLint } from '../../plans/parse-plan.js'
import type { CheckBlock, JsonSchema, Plan } from '../../plans/types.js'
import type { Clients } from '../clients/index.js'
import type { IsolateOptions, Sandbox } from './sandbox.js'
import type { CheckResult, Evidence, Finding, Severity } from '../verdict.js'

/** What a check kind reports; the engine adds plan, check, location and renders the message. */
export interface ReportDescriptor {
  /** Key into `meta.messages`; its `{{placeholders}}` are filled from `data`. */
  messageId?: string
  /** A literal message, when no messageId fits. */
  message?: string
  data?: Record<string, unknown>
  /** @default 'error' (fails the check) */
  severity?: Severity
  pointer?: string
  expected?: unknown
  actual?: unknown
  /** What was observed, with its reproduce line: write it with the helpers of engine/api/evidence.ts. */
  evidence?: Evidence
  step?: string
  /**
   * The baseline fails the same way (a check run on both sides): the failure is not this change's. The
   * engine says so after the message; the kind reports it as a warning. @default false
   */
  preExisting?: boolean
  /**
   * Found by a check whose comparison was cut short (its time ran out): it holds, but what it was
   * compared with is incomplete. @default false
   */
  partial?: boolean
}

/** Template rendering over plan vars, captures, `{{env.NAME}}` (allow-listed) and `{{secrets.NAME}}`. */
export interface Variables {
  /** Current value of a variable, or undefined. */
  get(name: string): unknown
  set(name: string, value: unknown): void
  /** Renders `{{…}}` in every string of a value. A whole-string `{{x}}` keeps x's type. Throws on unknown names. */
  render<T>(value: T): T
}

export interface CheckSandboxes {
  candidate: Sandbox
  /** Present when the run has a baseline. */
  baseline?: Sandbox
}

/**
 * What a check kind gets to run one check. `Need` are the names of the clients it declared in
 * `meta.needs` (engine/clients/index.ts); `ctx.clients` holds exactly those, typed.
 */
export interface CheckContext<Params = Record<string, unknown>, Need extends keyof C = never, C = Clients> {
  plan: Plan
  check: CheckBlock
  /** The block's parameters, validated against `meta.schema` at load time (not yet template-rendered). */
  params: Params
  sandboxes: CheckSandboxes
  /** The clients the kind declared in `meta.needs`, each keeping its traffic to the sandboxes' addresses. */
  clients: Pick<C, Need>
  vars: Variables
  /** Seed for anything generated; fixed per plan and check unless the run sets one. */
  seed: number
  /** Aborted on Ctrl-C, the check's timeout or the run's deadline. */
  signal: AbortSignal
  /** Milliseconds this check may still take. */
  timeoutMs: number
  report(descriptor: ReportDescriptor): void
  /** A progress note for live reporters (not part of the verdict). */
  progress(note: string): void
  /**
   * A view of `sandbox` in which each of `services` is a fresh copy started for this check alone
   * (`Sandbox.isolate`): traffic may go to the copies while the check runs, and they are stopped when it
   * ends. Throws when the sandbox's provider cannot start copies. Absent where the engine offers none.
   */
  isolate?(sandbox: Sandbox, services: readonly string[], options?: IsolateOptions): Promise<Sandbox>
  /**
   * Runs `fn` as a measurement, for kinds with `exclusive: 'measure'`: once every non-measuring check has
   * finished, and beside no other measurement that shares a resource of `claim` or would need more cores
   * than the machine has. Time spent waiting does not count against the check's timeout.
   */
  measure<T>(claim: MeasureClaim, fn: () => Promise<T>): Promise<T>
  /**
   * Runs `fn`, which measures nothing and changes no state (a read-only warm-up), beside the non-measuring
   * checks while they still run: beside no other such work sharing a resource of `claim`, and only on cores
   * the claim leaves free for the checks. Resolves true once `fn` ran; false when it did not (the
   * measurements have begun, or the machine lacks the cores): then the kind does it inside its measurement.
   * Measurements that share a resource with it wait until it ends. Absent where the engine offers none.
   */
  warmUp?(claim: MeasureClaim, fn: () => Promise<unknown>): Promise<boolean>
  /**
   * Resolves once the run's comparing checks have ended: those that read both sides and compare, where a write
   * would show as a difference. A `'measure'` kind that first tries its work beside the other checks (the event
   * kind, which tells its trigger's messages from theirs) waits for it before it writes. Absent where the
   * engine has no such phase: then the work is measured.
   */
  afterComparisons?(): Promise<void>
  /**
   * Runs other checks of the plan as part of this one, against `sandboxes` instead of the run's (the
   * migration gate runs checks the block names against the baseline's code on a migrated database): one
   * after the other, each with its own context and what is left of this check's time, to its result. Their
   * findings are not the verdict's until this check reports them. Absent where the engine offers none.
   */
  runChecks?(checks: readonly CheckBlock[], sandboxes: CheckSandboxes): Promise<CheckResult[]>
  /**
   * What this check learned about the baseline in earlier runs of a warm session (`vigil dev`), kept
   * only while the baseline is the same set of processes. Absent in a one-off run: learn it again.
   */
  memory?: CheckMemory
}

/** A check's memory across the iterations of a warm session, by keys the kind chooses. */
export interface CheckMemory {
  get<T>(key: string): T | undefined
  set(key: string, value: unknown): void
}

/** What a measurement needs to itself. */
export interface MeasureClaim {
  /**
   * Resources no other measurement may use at the same time: `service:<name>` for each sandbox service it
   * loads (the executor adds their dependencies), and e.g. `load-generator:main-thread` for a generator
   * in vigil's own process. Empty: everything (the measurement runs alone).
   */
  resources: string[]
  /** Cores the measurement keeps busy (load generator and services). */
  cores: number
}

export interface CheckKindMeta<Need extends PropertyKey = string> {
  /** One sentence: what the kind validates. */
  description: string
  /** JSON Schema of the fenced block's YAML; validated when plans load. */
  schema: JsonSchema
  /** Message templates by id, with `{{placeholders}}`. */
  messages: Record<string, string>
  /** The clients the kind uses, by name (`['http']`); its context holds exactly these. @default [] */
  needs?: readonly Need[]
  /** True when the kind can only run with a baseline (it is skipped without one). */
  requiresBaseline?: boolean
  /**
   * For kinds that measure the sandboxes. `true`: the whole check runs alone, after every other check
   * has finished. `'measure'`: the check starts with the others (set-up overlaps them) and only what it
   * runs through `ctx.measure` waits for a quiet machine, beside measurements that share nothing with it.
   * @default false
   */
  exclusive?: boolean | 'measure'
  /**
   * Lint of a block the schema accepted, for mistakes a schema cannot express (a comparison that can never
   * happen): each problem at its JSON pointer, with the fix; a plan error when plans load. Keep it light:
   * `vigil plans lint` loads it with the schema.
   */
  lint?: BlockLint
}

export interface CheckKind<Params = Record<string, unknown>, Need extends keyof C = never, C = Clients> {
  meta: CheckKindMeta<Need>
  /** Reports findings through `ctx.report`. A thrown error makes the check `errored`, not `failed`. */
  run(ctx: CheckContext<Params, Need, C>): Promise<void>
  /**
   * Sends again what produced one finding of an earlier run (`vigil reproduce`): the e2e steps up to the
   * failing one, the contract request, the adversarial case — to the candidate and, where the kind
   * compares, the baseline — and reports as `run` does, so the engine can tell whether it reproduces.
   * Throw a `ReplayError` (engine/api/replay.ts) when the finding cannot be located in the block any more.
   * A kind without it cannot replay one finding.
   */
  replay?(ctx: CheckContext<Params, Need, C>, finding: Finding): Promise<void>
}

/** Any kind, as a registry holds them (each kind narrows its own params and clients). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyCheckKind = CheckKind<any, any, any>

/**
 * Identity function for type inference (citty's defineCommand):
 * `defineCheckKind<MyParams, 'http'>({ meta: { needs: ['http'], … }, run(ctx) { ctx.clients.http … } })`.
 * `C` is the client registry's types; a kind that brings its own client in a test names it there.
 */
export function defineCheckKind<Params = Record<string, unknown>, Need extends keyof C = never, C = Clients>(
  kind: CheckKind<Params, Need, C>,
): CheckKind<Params, Need, C> {
  return kind
}
