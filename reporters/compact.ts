/**
 * The compact verdict a warm session prints after each iteration: what it restarted, rebuilt or ran again, one line
 * per failed or errored check with its first findings, each error with the last lines of its log tail, then the
 * console's one-line verdict. Pure.
 */
import type { Verdict } from '../engine/verdict.js'
import { logTailLines } from './finding-text.js'
import { problems, verdictLine } from './format.js'

/** Lines of findings shown per check; the rest are counted. */
const FINDINGS_SHOWN = 2
/**
 * Last lines of a log tail shown with an error (a service that did not start: its stack trace says why,
 * which is what the agent fixes next); the JSON verdict keeps the whole tail.
 */
const LOG_LINES_SHOWN = 15

export function renderCompact(verdict: Verdict): string {
  const lines: string[] = []
  const s = verdict.session
  if (s) {
    const again = (verdict.selection?.plans ?? []).filter((p) => p.source === 'session').map((p) => p.name)
    const did = [
      ...s.rebuilt.map((r) => `rebuilt ${r.part} (${r.reason})`),
      ...(s.restarted.length
        ? [
            `restarted ${s.restarted.map((n) => (s.restartedOnSave?.includes(n) ? `${n} (on save)` : n)).join(', ')}`,
          ]
        : []),
      // Both sides' are reset together: each dependency is named once.
      ...(s.reset?.length
        ? [`reset ${[...new Set(s.reset.map((r) => r.replace(/^[^:]*:/, '')))].join(', ')}`]
        : []),
      // Plans the change no longer selects, run again because they failed before and have not passed since.
      ...(again.length ? [`ran again ${again.join(', ')} (failed before, not passed since)`] : []),
    ]
    const reused = s.reused.filter((r) => !r.startsWith('candidate:'))
    lines.push(
      `#${s.iteration} ${did.length ? did.join('; ') : 'nothing restarted'}${reused.length ? ` · reused ${reused.join(', ')}` : ''}`,
    )
  }
  for (const { plan, result, warning } of problems(verdict)) {
    const mark = warning ? '!' : '✗'
    lines.push(`  ${mark} ${plan.name} › ${result.check} [${result.kind}] ${result.state}`)
    if (result.state === 'errored') {
      lines.push(`      ${result.error.message.split('\n')[0]}`)
      lines.push(...logTailLines(result.error.logTail, '      ', undefined, LOG_LINES_SHOWN))
    }
    const findings = result.findings.filter((f) => f.severity === 'error' || warning)
    for (const f of findings.slice(0, FINDINGS_SHOWN)) lines.push(`      ${f.message.split('\n')[0]}`)
    if (findings.length > FINDINGS_SHOWN) lines.push(`      … and ${findings.length - FINDINGS_SHOWN} more`)
  }
  for (const error of verdict.errors) {
    lines.push(`  ✗ ${error.message.split('\n')[0]}`)
    lines.push(...logTailLines(error.logTail, '    ', undefined, LOG_LINES_SHOWN))
  }
  lines.push(verdictLine(verdict))
  return `${lines.join('\n')}\n`
}
