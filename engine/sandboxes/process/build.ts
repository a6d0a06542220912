/** A process service's `prepare:` step, and what it ran as (command, folder, versions) for the verdict. */
import path from 'node:path'
import { InfrastructureError } from '../../errors.js'
import { shellQuote } from '../../http/curl.js'
import { runCommand } from '../../processes/command.js'
import type { ServiceBuild } from '../../verdict.js'
import type { SandboxStartContext } from '../../api/sandbox.js'
import type { ServiceSpec } from '../service.js'
import { packageVersion, probeVersion } from '../version.js'
import type { ProcessServiceOptions } from './schema.js'

/** Lines of a `prepare:` command's output its failure carries. */
const PREPARE_TAIL_LINES = 30

/** Runs a service's `prepare:` command; its failure is an infrastructure error with the output's tail. */
export async function prepare(
  spec: ServiceSpec,
  ctx: SandboxStartContext,
  signal: AbortSignal,
): Promise<InfrastructureError | undefined> {
  const { argv, timeoutMs } = spec.prepare!
  const shown = argv.map(shellQuote).join(' ')
  const redact = (text: string) => ctx.redactor?.text(text) ?? text
  const result = await runCommand(argv, {
    cwd: spec.cwd,
    env: { ...spec.env, VIGIL_SIDE: ctx.name },
    timeoutMs,
    signal,
    tailLines: PREPARE_TAIL_LINES,
  })
  if (result.exitCode === 0) {
    ctx.log(`${ctx.name} sandbox, service ${spec.name}: prepared by ${redact(shown)}`)
    return undefined
  }
  if (result.cancelled) return undefined
  const why = result.spawnError
    ? `could not start (${result.spawnError})`
    : result.timedOut
      ? `timed out after ${timeoutMs} ms`
      : `exited with ${result.exitCode ?? result.signal}`
  return new InfrastructureError(
    redact(`${ctx.name} sandbox, service ${spec.name}: prepare \`${shown}\` ${why}`),
    result.tail.map(redact),
    { code: 'VIGIL_SANDBOX_PREPARE' },
  )
}

/** What a started service ran as, and the versions it reports. */
export async function describeBuild(
  spec: ServiceSpec,
  /** The command as configured: its templates (`{{port}}`) unrendered, so runs compare. */
  argv: readonly string[],
  service: ProcessServiceOptions,
  scope: { services: Record<string, { url: string }> },
  ctx: SandboxStartContext,
): Promise<ServiceBuild> {
  const redact = (text: string) => ctx.redactor?.text(text) ?? text
  const build: ServiceBuild = {
    command: redact(argv.map(shellQuote).join(' ')),
    cwd: path.relative(ctx.root, spec.cwd) || '.',
  }
  const prepare =
    typeof service.prepare === 'object' && !Array.isArray(service.prepare)
      ? service.prepare.command
      : service.prepare
  if (prepare !== undefined)
    build.prepare = redact(typeof prepare === 'string' ? prepare : prepare.map(shellQuote).join(' '))
  if (service.version !== undefined) {
    const env = { ...spec.env, VIGIL_SIDE: ctx.name }
    const url = scope.services[spec.name]!.url
    const outcome = await probeVersion(service.version, { url, cwd: spec.cwd, env }, ctx.signal)
    if ('version' in outcome) build.version = redact(outcome.version)
    else build.versionError = redact(outcome.error)
  }
  const pkg = await packageVersion(spec.cwd)
  if (pkg) build.package = pkg
  return build
}
