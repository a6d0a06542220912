/**
 * A broker or database server run as a child process for one sandbox: found on PATH (else an
 * infrastructure error naming the Debian package that provides it), given a free loopback port and a
 * private data folder (`vigil-dep-*` in the system temp folder), its process group and folder recorded
 * in the run state for `vigil sandboxes gc`, its output captured, ready when its port accepts
 * connections, and stopped with its whole group.
 */
import { accessSync, constants, mkdtempSync, rmSync, statSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { InfrastructureError } from '../errors.js'
import { freePort } from '../sandboxes/ports.js'
import { describeExit, ServiceProcess } from '../sandboxes/service.js'
import type { DependencyStartContext } from '../api/dependency.js'

/** Lines of a server's log an infrastructure error carries. */
const LOG_TAIL_LINES = 50
const HOST = '127.0.0.1'

export interface ServerSpec {
  /** The binary's name (`nats-server`) or a path. */
  binary: string
  /** The Debian package that provides it, named when it is missing. */
  debianPackage: string
  /** The dependency's kind, for messages. */
  kind: string
  /** The command line, given the port and the private data folder. */
  argv(port: number, dir: string): string[]
  /** Extra environment, given the port and the data folder. @default none */
  env?(port: number, dir: string, extraPorts: readonly number[]): Record<string, string>
  /** Deadline for readiness. @default 30s */
  timeoutMs?: number
  /** Ports besides the main one the server needs (e.g. a distribution port), allocated with it. @default 0 */
  extraPorts?: number
  /** Fills the private data folder before the server starts (a copy of an initialised cluster). @default nothing */
  prepare?(dir: string): Promise<void>
  /**
   * Called once the server has stopped, before its data folder is removed: to keep what is worth keeping
   * (a cluster given back for the next run). @default nothing
   */
  release?(dir: string): void
  /** The user the server runs as (one that refuses to run as root). @default vigil's */
  user?: { uid: number; gid: number }
}

export interface RunningServer {
  host: string
  port: number
  extraPorts: number[]
  dir: string
  pid: number | undefined
  logs(): string[]
  /** How its process ended when it ended on its own (`was killed by SIGKILL`); undefined while it runs. */
  died(): string | undefined
  stop(): Promise<void>
}

/** Directories searched besides PATH: servers live in sbin, which a user's PATH often lacks. */
const SBIN = ['/usr/local/sbin', '/usr/sbin', '/sbin']

/** The absolute path of `binary` on PATH (or in sbin), or undefined. */
export function findBinary(binary: string): string | undefined {
  if (binary.includes('/')) return isExecutable(binary) ? path.resolve(binary) : undefined
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...SBIN]
  for (const dir of dirs) {
    const candidate = path.join(dir, binary)
    if (isExecutable(candidate)) return candidate
  }
  return undefined
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/** The error for a server binary that is not installed. */
export function missingBinary(
  ctx: DependencyStartContext,
  spec: Pick<ServerSpec, 'binary' | 'debianPackage' | 'kind'>,
): InfrastructureError {
  return new InfrastructureError(
    `${ctx.sandbox} sandbox, dependency ${ctx.name} (${spec.kind}): the ${spec.binary} binary was not found on PATH; install the Debian package ${spec.debianPackage} (apt-get install ${spec.debianPackage}), or give the dependency the \`url:\` of a running server`,
    [],
    { code: 'VIGIL_DEPENDENCY_MISSING' },
  )
}

/**
 * The temp folder to make a folder in that a server running as another user (PostgreSQL refuses root) can
 * reach: the system temp folder when every folder above it lets others through, else `/tmp` (a private
 * `TMPDIR` such as a CI job's or a test's, mode 0700, would hide everything inside it from that user).
 */
export function tempRootFor(user: { uid: number } | undefined): string {
  const base = os.tmpdir()
  if (!user) return base
  return reachableBy(base, user) || !reachableBy('/tmp', user) ? base : '/tmp'
}

/** True when `user` may pass through every folder from the root down to `dir` (and `dir` itself). */
export function reachableBy(dir: string, user: { uid: number }): boolean {
  for (let at = path.resolve(dir); ; at = path.dirname(at)) {
    try {
      const st = statSync(at)
      if (st.uid !== user.uid && (st.mode & 0o001) === 0) return false
    } catch {
      return false
    }
    if (path.dirname(at) === at) return true
  }
}

/** Starts the server; throws an InfrastructureError (with the log's tail) when it cannot. */
export async function startServer(ctx: DependencyStartContext, spec: ServerSpec): Promise<RunningServer> {
  const binary = findBinary(spec.binary)
  if (!binary) throw missingBinary(ctx, spec)
  const dir = mkdtempSync(path.join(tempRootFor(spec.user), `vigil-dep-${spec.kind}-`))
  const forgetTree = ctx.track?.tree({ tempDir: dir }) ?? (() => {})
  const removeDir = (): void => {
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 })
    forgetTree()
  }
  let proc: ServiceProcess | undefined
  try {
    await spec.prepare?.(dir)
    const label = `dependency ${ctx.name}`
    let died: string | undefined
    let port = 0
    let extraPorts: number[] = []
    for (let attempt = 0; ; attempt++) {
      port = await freePort()
      extraPorts = []
      for (let i = 0; i < (spec.extraPorts ?? 0); i++) extraPorts.push(await freePort())
      const current: ServiceProcess = new ServiceProcess(
        {
          name: `dep:${ctx.name}`,
          argv: [binary, ...spec.argv(port, dir).slice(1)],
          cwd: dir,
          env: { ...(process.env as Record<string, string>), ...(spec.env?.(port, dir, extraPorts) ?? {}) },
          host: HOST,
          port,
          ready: { tcp: true, timeoutMs: spec.timeoutMs ?? 30_000 },
          stopTimeoutMs: 5_000,
          logLines: 1000,
          ...(ctx.redactor ? { redactor: ctx.redactor } : {}),
          ...(spec.user ? { uid: spec.user.uid, gid: spec.user.gid } : {}),
        },
        // Heard only once it was ready: an exit before is the start's failure, told by waitReady.
        (exit) => {
          died = describeExit(exit)
          ctx.log(`${ctx.sandbox} sandbox, ${label}: ${died} while running`)
        },
        ctx.track && { tracker: ctx.track, sandbox: ctx.sandbox },
      )
      proc = current
      const problem = await current.waitReady(ctx.signal)
      if (!problem) break
      // Another process took a port between vigil finding it free and the server binding it: new ports.
      if (current.retryOnNewPort(attempt, ctx.signal)) {
        ctx.log(
          `${ctx.sandbox} sandbox, ${label}: one of its ports (${[port, ...extraPorts].join(', ')}) was taken before the server bound it; starting it again on new ones`,
        )
        await current.stop()
        continue
      }
      throw new InfrastructureError(
        `${ctx.sandbox} sandbox, ${label} (${spec.kind}, ${spec.binary}): ${problem.reason}`,
        current.logs.render(LOG_TAIL_LINES),
        { code: 'VIGIL_DEPENDENCY_START' },
      )
    }
    const running = proc
    let stopping: Promise<void> | undefined
    return {
      host: HOST,
      port,
      extraPorts,
      dir,
      pid: running.pid,
      logs: () => running.logs.render(),
      died: () => died,
      stop: () =>
        (stopping ??= (async () => {
          await running.stop()
          try {
            spec.release?.(dir)
          } finally {
            removeDir()
          }
        })()),
    }
  } catch (error) {
    await proc?.stop()
    removeDir()
    throw error
  }
}
