/**
 * `vigil reproduce <verdict.json> <finding-id>`: after a run has ended, start its sides again from the
 * sources its verdict recorded, send what produced the finding, print both sides' answers with the
 * services' log lines, and stop everything. Exit 1 when the finding comes back, 0 when it does not.
 */
import { findingLines } from '../../../reporters/finding-text.js'
import {
  formatDuration,
  limitLines,
  logsLines,
  logsTitle,
  sideServiceLines,
  sideSourceLine,
  visibleControls,
} from '../../../reporters/format.js'
import { installSignalHandlers } from '../../lifecycle.js'
import { reproduceFinding, type ReproduceResult } from '../../run/reproduce.js'

export interface ReproduceCommandOptions {
  config?: string
  json?: boolean
}

/** The replay as text for a person: the finding, the builds, what moved, each exchange, what the check says now. */
export function renderReproduction(result: ReproduceResult, verdictPath?: string): string {
  const f = result.finding
  const lines = [
    `vigil reproduce ${f.id}: ${f.plan} › ${f.check} (${f.kind}, ${f.location})`,
    `  [${f.severity}] ${f.message}`,
    '',
    'Builds',
  ]
  for (const [name, side] of Object.entries(result.sides)) {
    if (!side) continue
    lines.push(`  ${name}: ${sideSourceLine(side)}`, ...sideServiceLines(side).map((l) => `    ${l}`))
  }
  for (const warning of result.warnings) lines.push(`  warning: ${warning}`)
  lines.push('', 'Sent')
  if (result.exchanges.length === 0) lines.push('  nothing: the check sent no request')
  for (const e of result.exchanges) {
    const answer = e.response
      ? `${e.response.status} in ${formatDuration(e.response.durationMs)}`
      : `no answer: ${e.error ?? 'unknown'}`
    lines.push(
      `  ${e.side}${e.service ? ` ${e.service}` : ''}: ${e.request.method} ${e.request.url} → ${answer}`,
    )
    if (e.body) lines.push('    body:', ...limitLines(e.body, 20).map((l) => `      ${l}`))
    if (e.logs) lines.push(`    ${logsTitle(e.logs)}:`, ...logsLines(e.logs).map((l) => `      ${l}`))
  }
  lines.push('', 'What the check says now')
  const failing = result.findings.filter((x) => x.severity !== 'info')
  if (failing.length === 0) lines.push('  nothing failing')
  const limits = verdictPath !== undefined ? { verdictPath } : {}
  failing.forEach((finding, i) =>
    lines.push(
      ...findingLines(
        { ...finding, evidence: finding.evidence && { ...finding.evidence, logs: undefined } },
        i,
        '  ',
        undefined,
        limits,
      ),
    ),
  )
  lines.push(
    '',
    result.reproduced
      ? `REPRODUCED: finding ${f.id} came back on the candidate (exit 1)`
      : `NOT REPRODUCED: finding ${f.id} did not come back on the candidate (exit 0)`,
  )
  return `${visibleControls(lines.join('\n'))}\n`
}

/** `vigil reproduce`: exit 1 when the finding's id came back on the candidate, 0 when it did not. */
export async function reproduce(
  verdictFile: string,
  findingId: string,
  options: ReproduceCommandOptions,
): Promise<number> {
  const controller = new AbortController()
  installSignalHandlers(() => {
    controller.abort()
  })
  const result = await reproduceFinding({
    verdictFile,
    findingId,
    ...(options.config !== undefined ? { configPath: options.config } : {}),
    signal: controller.signal,
    log: (line) => process.stderr.write(`vigil: ${line}\n`),
  })
  process.stdout.write(
    options.json ? `${JSON.stringify(result, null, 2)}\n` : renderReproduction(result, verdictFile),
  )
  return result.reproduced ? 1 : 0
}
