/**
 * A warm session: the agent's loop. The baseline, the catalog, the learned noise and the HTTP pools are
 * kept between iterations; each iteration reads the change against the session's base, restarts only the
 * candidate services whose files changed, selects, runs and reports. Nothing stale is relied on: a moved
 * base, a dead baseline service or a changed config rebuilds the sandboxes, and the verdict says why.
 */
import { createHash, randomUUID } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { loadConfig, type LoadedConfig } from '../../plans/config.js'
import type { LoadPlansResult } from '../../plans/loader.js'
import { gitLocation, mergeBaseOf, toVerdictSelection, type SelectorFlags } from '../../selectors/index.js'
import type { DependencyEndpoint } from '../api/dependency.js'
import { PortTakenError } from '../api/sandbox.js'
import type { CheckMemory } from '../api/kind.js'
import { resolveChange, type ResolvedChange } from '../ci/change.js'
import { selectChange } from '../ci/selection.js'
import { clients, openClients, SandboxAddresses, type OpenClients } from '../clients/index.js'
import { Redactor } from '../http/redact.js'
import { checkKinds } from '../kinds/index.js'
import { deadDependencies, startSandboxes, type SandboxSession } from '../sandboxes/index.js'
import { workingTreeState } from '../sandboxes/sides.js'
import { configRedactor } from '../vars.js'
import { buildVerdict } from '../verdict-builder.js'
import type { TimingEntry, Verdict, VerdictSelection, VerdictSession } from '../verdict.js'
import { loadPlansForRun } from '../run/load-plans.js'
import { runValidation, type RunReporter } from '../run/run.js'
import { runIdentity, toRunError } from '../run/run-support.js'
import { emptyAccount, listed, timedInto, type Rebuild } from './account.js'
import { refreshBaseline } from './baseline.js'
import { dependencyInputs, inputsPrint, TreeWatcher, type TreePrints } from './files.js'
import { UnresolvedPlans } from './unresolved.js'
import { watchFolder, type FolderWatch } from './watch.js'

/** Kinds an iteration defers unless asked for everything: they measure, or take long. */
export const DEFERRED_KINDS: readonly string[] = ['load', 'resources', 'race', 'fault', 'migration']

/** Quiet time after a save before a service is restarted on it (`restartOnSave`). */
export const SAVE_DEBOUNCE_MS = 150
/**
 * Restarts on save per service between two iterations. A service that writes among its own files as it
 * runs (a log, a database file) would otherwise be restarted on its own writes for as long as it runs.
 */
export const MAX_SAVE_RESTARTS = 3

export interface DevSessionOptions {
  /** vigil.config.yaml, relative to `cwd`. @default `vigil.config.yaml` in `cwd` */
  configPath?: string
  /** @default process.cwd() */
  cwd?: string
  /**
   * Git ref the baseline runs from; the change is the working tree against its merge base with HEAD.
   * @default HEAD
   */
  base?: string
  /** Run the deferred kinds too (load, resources, race, fault, migration). @default false */
  all?: boolean
  /** Run these plans every iteration instead of selecting from the change. @default selected */
  planNames?: string[]
  /** The selector when plans are selected. @default `{ selector: 'rules' }` (no network in the loop) */
  selector?: SelectorFlags
  /** @default 1 */
  seed?: number
  /** @default the config's */
  concurrency?: number
  /** @default process.env */
  env?: NodeJS.ProcessEnv
  /** Progress lines (sandboxes, restarts, rebuilds). @default none */
  log?: (line: string) => void
  /** @default env VIGIL_REQUESTER */
  requester?: string
  /**
   * Restart a candidate service as soon as a save to its files settles, between iterations, so that the
   * next iteration finds it running: the time an agent takes between its edit and its next call hides the
   * restart. An iteration still reads every file and restarts whatever is not up to date, so a save it
   * comes too early for costs nothing. `vigil dev` turns it on, with `--watch` too: the iteration a save
   * starts there waits out a longer debounce, during which the restart is under way.
   * @default false
   */
  restartOnSave?: boolean
}

