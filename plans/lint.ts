import type { PlanDiagnostic } from './types.js'

/** What `vigil plans lint --json` prints; published as plans/schema/lint-report.json. */
export interface LintReport {
  version: 1
  /** No errors (warnings allowed). */
  ok: boolean
  errorCount: number
  warningCount: number
  /** How many plan files were read. */
  files: number
  diagnostics: Array<{
    file: string
    line: number
    column: number
    severity: 'error' | 'warning'
    code: string
    message: string
    plan?: string
  }>
}

/** Builds the lint report from a load's diagnostics (kept in the order given: file, line, column). */
export function lintReport(result: {
  diagnostics: readonly PlanDiagnostic[]
  files: readonly string[]
}): LintReport {
  const diagnostics = result.diagnostics.map((d) => ({
    file: d.file,
    line: d.line,
    column: d.column,
    severity: d.severity,
    code: d.code,
    message: d.message,
    ...(d.plan === undefined ? {} : { plan: d.plan }),
  }))
  const errorCount = diagnostics.filter((d) => d.severity === 'error').length
  return {
    version: 1,
    ok: errorCount === 0,
    errorCount,
    warningCount: diagnostics.length - errorCount,
    files: result.files.length,
    diagnostics,
  }
}
