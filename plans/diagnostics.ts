import type { PlanDiagnostic } from './types.js'

/** `file:line:col message`, the one-line form every diagnostic is shown in. */
export function formatDiagnostic(d: PlanDiagnostic): string {
  return `${d.file}:${d.line}:${d.column} ${d.severity === 'warning' ? 'warning: ' : ''}${d.message}`
}

/** Orders diagnostics by file, line, column, then severity (errors first), code and message. */
export function compareDiagnostics(a: PlanDiagnostic, b: PlanDiagnostic): number {
  return (
    compareText(a.file, b.file) ||
    a.line - b.line ||
    a.column - b.column ||
    compareText(a.severity, b.severity) ||
    compareText(a.code, b.code) ||
    compareText(a.message, b.message)
  )
}

/** Locale-independent ordering, so output is the same on every machine. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
