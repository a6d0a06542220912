/** One classified difference between the baseline's response and the candidate's. */
import type { Severity } from '../../verdict.js'
import { describeValue } from '../../api/values.js'

export type ChangeClass = 'breaking' | 'additive' | 'changed'

export interface Change {
  messageId: string
  severity: Severity
  classification: ChangeClass
  /** A concrete pointer (body), `header:NAME` or `status`. */
  pointer: string
  /** The generalised pointer the change was grouped by. */
  path: string
  /** Places that changed this way. */
  count: number
  baseline: unknown
  candidate: unknown
  /** Message placeholders, all preformatted strings. */
  data: Record<string, string>
}

export function change(
  messageId: string,
  severity: Severity,
  classification: ChangeClass,
  pointer: string,
  path: string,
  count: number,
  baseline: unknown,
  candidate: unknown,
  extra: Record<string, string> = {},
): Change {
  // The empty pointer is the whole body: a message must not read `Field  changed type`.
  const shown = (p: string) => (p === '' ? '(root)' : p)
  const where = count > 1 ? ` (${count} places, e.g. ${shown(pointer)})` : ''
  const data: Record<string, string> = {
    pointer: shown(count > 1 ? path : pointer),
    baseline: describeValue(baseline),
    candidate: describeValue(candidate),
    where,
    ...extra,
  }
  return { messageId, severity, classification, pointer, path, count, baseline, candidate, data }
}
