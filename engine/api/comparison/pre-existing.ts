/**
 * Failures that are not the change's: when a check runs on both sandboxes, a failure of the candidate
 * that the baseline has too is pre-existing. Kinds say what makes two failures the same (a step and a
 * message id, a pointer…) as a key; values may differ between the sides.
 */
import type { ReportDescriptor } from '../kind.js'

/** True for a report that fails a check. */
export const isFailure = (d: ReportDescriptor): boolean => (d.severity ?? 'error') === 'error'

/**
 * The candidate's reports, each failure whose key is among `baselineKeys` turned into a pre-existing
 * warning (the engine adds the note to its message); the others unchanged.
 */
export function markPreExisting(
  candidate: readonly ReportDescriptor[],
  baselineKeys: ReadonlySet<string>,
  key: (d: ReportDescriptor) => string,
): ReportDescriptor[] {
  return candidate.map((d) =>
    isFailure(d) && baselineKeys.has(key(d)) ? { ...d, severity: 'warning', preExisting: true } : d,
  )
}
