/**
 * The e2e check's run: the steps in order, HTTP requests with assertions and captures and `run:` commands;
 * the first failing step stops the check and the steps after it are reported as not run.
 */
import path from 'node:path'
import { formatElapsed, parseDuration } from '../../../plans/duration.js'
import { evidence } from '../../api/evidence.js'
import { runCommand, serviceEnvName } from '../../processes/command.js'
import { shellQuote } from '../../http/curl.js'
import { parseCommand } from '../../processes/argv.js'
import { runHttpStep, runStepsInOrder } from '../../api/http-step.js'
import type { E2eParams, E2eRunStep } from './schema.js'
import type { CheckContext, Variables } from '../../api/kind.js'
import type { Sandbox } from '../../api/sandbox.js'
import { runOnBothSides } from './sides.js'

const OUTPUT_TAIL_LINES = 40

function isRunStep(step: E2eParams['steps'][number]): step is E2eRunStep {
  return 'run' in step
}

type Ctx = CheckContext<E2eParams, 'http'>

/** Environment a `run:` step sees: its side's URLs and name, the seed, then the step's own env. */
function runEnvironment(ctx: Ctx, side: Sandbox, extra: Record<string, string>): Record<string, string> {
  const { baseline } = ctx.sandboxes
  const env: Record<string, string> = {
    BASE_URL: side.url(),
    VIGIL_BASE_URL: side.url(),
    // Which side the command runs against: `candidate`, or `baseline` (sides: both, or a replay there).
    VIGIL_SIDE: side.name,
    VIGIL_SEED: String(ctx.seed),
  }
  for (const [name, endpoint] of Object.entries(side.services)) env[serviceEnvName(name)] = endpoint.url
  if (baseline) env.VIGIL_BASELINE_URL = baseline.url()
  return { ...env, ...extra }
}

async function runCommandStep(ctx: Ctx, vars: Variables, step: E2eRunStep, side: Sandbox): Promise<boolean> {
  const argv = typeof step.run === 'string' ? parseCommand(vars.render(step.run)) : vars.render(step.run)
  const extra = Object.fromEntries(
    Object.entries(vars.render(step.env ?? {})).map(([k, v]) => [k, String(v)]),
  )
  const cwd = path.resolve(ctx.plan.dir, step.cwd ?? '.')
  const timeoutMs = Math.max(
    1,
    Math.min(step.timeout !== undefined ? parseDuration(step.timeout) : Infinity, ctx.timeoutMs),
  )
  const added = runEnvironment(ctx, side, extra)
  const command = argv.map(shellQuote).join(' ')
  ctx.progress(`${step.name}: ${command}`)
  const result = await runCommand(argv, {
    cwd,
    env: { ...process.env, ...added },
    timeoutMs,
    signal: ctx.signal,
    tailLines: OUTPUT_TAIL_LINES,
  })
  if (result.cancelled) throw ctx.signal.reason ?? new Error('cancelled')
  const relativeCwd = path.relative(process.cwd(), cwd) || '.'
  const envPrefix = Object.entries(added)
    .filter(([k]) => k === 'BASE_URL' || Object.hasOwn(extra, k))
    .map(([k, v]) => `${k}=${shellQuote(v)}`)
    .join(' ')
  const reproduce = `(cd ${shellQuote(relativeCwd)} && ${envPrefix} ${command})`
  const details = {
    command,
    cwd: relativeCwd,
    exitCode: result.exitCode,
    durationMs: Math.round(result.durationMs),
    outputTail: result.tail,
  }
  const data = { step: step.name, command }
  const exit =
    result.exitCode ?? result.signal ?? (result.spawnError !== undefined ? 'not started' : 'unknown')
  const common = {
    step: step.name,
    evidence: evidence({
      transport: 'process',
      sandbox: side.name,
      summary: [
        { label: 'command', value: command },
        { label: 'cwd', value: relativeCwd },
        {
          label: 'exit',
          value: `${exit} after ${formatElapsed(result.durationMs)}${result.timedOut ? ' (timed out)' : ''}`,
        },
      ],
      excerpt: { label: 'output', text: result.tail.join('\n') },
      reproduce,
      details,
    }),
  }
  if (result.exitCode === 0) {
    ctx.report({ ...common, severity: 'info', messageId: 'run-passed', data })
    return true
  }
  if (result.spawnError !== undefined) {
    ctx.report({ ...common, messageId: 'run-spawn', data: { ...data, error: result.spawnError } })
  } else if (result.timedOut) {
    ctx.report({ ...common, messageId: 'run-timeout', data: { ...data, timeout: `${timeoutMs} ms` } })
  } else {
    ctx.report({ ...common, messageId: 'run-failed', data: { ...data, exit }, expected: 0, actual: exit })
  }
  return false
}

/** Runs the steps of one e2e check. */
export async function runE2e(ctx: Ctx): Promise<void> {
  if (ctx.params.sides === 'both') await runOnBothSides(ctx, runSteps)
  else await runSteps(ctx, ctx.vars, ctx.sandboxes.candidate)
}

/** Runs the steps in order on one side until one fails; the steps after it are reported as not run. */
async function runSteps(ctx: Ctx, vars: Variables, side: Sandbox): Promise<void> {
  await runStepsInOrder(ctx, ctx.params.steps, (step) =>
    isRunStep(step) ? runCommandStep(ctx, vars, step, side) : runHttpStep({ ctx, vars, side }, step),
  )
}