export interface IterateOptions {
  reporter?: RunReporter
  signal?: AbortSignal
  /** This iteration's plans (else the session's `planNames`, else the selection of the change). */
  planNames?: string[]
  /** A selection record's summary to run as is. */
  selection?: VerdictSelection
  seed?: number
}

/** What a session keeps between iterations; replaced whole when it goes stale. */
interface Warm {
  loaded: LoadedConfig
  configHash: string
  baseCommit: string
  sandboxes: SandboxSession
  clients: OpenClients
  addresses: SandboxAddresses
  catalog: LoadPlansResult
  watcher: TreeWatcher
  restPrint: string
  servicePrints: Record<string, string>
  /** The baseline's process ids when the noise was learned. */
  processSet: string
  memory: Map<string, Map<string, unknown>>
  /** Checks ran since the dependencies were last started or reset: they may hold what those checks wrote. */
  dirty: boolean
  /**
   * The print of the candidate's files its dependencies read (`inputsPrint`: migrations, a seed) when they
   * were last started or reset: when it moves, the next iteration resets them (its new migrations applied).
   */
  inputsPrint: string
  /** The folder watch behind `restartOnSave`, and what stops a restart on a save when the session goes. */
  saves?: FolderWatch
  quiet: AbortController
  /**
   * What restarts on save did since the last iteration, for its account (services, dependencies reset), and
   * how many times each service was restarted on a save since then.
   */
  onSave: { restarted: Set<string>; reset: Set<string>; count: Map<string, number> }
  /** Per service, the files changed since it last started (read by a restart on save that left it), for messages. */
  unseen: Record<string, string[]>
}

export class DevSession {
  private warm: Warm | undefined
  private iterations = 0
  private queue: Promise<unknown> = Promise.resolve()
  private stopped = false
  /** A restart on a save is queued and has not read the files yet. */
  private saveQueued = false
  /** When the last save the watch reported was seen, and when an iteration last began to read the files. */
  private savedAt = -Infinity
  private readAt = -Infinity
  /** Where the config's folder sits in its repository, once found: it does not move while the session runs. */
  private location: { dir: string; root: string; prefix: string } | undefined
  /** Plans seen failing and not passing since: selected again while the change no longer selects them. */
  private readonly unresolved = new UnresolvedPlans()
  private readonly cwd: string
  private readonly log: (line: string) => void
  private readonly env: NodeJS.ProcessEnv

  constructor(readonly options: DevSessionOptions = {}) {
    this.cwd = path.resolve(options.cwd ?? process.cwd())
    this.log = options.log ?? (() => undefined)
    this.env = options.env ?? process.env
  }

  /** Iterations run so far. */
  get iteration(): number {
    return this.iterations
  }

  /** The process of each running candidate and baseline service (empty before the first iteration). */
  processes(): { candidate: Record<string, number>; baseline: Record<string, number> } {
    const of = (side: 'candidate' | 'baseline') =>
      Object.fromEntries(
        (this.warm?.sandboxes[side]?.processes?.() ?? [])
          .filter((p) => p.running && p.pid !== undefined)
          .map((p) => [p.service, p.pid!]),
      )
    return { candidate: of('candidate'), baseline: of('baseline') }
  }

  /** Each side's brokers and databases by name, where they are reached (empty before the first iteration). */
  dependencies(): {
    candidate: Record<string, DependencyEndpoint>
    baseline: Record<string, DependencyEndpoint>
  } {
    return {
      candidate: { ...this.warm?.sandboxes.candidate.deps },
      baseline: { ...this.warm?.sandboxes.baseline?.deps },
    }
  }

  /** One iteration; iterations asked for at once run one after the other. */
  iterate(options: IterateOptions = {}): Promise<Verdict> {
    const next = this.queue.then(() => this.run(options))
    this.queue = next.catch(() => undefined)
    return next
  }

  /** Stops every sandbox of the session. Idempotent; never throws. */
  async stop(): Promise<void> {
    this.stopped = true
    // A restart on save under way is cut short rather than waited for.
    this.warm?.saves?.close()
    this.warm?.quiet.abort()
    await this.queue
    await this.teardown()
  }

