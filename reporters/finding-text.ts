/** Findings and errors as indented plain-text lines, shared by the console and JUnit renderers. */
import type { Finding, SerializedError } from '../engine/verdict.js'
import {
  detailsLines,
  findingFacts,
  findingMessage,
  limitLines,
  logsLines,
  logsTitle,
  reproduceAfterRun,
  tailLines,
} from './format.js'

/** How parts of a line are styled; identity for plain text, picocolors for the console. */
export interface TextStyle {
  label(text: string): string
  dim(text: string): string
  severity(severity: Finding['severity'], text: string): string
}

export const plainStyle: TextStyle = { label: (t) => t, dim: (t) => t, severity: (_s, t) => t }

/** Limits on what a finding may print. */
export interface FindingTextLimits {
  /** Lines of an evidence excerpt (a response body, a command's output). @default 20 */
  excerptLines?: number
  /** Characters of an expected/actual value. @default 200 */
  valueChars?: number
  /** Lines of a log tail (the last ones are kept). @default 50 */
  logLines?: number
  /** Where the JSON verdict is, for the `vigil reproduce` line beside each reproduce command. */
  verdictPath?: string
}

/** `1. [error] Expected status 201, got 500.` and its facts below, indented by `indent`. */
export function findingLines(
  finding: Finding,
  index: number,
  indent: string,
  style: TextStyle = plainStyle,
  limits: FindingTextLimits = {},
): string[] {
  const lines = [
    `${indent}${index + 1}. ${style.severity(finding.severity, `[${finding.severity}]`)} ${findingMessage(finding)}`,
  ]
  const inner = `${indent}${' '.repeat(String(index + 1).length + 2)}`
  const facts = findingFacts(finding, limits.valueChars ?? 200)
  const { excerpt, reproduce } = finding.evidence ?? {}
  const { logs } = finding.evidence ?? {}
  const width = Math.max(0, ...facts.map(([label]) => label.length), reproduce ? 'after run'.length : 0)
  for (const [label, value] of facts)
    lines.push(`${inner}${style.label(`${label}:`.padEnd(width + 1))} ${value}`)
  const details = detailsLines(finding, limits.excerptLines ?? 20, limits.valueChars ?? 200)
  if (details.length) {
    lines.push(`${inner}${style.label('details:')}`)
    for (const line of details) lines.push(`${inner}  ${line}`)
  }
  if (excerpt) {
    lines.push(`${inner}${style.label(`${excerpt.label}:`)}`)
    for (const line of limitLines(excerpt.text, limits.excerptLines ?? 20))
      lines.push(`${inner}  ${style.dim(line)}`)
  }
  if (reproduce) {
    lines.push(`${inner}${style.label('reproduce:'.padEnd(width + 1))} ${reproduce}`)
    if (finding.id !== undefined)
      lines.push(
        `${inner}${style.label('after run:'.padEnd(width + 1))} ${reproduceAfterRun(finding.id, limits.verdictPath)}`,
      )
  }
  if (logs) {
    lines.push(`${inner}${style.label(`${logsTitle(logs)}:`)}`)
    for (const line of logsLines(logs)) lines.push(`${inner}  ${style.dim(line)}`)
  }
  return lines
}

/** `Error [CODE]: message`, then the log tail, then the stack (without its first line, which repeats the message). */
export function errorLines(
  error: SerializedError,
  indent: string,
  style: TextStyle = plainStyle,
  limits: FindingTextLimits = {},
): string[] {
  const code = error.code ? ` [${error.code}]` : ''
  const lines = [`${indent}${style.severity('error', `${error.name}${code}:`)} ${error.message}`]
  lines.push(...logTailLines(error.logTail, indent, style, limits.logLines ?? 50))
  if (error.stack) {
    const frames = error.stack.split('\n').filter((line) => /^\s+at /.test(line))
    for (const frame of frames.slice(0, 10)) lines.push(`${indent}  ${style.dim(frame.trim())}`)
  }
  return lines
}

/** `log tail:` and its last `max` lines prefixed with `| `; nothing when there is no tail. */
export function logTailLines(
  tail: readonly string[] | undefined,
  indent: string,
  style: TextStyle = plainStyle,
  max = 50,
): string[] {
  if (!tail || tail.length === 0) return []
  return [
    `${indent}${style.label('log tail:')}`,
    ...tailLines(tail, max).map((l) => `${indent}  ${style.dim(`| ${l}`)}`),
  ]
}
