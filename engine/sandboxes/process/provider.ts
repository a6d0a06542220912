/**
 * `process` provider: a stack of local processes, like a compose file without containers. Each service
 * gets a free loopback port (env PORT), starts after the services and dependencies it references, and
 * must pass its readiness probe before its dependents start. Independent services start in parallel, and
 * beside the dependencies they do not reference.
 */
import { statSync } from 'node:fs'
import path from 'node:path'
import { parseDuration } from '../../../plans/duration.js'
import { ConfigError, InfrastructureError } from '../../errors.js'
import { CommandSyntaxError, parseCommand } from '../../processes/argv.js'
import { DependencyCycleError, startWaves } from '../graph.js'
import { freePort, isPortFree } from '../ports.js'
import { processSchema, type ProcessSandboxOptions, type ProcessServiceOptions } from './schema.js'
import { chooseDefaultService, createSandbox } from '../sandbox.js'
import { describeExit, ServiceProcess, type ServiceSpec, type StartFailure } from '../service.js'
import {
  referencedDependencies,
  referencedServices,
  renderTemplate,
  TemplateError,
  type TemplateScope,
} from '../template.js'
import type { DependencyEndpoint } from '../../api/dependency.js'
import {
  defineSandboxProvider,
  PortTakenError,
  type IsolatedService,
  type IsolateOptions,
  type RestartOptions,
  type RestartOutcome,
  type SandboxStartContext,
  type ServiceFiles,
} from '../../api/sandbox.js'
import { describeBuild, prepare } from './build.js'
import { portVariables } from '../port-hint.js'

const HOST = '127.0.0.1'
/** Lines of a service's log an infrastructure error carries. */
export const LOG_TAIL_LINES = 50