  private async teardown(): Promise<void> {
    const warm = this.warm
    this.warm = undefined
    if (!warm) return
    warm.saves?.close()
    warm.quiet.abort()
    await warm.clients.close().catch(() => undefined)
    await warm.sandboxes.stop()
  }

  /**
   * One iteration. What its resets leave for the background (the next branch of a database made ahead) waits
   * for its end: it would compete with the restart and the checks for the cores, and the time an agent takes
   * to read the verdict and edit again is idle.
   */
  private async run(options: IterateOptions): Promise<Verdict> {
    const ended = latch()
    try {
      return await this.runIteration(options, ended.promise)
    } finally {
      ended.resolve()
    }
  }

  private async runIteration(options: IterateOptions, ended: Promise<void>): Promise<Verdict> {
    const startedAt = new Date()
    const begin = performance.now()
    const iteration = ++this.iterations
    const signal = options.signal ?? new AbortController().signal
    const account: VerdictSession = emptyAccount(iteration)
    const timings: TimingEntry[] = []
    let redactor = new Redactor()
    let warm: Warm
    let selection: VerdictSelection | undefined
    let noiseUsed = false
    let keepWarm = false
    try {
      // A warm session's files are read beside the config and the merge base; a session prepare rebuilds reads
      // them again.
      const early = this.warm
      const begun = performance.now()
      const earlyPrints = early?.watcher
        .prints()
        .then((read) => ({ read, durationMs: performance.now() - begun }))
      earlyPrints?.catch(() => undefined)
      if (early) this.readAt = begun
      const prepared = await this.prepare(signal, account, timings)
      const { loaded, built } = prepared
      redactor = prepared.redactor
      warm = prepared.warm

      let prints: TreePrints
      if (earlyPrints && early === warm) {
        const { read, durationMs } = await earlyPrints
        prints = read
        timings.push({ phase: 'files', durationMs })
      } else {
        this.readAt = performance.now()
        prints = await timedInto(timings, 'files', () => warm.watcher.prints())
      }
      keepChanged(warm, prints)
      if (prints.rest !== warm.restPrint) {
        warm.catalog = await timedInto(timings, 'plans', () => loadPlansForRun(loaded, undefined, this.cwd))
        warm.restPrint = prints.rest
        account.rebuilt.push({ part: 'catalog', reason: 'plan or document files changed' })
      } else if (!built) account.reused.push('catalog')

      // The resets and the restarts at once: a restarted candidate service starts once its side's
      // dependencies are reset (its old process stops meanwhile); no check runs before both are done.
      const resets = this.resetDependencies(
        warm,
        prints,
        !built && warm.dirty,
        account,
        timings,
        signal,
        ended,
      )
      const restarts = this.restartChanged(warm, prints, account, timings, signal, {
        startAfter: resets?.candidate,
      })
      const settled = await Promise.allSettled([
        resets?.all,
        restarts,
        refreshCandidateSource(warm),
        prepared.change,
      ])
      const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected')
      // A candidate service that does not start again after its files changed is most often the edit's
      // doing (a syntax error): the rest stays warm, and the next iteration starts it again. Not when another
      // process took its port: only sandboxes started afresh get new ports.
      if (failed === settled[1] && !(failed.reason instanceof PortTakenError)) keepWarm = true
      if (failed) throw failed.reason
      const head = settled[2].status === 'fulfilled' ? settled[2].value : undefined
      const change = (settled[3] as PromiseFulfilledResult<ResolvedChange>).value
      warm.dirty = false
      // Sandboxes started by this iteration are not reused pieces.
      if (built) account.reused = account.reused.filter((r) => !r.startsWith('candidate:'))
      foldSaves(warm, account)

      // Noise learned from other baseline processes describes another baseline: forgotten.
      const processSet = processSetOf(warm.sandboxes)
      if (processSet !== warm.processSet) {
        if (warm.memory.size)
          account.rebuilt.push({ part: 'noise', reason: 'the baseline processes changed' })
        warm.memory.clear()
        warm.processSet = processSet
      }

      const names = options.planNames ?? this.options.planNames
      selection = options.selection
      if (!selection && !names?.length) {
        const record = await timedInto(timings, 'selection', () =>
          selectChange({
            loaded,
            plans: warm.catalog.plans,
            change,
            flags: this.options.selector ?? { selector: 'rules' },
            env: this.env,
            cwd: this.cwd,
            signal,
          }),
        )
        selection = toVerdictSelection(record)
      }
      // A selection (the session's own, or one given) gains the plans that failed and have not passed since.
      if (selection)
        selection = this.unresolved.addTo(selection, new Set(warm.catalog.plans.map((p) => p.name)))
      const chosen = new Set(selection ? selection.plans.map((p) => p.name) : names)
      const deferred = new Map<string, number>()
      if (!this.options.all) {
        for (const plan of warm.catalog.plans.filter((p) => chosen.has(p.name)))
          for (const check of plan.checks)
            if (DEFERRED_KINDS.includes(check.kind))
              deferred.set(check.kind, (deferred.get(check.kind) ?? 0) + 1)
      }
      account.deferred = [...deferred].map(([kind, checks]) => ({ kind, checks }))
      account.complete = deferred.size === 0

      const verdict = await runValidation({
        configPath: loaded.file,
        cwd: this.cwd,
        base: change.runBase,
        ...(selection ? { selection } : { planNames: names }),
        seed: options.seed ?? this.options.seed,
        concurrency: this.options.concurrency,
        requester: this.options.requester,
        env: this.env,
        log: this.log,
        signal,
        ...(options.reporter ? { reporter: options.reporter } : {}),
        warm: {
          loaded,
          catalog: warm.catalog,
          sandboxes: warm.sandboxes,
          clients: warm.clients,
          addresses: warm.addresses,
          timings,
          session: account,
          began: { at: startedAt, ms: begin },
          ...(head ? { commit: head.commit ?? null } : {}),
          memory: (plan, check) => memoryOf(warm.memory, `${plan}\0${check}`, () => (noiseUsed = true)),
          defer: (_plan, check) =>
            deferred.has(check.kind)
              ? `deferred: ${check.kind} checks are left out of the inner loop; vigil dev --all (or vigil ci) runs them`
              : undefined,
        },
      })
      if (verdict.summary.checks.total > 0) warm.dirty = true
      this.unresolved.record(iteration, verdict.plans)
      // Whether the noise was relied on is only known once the checks ran; the verdict object is the one returned.
      if (noiseUsed && verdict.session) verdict.session.reused.push('noise')
      if (verdict.session) verdict.session.reused.sort()
      return verdict
    } catch (error) {
      // The iteration could not run (a config error, a sandbox that did not start): an error verdict, and a
      // session that starts afresh next time, unless only a restarted candidate service failed.
      if (!keepWarm) await this.teardown()
      const identity = await runIdentity({ configDir: this.cwd, seed: options.seed ?? 1, env: this.env })
      const verdict = buildVerdict({
        startedAt,
        durationMs: performance.now() - begin,
        identity,
        plans: [],
        errors: [toRunError(error, redactor)],
        timings,
        cancelled: signal.aborted,
        session: account,
        redactor,
      })
      await Promise.resolve(options.reporter?.onRunEnd?.(verdict)).catch(() => undefined)
      return verdict
    }
  }

