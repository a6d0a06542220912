/** KindTester's run of one loaded check: the real local executor, the real clients, a verdict. */
import { expect } from 'vitest'
import type { AnyCheckKind, ReportDescriptor } from '../../../engine/api/kind.js'
import {
  clients as defaultClients,
  openClients,
  SandboxAddresses,
  type ClientRegistry,
} from '../../../engine/clients/index.js'
import { executePlans } from '../../../engine/executors/local/executor.js'
import { toFinding } from '../../../engine/executors/local/check-runner.js'
import { idOfFinding } from '../../../engine/findings/id.js'
import { Redactor } from '../../../engine/http/redact.js'
import { secretValues, Variables, type SecretSpec } from '../../../engine/vars.js'
import { buildVerdict } from '../../../engine/verdict-builder.js'
import type { CheckResult, Finding, Verdict } from '../../../engine/verdict.js'
import type { Plan } from '../../../plans/types.js'
import { validateVerdict } from '../../../reporters/schema.js'
import type { StartedSide, Target } from './targets.js'

/** One case's run: the verdict's view and the kind's own reports. */
export interface KindRun<T extends Target = Target> {
  verdict: Verdict
  result: CheckResult
  /** The verdict's findings (rendered, redacted). */
  findings: Finding[]
  /** What the kind passed to `ctx.report` before its run settled, in order, with its `data`. */
  reports: ReportDescriptor[]
  /**
   * The report each finding was made of: `reportOf[i]` became `findings[i]`. The verdict merges repeats
   * (the same id, or the same message at the same place on several requests), so a finding can stand
   * for several reports; it was made of the first of them.
   */
  reportOf: ReportDescriptor[]
  /** Progress notes, in order. */
  progress: string[]
  /** The check's variables after the run (captures included). */
  vars: Variables
  plan: Plan
  /** The plan's folder (files the block names live there). */
  dir: string
  candidate: T
  baseline?: T
}

export interface ExecuteCase<T extends Target> {
  /** The registry the executor gets; `name` is the kind under test. */
  kinds: Record<string, AnyCheckKind>
  name: string
  plan: Plan
  dir: string
  candidate: StartedSide<T>
  baseline?: StartedSide<T>
  clients?: ClientRegistry
  secrets: Record<string, SecretSpec>
  redactHeaders: string[]
  envAllow: string[]
  env: Record<string, string | undefined>
  seed: number
  /** For messages. */
  label: string
}

export async function executeCase<T extends Target>(c: ExecuteCase<T>): Promise<KindRun<T>> {
  const redactor = new Redactor({ secrets: secretValues(c.secrets, c.env), headers: c.redactHeaders })
  const reports: ReportDescriptor[] = []
  const progress: string[] = []
  const kind = c.kinds[c.name]!
  // The kind runs as it is; only its reports are also kept here, with their data.
  let settled = false
  const observed: AnyCheckKind = {
    meta: kind.meta,
    run: (ctx) =>
      kind
        .run({
          ...ctx,
          report: (d: ReportDescriptor) => {
            // A report after the check ended is dropped by the executor; so it is here.
            if (!settled) reports.push(d)
            ctx.report(d)
          },
        })
        .finally(() => void (settled = true)),
  }
  const { candidate, baseline } = c
  // The same addresses for the clients and the executor, which admits a check's isolated copies to them.
  const addresses = SandboxAddresses.of([candidate.sandbox, baseline?.sandbox])
  const opened = openClients(c.clients ?? defaultClients, kind.meta.needs ?? [], { redactor, addresses })
  let vars: Variables | undefined
  const startedAt = new Date()
  try {
    const executed = await executePlans({
      plans: [c.plan],
      kinds: { ...c.kinds, [c.name]: observed },
      sandboxes: { candidate: candidate.sandbox, ...(baseline ? { baseline: baseline.sandbox } : {}) },
      clients: opened.byName,
      addresses,
      redactor,
      seed: c.seed,
      createVariables: (plan, _check, seed) =>
        (vars = new Variables({
          vars: plan.vars,
          envAllow: c.envAllow,
          env: c.env,
          secrets: c.secrets,
          services: Object.fromEntries(
            Object.entries(candidate.sandbox.services).map(([k, v]) => [k, v.url]),
          ),
          defaultService: candidate.sandbox.defaultService,
          seed,
          redactor,
        })),
      reporter: { onCheckProgress: (e) => void progress.push(e.note ?? '') },
    })
    const verdict = buildVerdict({
      startedAt,
      durationMs: Date.now() - startedAt.getTime(),
      identity: { runId: 'kind-tester', seed: c.seed },
      plans: executed.plans,
      redactor,
    })
    expect(validateVerdict(verdict), `${c.label}: the verdict matches its schema`).toEqual({
      valid: true,
      errors: [],
    })
    const result = verdict.plans[0]!.checks[0]!
    const findings = 'findings' in result ? result.findings : []
    return {
      verdict,
      result,
      findings,
      reports,
      reportOf: alignReports(c, findings, reports, redactor),
      progress,
      vars: vars!,
      plan: c.plan,
      dir: c.dir,
      candidate: candidate.target,
      ...(baseline ? { baseline: baseline.target } : {}),
    }
  } finally {
    await opened.close()
  }
}

/**
 * The report each finding was made of. A finding keeps the stable id of the first report of its group
 * (repeats merge in report order), so each finding is matched to the next report with its id.
 */
function alignReports<T extends Target>(
  c: ExecuteCase<T>,
  findings: Finding[],
  reports: ReportDescriptor[],
  redactor: Redactor,
): ReportDescriptor[] {
  const kind = c.kinds[c.name]!
  const check = c.plan.checks[0]!
  const ids = reports.map((d) => idOfFinding(c.plan.name, check.name, toFinding(kind, d, redactor)))
  let next = 0
  return findings.map((finding, i) => {
    while (next < ids.length && ids[next] !== finding.id) next++
    expect(next, `${c.label}: finding #${i} (${finding.id}) comes from a report`).toBeLessThan(ids.length)
    return reports[next++]!
  })
}
