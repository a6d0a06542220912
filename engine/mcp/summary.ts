/**
 * A verdict as an agent reads it first: the outcome, then each failed or errored check with what was
 * sent, what was expected, what came back and a command that reproduces it. The JSON verdict follows
 * it in the same tool result.
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

function finding(f: Finding): string[] {
  const lines = [`  - [${f.severity}] ${f.message}`]
  if (f.id) lines.push(`    id: ${f.id}`)
  if (f.repeats) lines.push(`    repeats: ${f.repeats.count} times in all`)
  if (f.step) lines.push(`    step: ${f.step}`)
  if (f.expected !== undefined) lines.push(`    expected: ${value(f.expected)}`)
  if (f.actual !== undefined) lines.push(`    actual: ${value(f.actual)}`)
  // Whatever the transport, the evidence says what it shows in its own lines.
  const evidence = f.evidence
  for (const line of evidence?.summary ?? []) lines.push(`    ${line.label}: ${value(line.value)}`)
  if (evidence?.excerpt) lines.push(`    ${evidence.excerpt.label}: ${value(evidence.excerpt.text)}`)
  if (evidence?.reproduce) lines.push(`    reproduce: ${evidence.reproduce}`)
  if (f.id && evidence?.reproduce)
    lines.push(`    after the run: reproduce_finding ${f.id} (the sandbox's ports above are gone by then)`)
  for (const [service, logs] of Object.entries(evidence?.logs?.services ?? {}))
    for (const line of logs.slice(0, 10)) lines.push(`    log ${service} | ${value(line)}`)
  return lines
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
  if (problems.length) lines.push('', 'Failed or errored checks:', ...problems.flatMap(check))
  return `${lines.join('\n')}\n`
}