  /**
   * Starts the sandboxes without running anything (the MCP server's `start_session`); a warm session is
   * checked for staleness as an iteration would. Throws when they cannot start.
   */
  start(signal?: AbortSignal): Promise<VerdictSession> {
    const account: VerdictSession = emptyAccount(0)
    const next = this.queue.then(() => this.prepare(signal ?? new AbortController().signal, account, []))
    this.queue = next.catch(() => undefined)
    return next.then(() => account)
  }

  /**
   * Reads the config and the change's merge base, and makes sure the sandboxes are warm and not stale. The
   * change's diff is read meanwhile (`change`): only the selection needs it, after the restarts it runs beside.
   */
  private async prepare(
    signal: AbortSignal,
    account: VerdictSession,
    timings: TimingEntry[],
  ): Promise<{
    loaded: LoadedConfig
    change: Promise<ResolvedChange>
    redactor: Redactor
    warm: Warm
    built: boolean
  }> {
    if (this.stopped) throw new Error('the session was stopped')
    const loaded = await loadConfig(this.options.configPath, this.cwd)
    const redactor = configRedactor(loaded, this.env)
    const configHash = sha1(await readFile(loaded.file).catch(() => Buffer.alloc(0)))
    if (this.location?.dir !== loaded.dir) {
      const where = await gitLocation(loaded.dir)
      this.location = where && { dir: loaded.dir, ...where }
    }
    const where = this.location
    const ref = this.options.base ?? 'HEAD'
    // Whether the baseline still stands for the base is known from the merge base alone, before anything restarts.
    const mergeBase = where
      ? await timedInto(timings, 'change:base', () => mergeBaseOf(ref, where.root))
      : undefined
    const change = timedInto(timings, 'change', () =>
      resolveChange(
        { kind: 'base', ref },
        {
          configDir: loaded.dir,
          cwd: this.cwd,
          location: where,
          exclude: [path.join(loaded.dir, '.vigil')],
          ...(mergeBase ? { mergeBase } : {}),
        },
      ),
    )
    // Awaited by the iteration; a session only started (start) or torn down meanwhile leaves it unread.
    change.catch(() => undefined)
    // Outside a repository the change says why it cannot be read.
    const runBase = mergeBase ?? (await change).runBase!
    let stale: Rebuild[] = []
    if (this.warm && configHash !== this.warm.configHash)
      stale = [{ part: 'sandboxes', reason: `${path.basename(this.warm.loaded.file)} changed` }]
    // A broker or database server that ended on its own is started again with everything else.
    else if (this.warm)
      stale = deadDependencies([this.warm.sandboxes.candidate, this.warm.sandboxes.baseline]).map(
        ({ line }) => ({ part: 'sandboxes', reason: line }),
      )
    if (this.warm && !stale.length) {
      const warm = this.warm
      stale = await refreshBaseline({
        sandboxes: warm.sandboxes,
        from: warm.baseCommit,
        to: runBase,
        base: this.options.base ?? 'HEAD',
        account,
        timings,
        signal,
        log: this.log,
      })
      warm.baseCommit = runBase
    }
    if (stale.length) {
      for (const s of stale) this.log(`rebuilding the sandboxes: ${s.reason}`)
      account.rebuilt.push(...stale)
      await this.teardown()
    }
    const built = !this.warm
    if (this.warm) {
      // Kept unless a baseline process was started again (a moved worktree alone keeps every process).
      if (!account.rebuilt.some((r) => r.part.startsWith('baseline') && r.part !== 'baseline:worktree'))
        account.reused.push('baseline')
      account.reused.push('pools')
    } else {
      const began = performance.now()
      this.warm = await this.build(loaded, configHash, runBase, signal)
      timings.push(...this.warm.sandboxes.timings)
      timings.push({ phase: 'session:build', durationMs: performance.now() - began })
      if (!stale.length) account.rebuilt.push({ part: 'sandboxes', reason: 'the session started' })
    }
    this.warm.loaded = loaded
    return { loaded, change, redactor, warm: this.warm, built }
  }

