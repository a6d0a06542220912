/**
 * `vigil reproduce`: after a run has ended, bring its sides back from the sources its verdict recorded
 * (the same patch, the same base commit, the config's overrides), send again what produced one finding —
 * the kind's `replay` decides what that is — and return both sides' answers with the services' log
 * lines, whether the finding came back, and what differs from the run. Everything started is stopped.
 */
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { loadConfig } from '../../plans/config.js'
import type { CheckBlock, Plan } from '../../plans/types.js'
import { validateVerdict } from '../../reporters/schema.js'
import { sideServiceLines } from '../../reporters/format.js'
import type { AnyCheckKind, CheckContext, ReportDescriptor } from '../api/kind.js'
import { clients, openClients, SandboxAddresses, type OpenClients } from '../clients/index.js'
import { UsageError } from '../errors.js'
import { checkSeed, finishFindings, toFinding } from '../executors/index.js'
import { logsFor } from '../findings/logs.js'
import { HttpClient, HttpNetworkError, type HttpRequestSpec } from '../http/client.js'
import { checkKinds } from '../kinds/index.js'
import { onShutdown } from '../lifecycle.js'
import {
  overrideKeys,
  resolveCommit,
  startSandboxes,
  workingTreeState,
  type SandboxSession,
} from '../sandboxes/index.js'
import { configRedactor, Variables } from '../vars.js'
import type {
  EvidenceLogs,
  EvidenceWindow,
  Finding,
  RecordedRequest,
  RecordedResponse,
  SideIdentity,
  Verdict,
} from '../verdict.js'
import { loadPlansForRun } from './load-plans.js'

/** A finding that cannot be replayed here (a moved tree, a changed patch, an unknown id): exit 2. */
export class ReproduceError extends UsageError {
  override readonly name = 'ReproduceError'
}

export interface ReproduceOptions {
  /** The verdict JSON of the run (`.vigil/ci/verdict.json`, or a `--json` output saved to a file). */
  verdictFile: string
  /** The verdict itself, parsed (an MCP client hands back what `run_plans` returned); `verdictFile` only names it. */
  verdict?: unknown
  findingId: string
  /** @default the config the verdict names, else `vigil.config.yaml` */
  configPath?: string
  /** @default process.cwd() */
  cwd?: string
  env?: Readonly<Record<string, string | undefined>>
  log?: (line: string) => void
  signal?: AbortSignal
}

/** One request the replay sent, and what came back. */
export interface ReplayedExchange {
  /** `candidate` or `baseline`. */
  side: string
  service?: string
  request: RecordedRequest
  response?: RecordedResponse
  /** The start of the response body, redacted. */
  body?: string
  /** Why no response came. */
  error?: string
  window: EvidenceWindow
  logs?: EvidenceLogs
}

export interface ReproduceResult {
  finding: Finding & { plan: string; check: string; kind: string; location: string }
  /** What ran now: each side's source as the run recorded it, and the services as they started now. */
  sides: { candidate: SideIdentity; baseline?: SideIdentity }
  /** What differs from the run (the tree moved, a command changed); the replay still ran. */
  warnings: string[]
  exchanges: ReplayedExchange[]
  /** What the check reports now, from the replayed requests. */
  findings: Finding[]
  /** True when the finding's id came back on the candidate. */
  reproduced: boolean
}

async function readVerdict(file: string, cwd: string, given?: unknown): Promise<Verdict> {
  let raw: unknown = given
  try {
    if (raw === undefined) raw = JSON.parse(await readFile(path.resolve(cwd, file), 'utf8'))
  } catch (error) {
    throw new ReproduceError(`${file}: cannot read a JSON verdict: ${(error as Error).message}`)
  }
  const version = (raw as { schemaVersion?: unknown })?.schemaVersion
  if (typeof version === 'number' && version < 3)
    throw new ReproduceError(
      `${file}: a verdict of schema version ${version} has no finding ids; run again to get one`,
    )
  const checked = validateVerdict(raw)
  if (!checked.valid)
    throw new ReproduceError(`${file}: not a vigil verdict: ${checked.errors.slice(0, 3).join('; ')}`)
  return raw as Verdict
}