export default defineSandboxProvider<ProcessSandboxOptions>({
  schema: processSchema,
  async start(options, ctx) {
    const where = (keyPath: Array<string | number>): string => ctx.where?.(keyPath) ?? ''
    const services = Object.fromEntries(
      Object.entries(options.services).map(([name, s]) => [name, typeof s === 'string' ? { command: s } : s]),
    ) as Record<string, ProcessServiceOptions>
    const names = Object.keys(services).sort()
    const defaultService = chooseDefaultService(options.default, names, where)
    const argvs = Object.fromEntries(names.map((name) => [name, commandArgv(name, services[name]!, where)]))
    const waves = startOrder(services, argvs, where)
    const stopTimeoutMs = parseDuration(options.stopTimeout ?? '5s')
    const scope = await allocate(services, names, ctx)
    // The dependencies' endpoints as each becomes ready; until then their names render as blanks.
    const pendingDeps = ctx.dependencies ?? {}
    const resolved: Record<string, DependencyEndpoint> = {}
    const blanks = Object.fromEntries(
      Object.keys(pendingDeps).map((n) => [n, { url: '', port: 0, host: '', prefix: '' }]),
    )
    const specOf = (n: string): ServiceSpec =>
      buildSpec(
        n,
        services[n]!,
        argvs[n]!,
        { services: scope.services, deps: { ...blanks, ...resolved } },
        ctx,
        options,
        stopTimeoutMs,
        where,
      )
    const awaitDeps = (refs: readonly string[]) =>
      Promise.all(
        refs.map(async (d) => {
          resolved[d] = await pendingDeps[d]!
        }),
      )
    // Every spec is rendered before anything starts: a config mistake never leaves half a stack running.
    // A service that references a dependency is rendered again once that one is ready.
    const specs = Object.fromEntries(names.map((n) => [n, specOf(n)]))

    const started: ServiceProcess[] = []
    const stopAll = async (): Promise<void> => {
      await Promise.all(started.map((s) => s.stop()))
    }
    const failFast = new AbortController()
    const onAbort = (): void => failFast.abort(ctx.signal.reason)
    ctx.signal.addEventListener('abort', onAbort, { once: true })
    // Waiting for what a service references ends when another service fails, too: its dependency may be
    // one the session stops only once this start has given up.
    const stopped = new Promise<void>((resolve) => {
      failFast.signal.addEventListener('abort', () => resolve(), { once: true })
    })
    const ready = new Map<string, Promise<void>>()
    let failure: InfrastructureError | undefined
    const launched = new Set<string>()
    const startOne = async (name: string, deps: string[]): Promise<void> => {
      const depRefs = dependencyRefs(services[name]!, argvs[name]!)
      try {
        await Promise.race([Promise.all([...deps.map((d) => ready.get(d)), awaitDeps(depRefs)]), stopped])
      } catch (error) {
        // A dependency that did not start: the session reports it; nothing more starts here.
        failFast.abort()
        throw error
      }
      if (failFast.signal.aborted) return
      if (depRefs.length > 0) specs[name] = specOf(name)
      let spec = specs[name]!
      const begin = performance.now()
      if (spec.prepare) {
        const problem = await prepare(spec, ctx, failFast.signal)
        if (problem) {
          if (!failure && !failFast.signal.aborted) failure = problem
          failFast.abort()
          throw failure ?? cancelled(ctx)
        }
      }
      let proc: ServiceProcess
      let problem: StartFailure | undefined
      for (let attempt = 0; ; attempt++) {
        launched.add(name)
        proc = new ServiceProcess(
          spec,
          (exit) => ctx.log(`${ctx.name} sandbox, service ${name}: ${describeExit(exit)} while running`),
          ctx.track && { tracker: ctx.track, sandbox: ctx.name },
        )
        started.push(proc)
        problem = await proc.waitReady(failFast.signal)
        if (
          !problem ||
          problem.ignoredPort === true ||
          services[name]!.port !== undefined ||
          !proc.retryOnNewPort(attempt, failFast.signal)
        )
          break
        // Another process took the port between our finding it free and the service binding it: the
        // service and everything not started yet (its dependents among them) get a new one.
        const port = await freePort()
        ctx.log(
          `${ctx.name} sandbox, service ${name}: port ${spec.port} was taken before the service bound it; starting it again on port ${port}`,
        )
        scope.services[name] = { port, host: HOST, url: `http://${HOST}:${port}` }
        for (const n of names) if (n === name || !launched.has(n)) specs[n] = specOf(n)
        spec = specs[name]!
      }
      if (problem) {
        // Only the first failure is the cause; the others are services we cancelled because of it.
        if (!failure && !failFast.signal.aborted) {
          failure = new InfrastructureError(
            `${ctx.name} sandbox, service ${name}: ${problem.reason}`,
            proc.logs.render(LOG_TAIL_LINES),
            { code: 'VIGIL_SANDBOX_START' },
          )
        }
        failFast.abort()
        throw failure ?? cancelled(ctx)
      }
      ctx.log(
        `${ctx.name} sandbox, service ${name}: ready on ${spec.host}:${spec.port} (pid ${proc.pid}, ${Math.round(performance.now() - begin)}ms)`,
      )
    }
    for (const wave of waves) {
      for (const name of wave) {
        const p = startOne(name, deps(services[name]!, argvs[name]!))
        p.catch(() => {})
        ready.set(name, p)
      }
    }
    try {
      await Promise.all(ready.values())
      // The sandbox is up once every dependency is, referenced or not (an isolated copy may need any).
      await awaitDeps(Object.keys(pendingDeps))
      if (ctx.signal.aborted) throw cancelled(ctx)
    } catch (error) {
      failFast.abort()
      await Promise.allSettled(ready.values())
      await stopAll()
      if (ctx.signal.aborted && !failure) throw cancelled(ctx)
      throw failure ?? error
    } finally {
      ctx.signal.removeEventListener('abort', onAbort)
    }

    // The current process of each service (`restart` replaces one).
    const byName = new Map(started.map((s) => [s.spec.name, s]))
    const build = Object.fromEntries(
      await Promise.all(
        names.map(
          async (n) => [n, await describeBuild(specs[n]!, argvs[n]!, services[n]!, scope, ctx)] as const,
        ),
      ),
    )
    let copies = 0
    // A fresh process of one service on a port of its own, wired to the same other services; it joins
    // `started`, so stopping the sandbox stops it too.
    const isolate = async (
      name: string,
      signal: AbortSignal,
      isolateOptions?: IsolateOptions,
    ): Promise<IsolatedService> => {
      const label = `${name} (copy ${++copies})`
      for (let attempt = 0; ; attempt++) {
        const port = await freePort()
        const self = { port, host: HOST, url: `http://${HOST}:${port}` }
        // Dependencies replaced first (a migrated branch of the database), then edges re-routed through them.
        const copyScope = rerouted(
          { services: { ...scope.services, [name]: self }, deps: { ...resolved, ...isolateOptions?.deps } },
          isolateOptions,
          ctx.name,
        )
        const spec = buildSpec(
          name,
          services[name]!,
          argvs[name]!,
          copyScope,
          ctx,
          options,
          stopTimeoutMs,
          where,
        )
        const proc = new ServiceProcess(
          { ...spec, name: label },
          (exit) => ctx.log(`${ctx.name} sandbox, service ${label}: ${describeExit(exit)} while running`),
          ctx.track && { tracker: ctx.track, sandbox: ctx.name },
        )
        started.push(proc)
        const problem = await proc.waitReady(signal)
        if (problem) {
          await proc.stop()
          // Another process took the copy's port before it bound it: a new one, as for the sandbox's services.
          if (proc.retryOnNewPort(attempt, signal)) {
            ctx.log(
              `${ctx.name} sandbox, service ${label}: port ${port} was taken before the copy bound it; starting it again on a new one`,
            )
            continue
          }
          throw new InfrastructureError(
            `${ctx.name} sandbox, service ${label}: ${problem.reason}`,
            proc.logs.render(LOG_TAIL_LINES),
            { code: 'VIGIL_SANDBOX_START' },
          )
        }
        ctx.log(`${ctx.name} sandbox, service ${label}: ready on ${HOST}:${port} (pid ${proc.pid})`)
        return {
          url: self.url,
          ...(proc.pid !== undefined ? { pid: proc.pid } : {}),
          logs: () => proc.logs.render(),
          stop: () => proc.stop(),
        }
      }
    }
    // The service's process is replaced by a new one on the same port: the others keep calling that address.
    // Its build step, when asked for, runs first while the old process still serves.
    // Restarts of one service run one after the other; different services restart at once.
    const restarting = new Map<string, Promise<unknown>>()
    const restart = (
      name: string,
      signal: AbortSignal,
      restartOptions?: RestartOptions,
    ): Promise<RestartOutcome> => {
      const next = (restarting.get(name) ?? Promise.resolve()).then(async (): Promise<RestartOutcome> => {
        const spec = specs[name]!
        const prepared = !!restartOptions?.prepare && !!spec.prepare
        if (prepared) {
          const problem = await prepare(spec, ctx, signal)
          if (problem) throw problem
        }
        const old = byName.get(name)
        await old?.stop()
        if (old) started.splice(started.indexOf(old), 1)
        // A service that connects to its database as it starts must not start on one being re-branched.
        await restartOptions?.startAfter
        const begin = performance.now()
        const proc = new ServiceProcess(
          spec,
          (exit) => ctx.log(`${ctx.name} sandbox, service ${name}: ${describeExit(exit)} while running`),
          ctx.track && { tracker: ctx.track, sandbox: ctx.name },
        )
        started.push(proc)
        byName.set(name, proc)
        const problem = await proc.waitReady(signal)
        if (problem) {
          const taken = proc.lostPortRace()
          throw new (taken ? PortTakenError : InfrastructureError)(
            `${ctx.name} sandbox, service ${name}: ${problem.reason} after a restart${taken ? `; another process took its port ${spec.port}, so the sandbox must start afresh on new ports` : ''}`,
            proc.logs.render(LOG_TAIL_LINES),
            { code: 'VIGIL_SANDBOX_START' },
          )
        }
        ctx.log(
          `${ctx.name} sandbox, service ${name}: restarted on ${HOST}:${spec.port} (pid ${proc.pid}, ${Math.round(performance.now() - begin)}ms)`,
        )
        return { prepared }
      })
      restarting.set(
        name,
        next.catch(() => undefined),
      )
      return next
    }
    return createSandbox({
      name: ctx.name,
      services: Object.fromEntries(names.map((n) => [n, scope.services[n]!.url])),
      defaultService,
      headers: options.headers,
      build,
      dependencies: Object.fromEntries(names.map((n) => [n, deps(services[n]!, argvs[n]!)])),
      logs: (service) => byName.get(service)?.logs.render() ?? [],
      pid: (service) => byName.get(service)?.pid,
      stop: stopAll,
      isolate,
      restart,
      files: Object.fromEntries(names.map((n) => [n, serviceFiles(ctx.root, services[n]!)])),
      processes: () =>
        names.map((n) => {
          const proc = byName.get(n)
          return { service: n, ...(proc?.pid ? { pid: proc.pid } : {}), running: !!proc && !proc.exit }
        }),
    })
  },
})

