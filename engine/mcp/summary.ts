/**
 * A verdict as an agent reads it first, kept short (an agent's context is the budget): the outcome, then
 * each failed or errored check with its findings one line each, their ids and a command that reproduces
 * each. Everything else — requests, expected and actual values, evidence, log lines — is in the
 * structured verdict of the same tool result, and reproduce_finding replays one finding.
 */
import type { CheckResult, Finding, Verdict } from '../verdict.js'

/** Findings shown per check; the JSON verdict has them all. @default 5 */
const MAX_FINDINGS = 5
/** Characters of an expected or actual value. */
const MAX_VALUE = 300

function value(v: unknown): string {
  const text = typeof v === 'string' ? v : JSON.stringify(v)
  return text.length > MAX_VALUE ? `${text.slice(0, MAX_VALUE)}…` : text
}

/** One line per finding, its id (for reproduce_finding) and the command that reproduces it. */
function finding(f: Finding): string[] {
  const repeats = f.repeats ? ` (${f.repeats.count} times)` : ''
  const lines = [`  - [${f.severity}] ${oneLine(f.message)}${repeats}${f.id ? ` · id ${f.id}` : ''}`]
  if (f.evidence?.reproduce) lines.push(`    reproduce: ${value(f.evidence.reproduce)}`)
  return lines
}

function oneLine(text: string): string {
  return value(text.replace(/\s*\n\s*/g, ' '))
}

function check(c: CheckResult): string[] {
  const at = `${c.location.file}${c.location.line ? `:${c.location.line}` : ''}`
  const head = `- ${c.plan} › ${c.check} [${c.kind}] ${c.state} (${at})`
  if (c.state === 'skipped' || c.state === 'passed') return [head]
  const lines = [head]
  if (c.state === 'errored')
    lines.push(`  error: ${c.error.code ? `${c.error.code}: ` : ''}${c.error.message}`)
  const errors = c.findings.filter((f) => f.severity === 'error')
  for (const f of errors.slice(0, MAX_FINDINGS)) lines.push(...finding(f))
  if (errors.length > MAX_FINDINGS) lines.push(`  … ${errors.length - MAX_FINDINGS} more in the JSON verdict`)
  return lines
}

export function agentSummary(verdict: Verdict): string {
  const s = verdict.summary.checks
  const lines = [
    `${verdict.status.toUpperCase()} (exit ${verdict.exitCode}): ${verdict.summary.plans.total} plan(s), ` +
      `${s.total} check(s) — ${s.passed} passed, ${s.failed} failed, ${s.errored} errored, ${s.skipped} skipped` +
      `${s.warned ? `, ${s.warned} warned` : ''}. Run ${verdict.identity.runId}, ${(verdict.durationMs / 1000).toFixed(1)}s.`,
  ]
  if (verdict.cancelled) lines.push('The run was cancelled: results are partial.')
  if (verdict.selection) {
    const names = verdict.selection.plans.map((p) => p.name).join(', ') || 'no plans'
    lines.push(`Selection (${verdict.selection.selector}): ${names}`)
  }
  for (const e of verdict.errors) {
    lines.push(`Run error ${e.code}: ${e.message}`)
    if (e.logTail?.length) lines.push(...e.logTail.slice(-10).map((l) => `  | ${l}`))
  }
  const problems = verdict.plans.flatMap((p) =>
    p.checks.filter((c) => c.state === 'failed' || c.state === 'errored'),
  )
  if (problems.length) {
    lines.push('', 'Failed or errored checks:', ...problems.flatMap(check), '')
    lines.push(
      'The structured verdict (structuredContent) has every finding in full: request, expected and actual ' +
        'values, evidence and log lines. reproduce_finding <id> replays one against fresh sandboxes.',
    )
  }
  return `${lines.join('\n')}\n`
}
