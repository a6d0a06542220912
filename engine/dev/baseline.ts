/**
 * Keeping a warm session's baseline true to what it stands for, restarting only what must: a baseline
 * service that died is started again alone; when the base moved, the baseline's worktree is moved in place
 * and the services whose files differ between the two commits are built and started again. The candidate
 * is never touched here.
 */
import type { Sandbox, ServiceFiles } from '../api/sandbox.js'
import type { SandboxSession } from '../sandboxes/index.js'
import type { TimingEntry, VerdictSession } from '../verdict.js'
import { listed, timedInto, type Rebuild } from './account.js'
import { dependencyInputs, serviceMatchers, underInputs } from './files.js'

export interface RefreshBaselineInput {
  sandboxes: SandboxSession
  /** The commit the baseline runs from. */
  from: string
  /** The commit it must run from now. */
  to: string
  /** The base as the user named it, for messages. */
  base: string
  account: VerdictSession
  timings: TimingEntry[]
  signal: AbortSignal
  log(line: string): void
}

/**
 * Restarts what the baseline needs, recording each restart in the account; returns why the sandboxes must
 * be rebuilt whole instead, else []. Whole: the provider cannot restart a service or move its tree, or files
 * no service claims changed with the base and a dependency read them when it started (a migration, a seed:
 * the database's template would be stale); other unclaimed files (a README, a plan) move the worktree only.
 */
export async function refreshBaseline(input: RefreshBaselineInput): Promise<Rebuild[]> {
  const { sandboxes, from, to, account } = input
  const baseline = sandboxes.baseline
  if (!baseline) return []
  const restart = new Map<string, { reason: string; prepare: boolean }>()
  for (const p of baseline.processes?.() ?? [])
    if (!p.running)
      restart.set(p.service, { reason: `baseline service ${p.service} died (pid ${p.pid})`, prepare: false })
  if (to !== from) {
    const moved = `${input.base} moved from ${from.slice(0, 12)} to ${to.slice(0, 12)}`
    if (!sandboxes.moveBaseline) return [{ part: 'baseline', reason: moved }]
    const files = await timedInto(input.timings, 'baseline:move', () => sandboxes.moveBaseline!(to))
    const { services, unclaimed } = claims(baseline.files ?? {}, files)
    const read = readByDependencies(baseline, unclaimed)
    if (read.length)
      return [
        { part: 'baseline', reason: moved },
        {
          part: 'sandboxes',
          reason: `${listed(read)} changed with it, which no service's files claim and a dependency read when it started`,
        },
      ]
    // Changed files are inputs of the service's build step: it runs again.
    for (const [name, changed] of Object.entries(services))
      restart.set(name, { reason: `${moved}: ${listed(changed)} changed`, prepare: true })
    if (Object.keys(services).length === 0)
      account.rebuilt.push({ part: 'baseline:worktree', reason: `${moved}; no service's files changed` })
  }
  if (restart.size === 0) return []
  if (!baseline.restart) return [...restart.values()].map((r) => ({ part: 'baseline', reason: r.reason }))
  await Promise.all(
    [...restart].map(async ([name, { reason, prepare }]) => {
      input.log(`baseline sandbox, service ${name}: restarting (${reason})`)
      const { prepared } = await timedInto(input.timings, `restart:baseline:${name}`, () =>
        baseline.restart!(name, input.signal, { prepare }),
      )
      account.rebuilt.push({
        part: `baseline:${name}`,
        reason: prepared ? `${reason}; its prepare step ran again` : reason,
      })
    }),
  )
  account.rebuilt.sort((a, b) => a.part.localeCompare(b.part))
  return []
}

/**
 * The unclaimed files a dependency of the sandbox read when it started (a migration, a seed: the database's
 * template would be stale); all of them when one of its dependencies does not say what it reads.
 */
function readByDependencies(sandbox: Sandbox, unclaimed: readonly string[]): string[] {
  const inputs = dependencyInputs(sandbox)
  return inputs ? underInputs(unclaimed, inputs) : [...unclaimed]
}

/** The files each service claims (by its globs), and those no service claims. */
function claims(
  files: Readonly<Record<string, ServiceFiles>>,
  changed: readonly string[],
): { services: Record<string, string[]>; unclaimed: string[] } {
  const services: Record<string, string[]> = {}
  const unclaimed: string[] = []
  const matchers = serviceMatchers(files)
  for (const file of changed) {
    const owners = matchers.filter(([, match]) => match(file)).map(([name]) => name)
    if (owners.length === 0) unclaimed.push(file)
    for (const name of owners) (services[name] ??= []).push(file)
  }
  return { services, unclaimed }
}