/** A service's files: its `watch` globs, else everything under its cwd; `built` when it has a build step. */
function serviceFiles(root: string, service: ProcessServiceOptions): ServiceFiles {
  const built = service.prepare === undefined ? {} : { built: true }
  const cwd = path.posix.normalize((service.cwd ?? '.').split(path.sep).join('/')).replace(/\/+$/, '')
  if (service.watch) return { root, globs: service.watch, cwd, ...built }
  return { root, globs: [cwd === '.' ? '**' : `${cwd}/**`], cwd, ...built }
}

function commandArgv(name: string, service: ProcessServiceOptions, where: (k: string[]) => string): string[] {
  if (Array.isArray(service.command)) return service.command
  try {
    return parseCommand(service.command)
  } catch (error) {
    if (!(error instanceof CommandSyntaxError)) throw error
    throw new ConfigError(
      `${where(['services', name, 'command'])}sandbox.services.${name}.command: ${error.message}`,
    )
  }
}

/**
 * The dependencies a service's command, env or build step references (`{{deps.NAME.…}}`): it starts once
 * they are ready.
 */
function dependencyRefs(service: ProcessServiceOptions, argv: string[]): string[] {
  const prep = service.prepare
  const prepare = typeof prep === 'object' && !Array.isArray(prep) ? prep.command : prep
  const texts = [...templated(service, argv), ...[prepare ?? []].flat()]
  return [...new Set(texts.flatMap(referencedDependencies))].sort()
}