  private async build(
    loaded: LoadedConfig,
    configHash: string,
    baseCommit: string,
    signal: AbortSignal,
  ): Promise<Warm> {
    const redactor = configRedactor(loaded, this.env)
    // The files as they are before anything starts: a service whose file is saved while the sandboxes
    // start may have loaded the older one, and the first iteration then sees the save and restarts it.
    // The plans load beside the start, read after that snapshot for the same reason.
    const watcher = new TreeWatcher(loaded.dir)
    const taken = await watcher.snapshot()
    const plans = loadPlansForRun(loaded, undefined, this.cwd)
    plans.catch(() => undefined)
    const sandboxes = await startSandboxes({
      loaded,
      base: baseCommit,
      baseline: true,
      signal,
      log: this.log,
      cwd: this.cwd,
      redactor,
      runId: randomUUID(),
    })
    try {
      watcher.serve(sandboxes.candidate.files ?? {})
      const [prints, catalog] = await Promise.all([watcher.prints(taken), plans])
      const { candidate, baseline } = sandboxes
      const addresses = SandboxAddresses.of([candidate, baseline])
      const needs = Object.values(checkKinds).flatMap((k) => [...(k.meta.needs ?? [])] as string[])
      const opened = openClients(clients, needs, {
        redactor,
        addresses,
        ...(loaded.config.logs.requestId ? { requestIdHeader: loaded.config.logs.requestId } : {}),
      })
      return {
        loaded,
        configHash,
        baseCommit,
        sandboxes,
        clients: opened,
        addresses,
        catalog,
        watcher,
        restPrint: prints.rest,
        servicePrints: prints.services,
        processSet: processSetOf(sandboxes),
        memory: new Map(),
        dirty: false,
        inputsPrint: inputsPrint(prints, dependencyInputs(candidate)),
        quiet: new AbortController(),
        onSave: { restarted: new Set(), reset: new Set(), count: new Map() },
        unseen: {},
        ...(this.options.restartOnSave
          ? {
              saves: await watchFolder(loaded.dir, SAVE_DEBOUNCE_MS, (at) => this.restartOnSave(at)),
            }
          : {}),
      }
    } catch (error) {
      await sandboxes.stop()
      throw error
    }
  }