interface Located {
  plan: string
  check: string
  kind: string
  location: string
  finding: Finding
}

function locateFinding(verdict: Verdict, id: string, file: string): Located {
  const all: Located[] = []
  for (const plan of verdict.plans)
    for (const check of plan.checks) {
      if (check.state === 'skipped') continue
      const where = `${check.location.file}:${check.location.line ?? 1}`
      for (const finding of check.findings) {
        const base = { plan: plan.name, check: check.check, kind: check.kind, location: where }
        all.push({ ...base, finding })
        // An example of merged repeats replays as its group's first, at its own step.
        for (const example of finding.repeats?.examples ?? []) {
          const own: Finding = { ...finding, id: example.id, message: example.message }
          if (example.step !== undefined) own.step = example.step
          if (example.pointer !== undefined) own.pointer = example.pointer
          delete own.repeats
          all.push({ ...base, finding: own })
        }
      }
    }
  const found = all.find((l) => l.finding.id === id)
  if (found) return found
  const failing = all
    .filter((l) => l.finding.severity !== 'info')
    .map((l) => `${l.finding.id} (${l.plan} › ${l.check})`)
  throw new ReproduceError(
    `${file} has no finding ${id}${failing.length ? `; its failing findings are ${[...new Set(failing)].slice(0, 10).join(', ')}` : ''}`,
  )
}

async function sha256(file: string): Promise<string | undefined> {
  try {
    return createHash('sha256')
      .update(await readFile(file))
      .digest('hex')
  } catch {
    return undefined
  }
}

/** Where the sides start from now, the warnings of what moved, or a refusal. */
async function sources(
  sides: NonNullable<Verdict['identity']['sides']>,
  configDir: string,
  cwd: string,
  baselineSection: unknown,
): Promise<{ base?: string; patch?: string; warnings: string[] }> {
  const warnings: string[] = []
  const now = await workingTreeState(configDir)
  const treeWarnings = (recorded: SideIdentity['source']) => {
    if (recorded.commit && now.commit && recorded.commit !== now.commit)
      warnings.push(
        `the working tree is at ${now.commit.slice(0, 12)}; the run ran from ${recorded.commit.slice(0, 12)}`,
      )
    if (recorded.dirty || now.dirty)
      warnings.push(
        `the working tree has uncommitted changes (${recorded.dirty ? 'it had some in the run too' : 'it had none in the run'}): what starts now may not be the build of the run`,
      )
  }
  const out: { base?: string; patch?: string; warnings: string[] } = { warnings }
  const c = sides.candidate.source
  if (c.kind === 'patch') {
    if (!c.patch) throw new ReproduceError("the run's candidate was a patch the verdict does not name")
    const file = path.resolve(cwd, c.patch)
    const hash = await sha256(file)
    if (!hash)
      throw new ReproduceError(
        `the run's candidate was ${c.patch} applied to the working tree, and ${c.patch} does not exist here (a patch given as text to the MCP server is gone with its run); pass the same change again with vigil run`,
      )
    if (c.patchSha256 && hash !== c.patchSha256)
      throw new ReproduceError(
        `${c.patch} has changed since the run (sha256 ${hash.slice(0, 12)}, the run's was ${c.patchSha256.slice(0, 12)}): the candidate cannot be the same build`,
      )
    out.patch = c.patch
  }
  treeWarnings(c)
  const b = sides.baseline?.source
  if (b?.kind === 'ref') {
    const commit = b.commit ?? b.ref
    if (!commit || !(await resolveCommit(configDir, commit)))
      throw new ReproduceError(
        `the run's baseline was ${b.ref ?? 'a ref'} at ${b.commit?.slice(0, 12) ?? '?'}, which this repository does not have (fetch it, or run again)`,
      )
    const moved = b.ref ? await resolveCommit(configDir, b.ref) : undefined
    if (b.commit && moved && moved !== b.commit)
      warnings.push(
        `${b.ref} has moved since the run (now ${moved.slice(0, 12)}); the baseline starts at the run's ${b.commit.slice(0, 12)}`,
      )
    out.base = b.commit ?? b.ref
  } else if (b && c.kind !== 'working-tree') treeWarnings(b)
  if (b) {
    const recorded = (b.overrides ?? []).join(', ')
    const current = overrideKeys(baselineSection).join(', ')
    if (recorded !== current)
      warnings.push(
        `the config's baseline: section now overrides ${current || 'nothing'}; in the run it overrode ${recorded || 'nothing'}`,
      )
  }
  return out
}