/** The texts of a service that are rendered as templates when it starts: its command and env. */
function templated(service: ProcessServiceOptions, argv: string[]): string[] {
  return [...argv, ...Object.values(service.env ?? {}).map(String)]
}

function deps(service: ProcessServiceOptions, argv: string[]): string[] {
  const texts = templated(service, argv)
  return [...new Set([...texts.flatMap(referencedServices), ...(service.dependsOn ?? [])])].sort()
}

function startOrder(
  services: Record<string, ProcessServiceOptions>,
  argvs: Record<string, string[]>,
  where: (k: Array<string | number>) => string,
): string[][] {
  const graph: Record<string, string[]> = {}
  for (const [name, service] of Object.entries(services)) {
    const d = deps(service, argvs[name]!)
    const unknown = d.find((dep) => !services[dep])
    if (unknown) {
      throw new ConfigError(
        `${where(['services', name])}sandbox.services.${name}: depends on unknown service ${JSON.stringify(unknown)}; expected one of ${Object.keys(services).sort().join(', ')}`,
      )
    }
    if (d.includes(name)) {
      throw new ConfigError(`${where(['services', name])}sandbox.services.${name}: depends on itself`)
    }
    graph[name] = d
  }
  try {
    return startWaves(graph)
  } catch (error) {
    if (!(error instanceof DependencyCycleError)) throw error
    throw new ConfigError(`${where(['services', error.cycle[0]!])}sandbox.services: ${error.message}`)
  }
}

async function allocate(
  services: Record<string, ProcessServiceOptions>,
  names: string[],
  ctx: SandboxStartContext,
): Promise<
  Pick<TemplateScope, 'services'> & { services: Record<string, { port: number; url: string; host: string }> }
> {
  const out: Record<string, { port: number; url: string; host: string }> = {}
  for (const name of names) {
    const fixed = services[name]!.port
    if (fixed !== undefined && !(await isPortFree(fixed))) {
      throw new InfrastructureError(
        `${ctx.name} sandbox, service ${name}: port ${fixed} is already in use on ${HOST}; free it or remove the fixed port`,
        [],
        { code: 'VIGIL_SANDBOX_PORT' },
      )
    }
    const port = fixed ?? (await freePort())
    out[name] = { port, host: HOST, url: `http://${HOST}:${port}` }
  }
  return { services: out }
}

/**
 * The scope of an isolated copy whose edges go elsewhere: each edge names a service or a dependency, whose
 * host and port (and URL) the copy is given as the edge's address instead.
 */
