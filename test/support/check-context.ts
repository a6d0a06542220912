/**
 * A real CheckContext for unit-testing one check kind against loopback servers, before (and without)
 * the whole run path: the real HttpClient, real Variables, a Sandbox over given URLs.
 *
 *   const { ctx, findings, run, close } = createCheckContext({ kind: 'e2e', params, candidate: { services: { api: url } } })
 *   await run()
 */
import type { CheckBlock, Plan } from '../../plans/types.js'
import type { AnyCheckKind, CheckContext, ReportDescriptor } from '../../engine/api/kind.js'
import { clients, openClients, SandboxAddresses, type ClientRegistry } from '../../engine/clients/index.js'
import { checkKinds } from '../../engine/kinds/index.js'
import { Redactor } from '../../engine/http/redact.js'
import type { Sandbox } from '../../engine/api/sandbox.js'
import { Variables, secretValues, type SecretSpec } from '../../engine/vars.js'

export interface TestSandboxSpec {
  /** Service name → base URL (no trailing slash needed). */
  services: Record<string, string>
  /** @default the first service */
  default?: string
  /** Headers the sandbox attaches to every request. @default {} */
  headers?: Record<string, string>
}

export interface CreateCheckContextOptions<Params> {
  /** A registered kind's name (looked up in engine/kinds/index.ts), or a kind object. */
  kind: string | AnyCheckKind
  params: Params
  /** Overrides of the plan the check belongs to. @default a plan named `test-plan` */
  plan?: Partial<Plan>
  /** Check name. @default `<kind> check` */
  name?: string
  candidate: TestSandboxSpec
  baseline?: TestSandboxSpec
  /** Secrets as in vigil.config.yaml. @default {} */
  secrets?: Record<string, SecretSpec>
  /** Plan vars (merged over `plan.vars`). @default {} */
  vars?: Record<string, unknown>
  /** Allow-list for `{{env.NAME}}`. @default [] */
  envAllow?: string[]
  /** Extra header names to redact. @default [] */
  redactHeaders?: string[]
  /** @default 1 */
  seed?: number
  /** @default 30000 */
  timeoutMs?: number
  /** The clients registry the kind's `meta.needs` are opened from. @default engine/clients/index.ts */
  clients?: ClientRegistry
}

export interface TestCheckContext<Params> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a test reaches any client the kind declared
  ctx: CheckContext<Params, any, any>
  /** Everything the kind reported, in order. */
  findings: ReportDescriptor[]
  /** Progress notes, in order. */
  progress: string[]
  /** Runs the kind once with this context. */
  run(): Promise<void>
  /** Aborts the context's signal (as Ctrl-C or a timeout would). */
  abort(reason?: string): void
  /** Closes the clients. */
  close(): Promise<void>
}

/** A Sandbox over already-running services. */
export function staticSandbox(name: string, spec: TestSandboxSpec): Sandbox {
  const services = Object.fromEntries(
    Object.entries(spec.services).map(([service, url]) => [
      service,
      { name: service, url: url.replace(/\/+$/, '') },
    ]),
  )
  const defaultService = spec.default ?? Object.keys(services)[0] ?? 'default'
  return {
    name,
    services,
    defaultService,
    headers: spec.headers ?? {},
    url(service = defaultService) {
      const endpoint = services[service]
      if (!endpoint) throw new Error(`sandbox ${name}: unknown service "${service}"`)
      return endpoint.url
    },
    logs: () => [],
    stop: async () => undefined,
  }
}

function testPlan(overrides: Partial<Plan>, check: CheckBlock): Plan {
  return {
    name: 'test-plan',
    title: 'Test plan',
    selectionHint: 'test',
    paths: [],
    tags: [],
    always: false,
    blocking: true,
    vars: {},
    file: 'plans/test-plan.md',
    dir: process.cwd(),
    frontmatter: {},
    ...overrides,
    checks: overrides.checks ?? [check],
  }
}

export function createCheckContext<Params = Record<string, unknown>>(
  options: CreateCheckContextOptions<Params>,
): TestCheckContext<Params> {
  const kindName = typeof options.kind === 'string' ? options.kind : 'custom'
  const name = options.name ?? `${kindName} check`
  const planName = options.plan?.name ?? 'test-plan'
  const check: CheckBlock = {
    kind: kindName,
    name,
    id: `${planName}/${name}`,
    index: 0,
    location: { file: options.plan?.file ?? 'plans/test-plan.md', line: 1, column: 1 },
    params: options.params as Record<string, unknown>,
    source: '',
  }
  const plan = testPlan(options.plan ?? {}, check)
  const secrets = options.secrets ?? {}
  const redactor = new Redactor({ secrets: secretValues(secrets), headers: options.redactHeaders ?? [] })
  const candidate = staticSandbox('candidate', options.candidate)
  const baseline = options.baseline ? staticSandbox('baseline', options.baseline) : undefined
  const kind: AnyCheckKind | undefined =
    typeof options.kind === 'string'
      ? (checkKinds as Record<string, AnyCheckKind>)[options.kind]
      : options.kind
  // The real clients, bound to the sandboxes' addresses as a run binds them.
  const opened = openClients(options.clients ?? clients, kind?.meta.needs ?? [], {
    redactor,
    addresses: SandboxAddresses.of([candidate, baseline]),
  })
  const vars = new Variables({
    vars: { ...plan.vars, ...options.vars },
    envAllow: options.envAllow ?? [],
    secrets,
    services: Object.fromEntries(Object.entries(candidate.services).map(([k, v]) => [k, v.url])),
    defaultService: candidate.defaultService,
    seed: options.seed ?? 1,
    redactor,
  })
  const controller = new AbortController()
  const findings: ReportDescriptor[] = []
  const progress: string[] = []
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const ctx: CheckContext<Params, any, any> = {
    plan,
    check,
    params: options.params,
    sandboxes: baseline ? { candidate, baseline } : { candidate },
    clients: opened.byName,
    vars,
    seed: options.seed ?? 1,
    signal: controller.signal,
    timeoutMs: options.timeoutMs ?? 30_000,
    report: (descriptor) => void findings.push(descriptor),
    progress: (note) => void progress.push(note),
    // One check alone: its measurement runs at once.
    measure: (_claim, fn) => fn(),
  }
  return {
    ctx,
    findings,
    progress,
    run: async () => {
      if (!kind) throw new Error(`unknown check kind "${kindName}"`)
      await kind.run(ctx)
    },
    abort: (reason = 'cancelled') => controller.abort(new Error(reason)),
    close: () => opened.close(),
  }
}