  /**
   * Empties both sides' brokers and databases (a database swapped for a fresh branch of the template, queues
   * and streams purged), so an iteration never sees what an earlier one wrote. The baseline too: a comparing
   * check reading a list would otherwise find the baseline's earlier orders and blame the change for the
   * difference. Only when checks wrote to them (`written`), or when the files the candidate's dependencies read
   * changed in `prints` (a new migration): else undefined. Both sides at once; `candidate` settles when the
   * candidate's side is done (the restarts wait for it), `all` when both are and the account says what was reset.
   * What they leave for the background (a branch made ahead) starts once `backgroundAfter` has settled.
   */
  private resetDependencies(
    warm: Warm,
    prints: TreePrints,
    written: boolean,
    account: VerdictSession,
    timings: TimingEntry[],
    signal: AbortSignal,
    backgroundAfter: Promise<unknown>,
  ): { candidate: Promise<unknown> | undefined; all: Promise<void> } | undefined {
    const sides = [warm.sandboxes.candidate, warm.sandboxes.baseline].filter(
      (s): s is NonNullable<typeof s> => !!s?.resetDependencies,
    )
    const inputs = inputsPrint(prints, dependencyInputs(warm.sandboxes.candidate))
    if (sides.length === 0 || (!written && inputs === warm.inputsPrint)) return undefined
    const began = performance.now()
    const each = sides.map((side) =>
      timedInto(timings, `reset:${side.name}`, () => side.resetDependencies!(signal, { backgroundAfter })),
    )
    const all = Promise.all(each).then((done) => {
      warm.inputsPrint = inputs
      timings.push({ phase: 'reset', durationMs: performance.now() - began })
      sides.forEach((side, i) => {
        for (const [name, what] of Object.entries(done[i]!)) {
          this.log(`${side.name} sandbox, dependency ${name}: reset (${what})`)
          account.reset!.push(`${side.name}:${name}`)
        }
      })
      account.reset!.sort()
    })
    // Awaited through `all`; a waiting restart sees the same failure.
    all.catch(() => undefined)
    const candidate = sides[0] === warm.sandboxes.candidate ? each[0] : undefined
    candidate?.catch(() => undefined)
    return { candidate, all }
  }