/** Services whose command or version differs between the run and now. */
function buildWarnings(
  name: string,
  recorded: SideIdentity | undefined,
  now: SideIdentity | undefined,
): string[] {
  if (!recorded || !now) return []
  const before = new Map(sideServiceLines(recorded).map((l) => [l.slice(0, l.indexOf(':')), l]))
  return sideServiceLines(now)
    .filter((line) => {
      const was = before.get(line.slice(0, line.indexOf(':')))
      return was !== undefined && was !== line
    })
    .map(
      (line) =>
        `${name} ${line} (in the run: ${before.get(line.slice(0, line.indexOf(':')))!.slice(line.indexOf(':') + 2)})`,
    )
}

/** The HTTP client of the replay: the run's, recording every exchange in the order it was sent. */
function recording(
  client: HttpClient,
  sent: Array<{ spec: HttpRequestSpec; done: Promise<ReplayedExchange> }>,
  sideOf: (url: string) => { side: string; service?: string },
): HttpClient {
  const recorder = Object.create(client) as HttpClient
  recorder.request = async (spec) => {
    let settle!: (e: ReplayedExchange) => void
    sent.push({ spec, done: new Promise((resolve) => (settle = resolve)) })
    try {
      const exchange = await client.request(spec)
      const recorded = exchange.recorded()
      settle({
        ...sideOf(exchange.url),
        request: recorded.request,
        response: recorded.response,
        ...(recorded.body ? { body: recorded.body } : {}),
        window: recorded.window,
      })
      return exchange
    } catch (error) {
      if (error instanceof HttpNetworkError)
        settle({
          ...sideOf(error.request.url),
          request: error.request,
          error: error.message,
          window: error.window ?? { start: new Date().toISOString(), end: new Date().toISOString() },
        })
      throw error
    }
  }
  return recorder
}