function rerouted(
  scope: Pick<TemplateScope, 'services' | 'deps'>,
  options: IsolateOptions | undefined,
  sandbox: string,
): Pick<TemplateScope, 'services' | 'deps'> {
  const edges = Object.entries(options?.edges ?? {})
  if (edges.length === 0) return scope
  const services = { ...scope.services }
  const deps = { ...scope.deps }
  for (const [target, to] of edges) {
    if (services[target]) {
      services[target] = { host: to.host, port: to.port, url: `http://${to.host}:${to.port}` }
    } else if (deps[target]) {
      const url = new URL(deps[target].url)
      url.hostname = to.host
      url.port = String(to.port)
      deps[target] = { ...deps[target], host: to.host, port: to.port, url: url.toString().replace(/\/$/, '') }
    } else {
      const known = [...Object.keys(scope.services), ...Object.keys(scope.deps ?? {})].sort()
      throw new ConfigError(
        `${sandbox} sandbox: no service or dependency ${JSON.stringify(target)} to re-route; it has ${known.join(', ')}`,
      )
    }
  }
  return { services, deps }
}

function buildSpec(
  name: string,
  service: ProcessServiceOptions,
  argv: string[],
  scope: Pick<TemplateScope, 'services' | 'deps'>,
  ctx: SandboxStartContext,
  options: ProcessSandboxOptions,
  defaultStopMs: number,
  where: (k: Array<string | number>) => string,
): ServiceSpec {
  const self = scope.services[name]!
  const full: TemplateScope = {
    self,
    services: scope.services,
    env: process.env,
    secrets: ctx.secrets,
    deps: scope.deps ?? {},
  }
  const render = (text: string, keyPath: Array<string | number>): string => {
    try {
      return renderTemplate(text, full)
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error
      throw new ConfigError(`${where(keyPath)}sandbox.${keyPath.join('.')}: ${error.message}`)
    }
  }
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    HOST,
    PORT: String(self.port),
  }
  const portEnv = portVariables(service.env)
  for (const [key, value] of Object.entries(service.env ?? {})) {
    env[key] = render(String(value), ['services', name, 'env', key])
  }
  const cwd = path.resolve(ctx.root, service.cwd ?? '.')
  if (!isDirectory(cwd)) {
    throw new InfrastructureError(
      `${ctx.name} sandbox, service ${name}: working directory ${path.relative(ctx.root, cwd) || '.'} does not exist in ${ctx.root}`,
      [],
      { code: 'VIGIL_SANDBOX_START' },
    )
  }
  const ready = service.ready ?? {}
  const prep = service.prepare
  const prepareCommand =
    prep === undefined ? undefined : typeof prep === 'object' && !Array.isArray(prep) ? prep.command : prep
  let prepareArgv: string[] | undefined
  if (prepareCommand !== undefined) {
    let parsed: string[]
    try {
      parsed = Array.isArray(prepareCommand) ? prepareCommand : parseCommand(prepareCommand)
    } catch (error) {
      if (!(error instanceof CommandSyntaxError)) throw error
      throw new ConfigError(
        `${where(['services', name, 'prepare'])}sandbox.services.${name}.prepare: ${error.message}`,
      )
    }
    prepareArgv = parsed.map((arg, i) => render(arg, ['services', name, 'prepare', i]))
  }
  const prepareTimeout = typeof prep === 'object' && !Array.isArray(prep) ? prep.timeout : undefined
  return {
    ...(prepareArgv
      ? {
          prepare: {
            argv: prepareArgv,
            timeoutMs: prepareTimeout !== undefined ? parseDuration(prepareTimeout) : 120_000,
          },
        }
      : {}),
    name,
    argv: argv.map((arg, i) => render(arg, ['services', name, 'command', i])),
    cwd,
    env,
    host: self.host,
    port: self.port,
    ready: {
      http: ready.http,
      tcp: ready.http === undefined ? true : ready.tcp,
      status: ready.status,
      timeoutMs: parseDuration(ready.timeout ?? '30s'),
    },
    stopTimeoutMs: service.stopTimeout !== undefined ? parseDuration(service.stopTimeout) : defaultStopMs,
    logLines: options.logLines ?? 1000,
    portVariables: portEnv,
    ...(ctx.redactor ? { redactor: ctx.redactor } : {}),
  }
}

function isDirectory(dir: string): boolean {
  try {
    return statSync(dir).isDirectory()
  } catch {
    return false
  }
}

function cancelled(ctx: SandboxStartContext): InfrastructureError {
  return new InfrastructureError(`${ctx.name} sandbox: start was cancelled`, [], {
    code: 'VIGIL_CANCELLED',
    cause: ctx.signal.reason,
  })
}