  /**
   * Between iterations, does what the next iteration would do first for a save that changed a candidate
   * service: empties the dependencies when checks wrote to them, and restarts the service on them. Queued
   * like an iteration, so it never runs during one; one at a time is queued, and it reads the files when its
   * turn comes. What fails is left for the iteration: a reset that failed leaves the dependencies marked as
   * written, a restart that failed leaves the service's old fingerprint, so the iteration does it again and
   * reports what happens, as it would have without this. A save an iteration has begun to read the files
   * after (the agent asked at once, before the save settled) is left alone: by the time its turn comes, what
   * it would read is the agent's next edit, maybe half written, which that edit's own iteration reads whole.
   */
  private restartOnSave(savedAt: number): void {
    this.savedAt = Math.max(this.savedAt, savedAt)
    if (this.stopped || this.saveQueued) return
    this.saveQueued = true
    const next = this.queue.then(async () => {
      this.saveQueued = false
      const warm = this.warm
      if (!warm || this.stopped || this.savedAt < this.readAt) return
      const prints = await warm.watcher.prints()
      keepChanged(warm, prints)
      const { services, files } = warm.sandboxes.candidate
      // Not a service with a build step: its build writes among the files the watch sees, and would set off
      // another restart after each one. The iteration restarts it as before.
      const changed = Object.keys(services).filter(
        (n) => prints.services[n] !== warm.servicePrints[n] && !files?.[n]?.built,
      )
      const saved = changed.filter((n) => (warm.onSave.count.get(n) ?? 0) < MAX_SAVE_RESTARTS)
      for (const name of changed.filter((n) => !saved.includes(n)))
        if (warm.onSave.count.get(name) === MAX_SAVE_RESTARTS) {
          warm.onSave.count.set(name, MAX_SAVE_RESTARTS + 1)
          this.log(
            `candidate sandbox, service ${name}: changed again after ${MAX_SAVE_RESTARTS} restarts on save; left to the next iteration (does it write among its own files? list its sources in watch:)`,
          )
        }
      if (saved.length === 0) return
      for (const name of saved) warm.onSave.count.set(name, (warm.onSave.count.get(name) ?? 0) + 1)
      const scratch: VerdictSession = emptyAccount(this.iterations)
      const signal = warm.quiet.signal
      // What the resets leave for the background waits for the restarts, whose start it would slow.
      const restarted = latch()
      const resets = this.resetDependencies(warm, prints, warm.dirty, scratch, [], signal, restarted.promise)
      const restarts = this.restartChanged(warm, prints, scratch, [], signal, {
        startAfter: resets?.candidate,
        onSave: saved,
      })
      const [reset, restart] = await Promise.allSettled([resets?.all, restarts])
      restarted.resolve()
      if (resets && reset.status === 'fulfilled') {
        warm.dirty = false
        for (const r of scratch.reset!) warm.onSave.reset.add(r)
      }
      if (restart.status === 'fulfilled') for (const n of scratch.restarted) warm.onSave.restarted.add(n)
      const failed = [reset, restart].find((r): r is PromiseRejectedResult => r.status === 'rejected')
      if (failed && !signal.aborted)
        this.log(
          `candidate sandbox: a restart on save failed; the next iteration does it again (${(failed.reason as Error).message.split('\n')[0]})`,
        )
    })
    this.queue = next.catch(() => undefined)
  }