export async function reproduceFinding(options: ReproduceOptions): Promise<ReproduceResult> {
  const cwd = path.resolve(options.cwd ?? process.cwd())
  const env = options.env ?? process.env
  const log = options.log ?? (() => undefined)
  const signal = options.signal ?? new AbortController().signal
  const verdict = await readVerdict(options.verdictFile, cwd, options.verdict)
  const located = locateFinding(verdict, options.findingId, options.verdictFile)
  const sides = verdict.identity.sides
  if (!sides)
    throw new ReproduceError(
      `${options.verdictFile}: the run started no sandbox, so there is nothing to bring back`,
    )
  const loaded = await loadConfig(options.configPath ?? verdict.identity.config, cwd).catch(
    (error: unknown) => {
      throw new UsageError((error as Error).message, { cause: error })
    },
  )
  const redactor = configRedactor(loaded, env)
  const plans = await loadPlansForRun(loaded, undefined, cwd)
  const plan: Plan | undefined = plans.plans.find((p) => p.name === located.plan)
  const check: CheckBlock | undefined = plan?.checks.find((c) => c.name === located.check)
  if (!plan || !check)
    throw new ReproduceError(
      `${located.plan} › ${located.check} is no longer among the plans of ${path.relative(cwd, loaded.file) || loaded.file}`,
    )
  const kinds: Readonly<Record<string, AnyCheckKind>> = checkKinds
  const kind = Object.hasOwn(kinds, check.kind) ? kinds[check.kind] : undefined
  if (!kind?.replay)
    throw new ReproduceError(
      `a ${check.kind} check cannot replay one finding; run it again with vigil run --plan ${plan.name}`,
    )
  const from = await sources(sides, loaded.dir, cwd, loaded.config.baseline)
  const config = loaded.config

  let session: SandboxSession | undefined
  let opened: OpenClients | undefined
  const unregister = onShutdown(async () => {
    await session?.stop()
  })
  try {
    session = await startSandboxes({
      loaded,
      base: from.base,
      patch: from.patch,
      baseline: sides.baseline !== undefined,
      signal,
      log,
      cwd,
      redactor,
    })
    const { candidate, baseline } = session
    const warnings = [
      ...new Set(from.warnings),
      ...buildWarnings('candidate', sides.candidate, session.sides.candidate),
      ...buildWarnings('baseline', sides.baseline, session.sides.baseline),
    ]
    const sandboxes = baseline ? { candidate, baseline } : { candidate }
    opened = openClients(clients, kind.meta.needs ?? [], {
      redactor,
      addresses: SandboxAddresses.of([candidate, baseline]),
      ...(config.logs.requestId ? { requestIdHeader: config.logs.requestId } : {}),
    })
    const sent: Array<{ spec: HttpRequestSpec; done: Promise<ReplayedExchange> }> = []
    const sideOf = (url: string): { side: string; service?: string } => {
      for (const sandbox of [candidate, baseline]) {
        if (!sandbox) continue
        for (const [service, endpoint] of Object.entries(sandbox.services))
          if (
            url === endpoint.url ||
            url.startsWith(`${endpoint.url}/`) ||
            url.startsWith(`${endpoint.url}?`)
          )
            return { side: sandbox.name, service }
      }
      return { side: 'unknown' }
    }
    const byName = { ...opened.byName }
    if (byName.http instanceof HttpClient) byName.http = recording(byName.http, sent, sideOf)
    const urls = Object.fromEntries(Object.entries(candidate.services).map(([k, v]) => [k, v.url]))
    const seed = checkSeed(verdict.identity.seed, plan.name, check.id)
    const reported: ReportDescriptor[] = []
    const timeoutMs = plan.timeoutMs ?? config.checkTimeoutMs
    const ctx: CheckContext<Record<string, unknown>, never, Record<string, unknown>> = {
      plan,
      check,
      params: check.params as Record<string, unknown>,
      sandboxes,
      clients: byName,
      vars: new Variables({
        vars: plan.vars,
        envAllow: config.env,
        env,
        secrets: config.secrets,
        services: urls,
        defaultService: candidate.defaultService,
        seed,
        redactor,
      }),
      seed,
      signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
      timeoutMs,
      report: (d) => void reported.push(d),
      progress: (note) => log(`${plan.name} › ${check.name}: ${note}`),
      // A replay is the only check running: a measurement runs at once.
      measure: (_claim, fn) => fn(),
    }
    await kind.replay(ctx, located.finding)
    const logs = { graceMs: config.logs.graceMs, maxLines: config.logs.lines }
    const findings = await finishFindings(
      reported.map((d) => toFinding(kind, d, redactor)),
      { plan, check, sandboxes, redactor, logs },
      signal,
    )
    const exchanges = await Promise.all(sent.map((s) => s.done))
    for (const exchange of exchanges) {
      const sandbox =
        exchange.side === 'baseline' ? baseline : exchange.side === 'candidate' ? candidate : undefined
      const found =
        sandbox && logsFor({ transport: 'http', summary: [], window: exchange.window }, sandbox, logs)
      if (found) exchange.logs = redactor.json(found)
    }
    const target = located.finding.id
    const reproduced = findings.some(
      (f) =>
        f.evidence?.sandbox !== 'baseline' &&
        (f.id === target || f.repeats?.examples.some((e) => e.id === target)),
    )
    const { plan: planName, check: checkName, kind: kindName, location } = located
    return redactor.json({
      finding: { ...located.finding, plan: planName, check: checkName, kind: kindName, location },
      sides: {
        candidate: { ...sides.candidate, services: session.sides.candidate.services },
        ...(sides.baseline && session.sides.baseline
          ? { baseline: { ...sides.baseline, services: session.sides.baseline.services } }
          : {}),
      },
      warnings,
      exchanges,
      findings,
      reproduced,
    })
  } finally {
    await session?.stop()
    unregister()
    await opened?.close()
  }
}
