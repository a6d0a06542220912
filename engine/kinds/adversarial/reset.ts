/**
 * The reset hook: adversarial cases change a service's state (a deeply nested body that makes every later
 * write fail), so a block may name how to bring a sandbox back to a clean state — a request to the service
 * (`reset: { request: POST /__reset }`) or a command (`reset: { run: ./scripts/reset-db.sh }`) — and the
 * run calls it on each side after every phase that sent that side hostile requests.
 */
import path from 'node:path'
import { parseDuration } from '../../../plans/duration.js'
import { exchangeEvidence, evidence, unansweredEvidence } from '../../api/evidence.js'
import type { CheckContext } from '../../api/kind.js'
import { serviceUrl, type Sandbox } from '../../api/sandbox.js'
import { parseRequestLine } from '../../api/vocabulary.js'
import type { Evidence } from '../../verdict.js'
import { HttpNetworkError } from '../../http/client.js'
import { shellQuote } from '../../http/curl.js'
import { parseCommand } from '../../processes/argv.js'
import { runCommand, serviceEnvName } from '../../processes/command.js'
import type { AdversarialParams, ResetParam } from './params.js'
import { statusAccepted } from './suggested.js'

type Ctx = CheckContext<AdversarialParams, 'http'>

export type ResetOutcome = { ok: true } | { ok: false; reason: string; evidence: Evidence }

const DEFAULT_TIMEOUT_MS = 30_000

/** Runs the reset hook on one sandbox; a failure (a status not expected, an exit code not 0) is not thrown. */
export async function reset(
  ctx: Ctx,
  sandbox: Sandbox,
  hook: ResetParam,
  maxMs: number,
): Promise<ResetOutcome> {
  const service = hook.service ?? ctx.params.service
  const timeoutMs = Math.max(
    1,
    Math.min(hook.timeout !== undefined ? parseDuration(hook.timeout) : DEFAULT_TIMEOUT_MS, maxMs),
  )
  if ('run' in hook) return resetByCommand(ctx, sandbox, hook, service, timeoutMs)
  const request = ctx.vars.render(parseRequestLine(hook.request))
  try {
    const exchange = await ctx.clients.http.request({
      method: request.method,
      url: serviceUrl(sandbox, service, request.path),
      headers: { ...sandbox.headers, ...ctx.vars.render(hook.headers ?? {}), ...request.headers },
      ...(request.query ? { query: request.query } : {}),
      ...(request.json !== undefined ? { json: request.json } : {}),
      ...(request.body !== undefined ? { body: request.body } : {}),
      timeoutMs,
      signal: ctx.signal,
    })
    const { status } = exchange.response
    if (statusAccepted(status, hook.expect?.status ?? '2XX')) return { ok: true }
    return {
      ok: false,
      reason: `${request.method} ${request.path} got ${status}`,
      evidence: exchangeEvidence(exchange, sandbox.name),
    }
  } catch (error) {
    if (!(error instanceof HttpNetworkError) || ctx.signal.aborted) throw error
    return {
      ok: false,
      reason: `${request.method} ${request.path} got no response (${error.message})`,
      evidence: unansweredEvidence(error, sandbox.name),
    }
  }
}

async function resetByCommand(
  ctx: Ctx,
  sandbox: Sandbox,
  hook: Extract<ResetParam, { run: unknown }>,
  service: string | undefined,
  timeoutMs: number,
): Promise<ResetOutcome> {
  const argv =
    typeof hook.run === 'string' ? parseCommand(ctx.vars.render(hook.run)) : ctx.vars.render(hook.run)
  const cwd = path.resolve(ctx.plan.dir, hook.cwd ?? '.')
  const env: Record<string, string> = {
    BASE_URL: sandbox.url(service),
    VIGIL_BASE_URL: sandbox.url(service),
    VIGIL_SIDE: sandbox.name,
    VIGIL_SEED: String(ctx.seed),
  }
  for (const [name, endpoint] of Object.entries(sandbox.services)) env[serviceEnvName(name)] = endpoint.url
  for (const [k, v] of Object.entries(ctx.vars.render(hook.env ?? {}))) env[k] = String(v)
  const result = await runCommand(argv, {
    cwd,
    env: { ...process.env, ...env },
    timeoutMs,
    signal: ctx.signal,
    tailLines: 20,
  })
  if (result.cancelled) throw ctx.signal.reason ?? new Error('cancelled')
  if (result.exitCode === 0) return { ok: true }
  const command = argv.map(shellQuote).join(' ')
  const exit =
    result.spawnError ??
    (result.timedOut ? `timed out after ${timeoutMs} ms` : `exit ${result.exitCode ?? result.signal}`)
  return {
    ok: false,
    reason: `\`${command}\` failed: ${exit}`,
    evidence: evidence({
      transport: 'process',
      sandbox: sandbox.name,
      summary: [
        { label: 'command', value: command },
        { label: 'exit', value: exit },
      ],
      excerpt: { label: 'output', text: result.tail.join('\n') },
      reproduce: `(cd ${shellQuote(path.relative(process.cwd(), cwd) || '.')} && BASE_URL=${shellQuote(env.BASE_URL!)} ${command})`,
    }),
  }
}