  /**
   * Restarts the candidate services whose files changed, or whose process died; all at once. On a save,
   * the ones `onSave` names (changed, without a build step, under the limit of restarts on save).
   */
  private async restartChanged(
    warm: Warm,
    prints: TreePrints,
    account: VerdictSession,
    timings: TimingEntry[],
    signal: AbortSignal,
    options: { startAfter?: Promise<unknown> | undefined; onSave?: readonly string[] } = {},
  ): Promise<void> {
    const { startAfter, onSave } = options
    const candidate = warm.sandboxes.candidate
    const dead = new Set((candidate.processes?.() ?? []).filter((p) => !p.running).map((p) => p.service))
    const names = Object.keys(candidate.services).sort()
    const restart = names.filter((n) =>
      onSave ? onSave.includes(n) : prints.services[n] !== warm.servicePrints[n] || dead.has(n),
    )
    if (restart.length && !candidate.restart) {
      account.rebuilt.push({ part: 'candidate', reason: 'its provider cannot restart one service' })
      return
    }
    for (const name of names) if (!restart.includes(name)) account.reused.push(`candidate:${name}`)
    await Promise.all(
      restart.map(async (name) => {
        const files = warm.unseen[name] ?? []
        // A changed file is an input of the service's build step; a process that only died is not rebuilt.
        const changed = prints.services[name] !== warm.servicePrints[name]
        const why = changed
          ? `${files.length ? listed(files) : 'its files'} changed`
          : 'its process had exited'
        this.log(`candidate sandbox, service ${name}: restarting (${why})${onSave ? ' on save' : ''}`)
        const { prepared } = await timedInto(timings, `restart:${name}`, () =>
          candidate.restart!(name, signal, { prepare: changed, ...(startAfter ? { startAfter } : {}) }),
        )
        account.restarted.push(name)
        delete warm.unseen[name]
        if (prepared)
          account.rebuilt.push({ part: `candidate:${name}`, reason: `its prepare step ran again: ${why}` })
      }),
    )
    account.rebuilt.sort((a, b) => a.part.localeCompare(b.part))
    account.restarted.sort()
    // Only what was restarted is up to date: a service left for the iteration keeps its old fingerprint.
    for (const name of restart) warm.servicePrints[name] = prints.services[name]!
  }
}

/**
 * The candidate's source as it is now: the commit HEAD names and whether the working tree has changes move
 * while the session stays warm (the agent commits), and the verdict records which build it compared. Returns
 * what it read (the run's identity takes HEAD from it), or undefined when the candidate is not the working tree.
 */
async function refreshCandidateSource(warm: Warm): Promise<{ commit?: string } | undefined> {
  const { sides } = warm.sandboxes
  if (sides.candidate.source.kind !== 'working-tree') return undefined
  const now = await workingTreeState(warm.loaded.dir)
  sides.candidate = { ...sides.candidate, source: { kind: 'working-tree', ...now } }
  return now
}

/**
 * Into an iteration's account, what restarts on save did since the last one: the services restarted then (and
 * not again by this iteration) run new code too, on dependencies emptied then. Starts the next count afresh.
 */
function foldSaves(warm: Warm, account: VerdictSession): void {
  const onSave = [...warm.onSave.restarted].filter((n) => !account.restarted.includes(n)).sort()
  if (warm.onSave.reset.size) account.reset = [...new Set([...account.reset!, ...warm.onSave.reset])].sort()
  warm.onSave.restarted.clear()
  warm.onSave.reset.clear()
  warm.onSave.count.clear()
  if (onSave.length === 0) return
  account.restarted = [...account.restarted, ...onSave].sort()
  account.restartedOnSave = onSave
  account.reused = account.reused.filter((r) => !onSave.some((n) => r === `candidate:${n}`))
}

/** Files the watcher reports once: kept per service until it restarts, for the message that says why. */
function keepChanged(warm: Warm, prints: TreePrints): void {
  for (const [name, files] of Object.entries(prints.changed))
    if (files.length) warm.unseen[name] = [...new Set([...(warm.unseen[name] ?? []), ...files])].sort()
}

function processSetOf(sandboxes: SandboxSession): string {
  return JSON.stringify(sandboxes.baseline?.processes?.().map((p) => [p.service, p.pid]) ?? [])
}

function memoryOf(all: Map<string, Map<string, unknown>>, key: string, onHit: () => void): CheckMemory {
  return {
    get<T>(name: string): T | undefined {
      const value = all.get(key)?.get(name) as T | undefined
      if (value !== undefined) onHit()
      return value
    },
    set(name: string, value: unknown): void {
      let own = all.get(key)
      if (!own) all.set(key, (own = new Map()))
      own.set(name, value)
    },
  }
}

/** A promise and what settles it. */
function latch(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined
  const promise = new Promise<void>((r) => (resolve = r))
  return { promise, resolve }
}

function sha1(data: Buffer): string {
  return createHash('sha1').update(data).digest('hex')
}
