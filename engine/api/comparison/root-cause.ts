/**
 * One finding per root cause. A check that holds the candidate to its expectations and also compares it
 * with the baseline can find one cause twice: a removed field is a missing required field too, a status
 * change breaks the expected status, a field whose JSON type changed fails its schema there. The
 * comparison's finding is the more specific one (it shows the baseline, names a rename, says how to accept
 * the change), so it is kept and the expectation's finding it explains is dropped; the kept finding is
 * then at least as severe as the one it replaces, so a check never passes for being reported once. And
 * what a comparison finding's `expected` and `actual` hold, so they read like its sentence.
 */
import type { Severity } from '../../verdict.js'
import { ABSENT, PRESENT } from '../values.js'

/** A finding of the candidate against its expectations (a status, a header, a body schema). */
export interface ExpectationFinding {
  messageId?: string
  /** Body pointer, `header:NAME`, or none (the status). */
  pointer?: string
  /** The value found; undefined when nothing was there. */
  actual?: unknown
  severity?: Severity
}

/** A difference between the baseline and the candidate, as the comparison classified it. */
export interface ComparisonFinding {
  messageId: string
  /** Body pointer, `header:NAME` or `status`. */
  pointer: string
  severity: Severity
}

/** Comparison message ids → what expectation finding each one explains. */
const EXPLAINS: Record<string, (e: ExpectationFinding, at: string) => boolean> = {
  'status-changed': (e) => e.messageId === 'status',
  'content-type-changed': (e, at) => e.messageId === 'content-type' && e.pointer === at,
  'header-removed': (e, at) => e.messageId === 'missing-header' && e.pointer === at,
  // A removed field is the body's missing required property, under whichever name each message uses.
  'field-removed': (e, at) => e.messageId === 'schema' && e.actual === undefined && sameField(e.pointer, at),
  // A field whose type or format changed is what its schema rejects there.
  'type-changed': (e, at) => e.messageId === 'schema' && e.actual !== undefined && sameField(e.pointer, at),
  'became-nullable': (e, at) =>
    e.messageId === 'schema' && e.actual !== undefined && sameField(e.pointer, at),
  'became-null': (e, at) => e.messageId === 'schema' && e.actual !== undefined && sameField(e.pointer, at),
  'noise-class-changed': (e, at) =>
    e.messageId === 'schema' && e.actual !== undefined && sameField(e.pointer, at),
}

const RANK: Record<Severity, number> = { info: 0, warning: 1, error: 2 }

export interface RootCauses<E, C> {
  /** The expectation findings no comparison finding explains, in their order. */
  kept: E[]
  /** Each comparison finding that explains one or more, with the severity it must have (the highest). */
  explained: Map<C, { severity: Severity; explains: E[] }>
}

/** Splits the expectation findings into those to report and those a comparison finding already reports. */
export function rootCauses<E extends ExpectationFinding, C extends ComparisonFinding>(
  expectations: readonly E[],
  comparisons: readonly C[],
): RootCauses<E, C> {
  const kept: E[] = []
  const explained = new Map<C, { severity: Severity; explains: E[] }>()
  for (const e of expectations) {
    const cause = comparisons.find((c) => EXPLAINS[c.messageId]?.(e, c.pointer))
    if (!cause) {
      kept.push(e)
      continue
    }
    const entry = explained.get(cause) ?? { severity: cause.severity, explains: [] }
    const severity = e.severity ?? 'error'
    if (RANK[severity] > RANK[entry.severity]) entry.severity = severity
    entry.explains.push(e)
    explained.set(cause, entry)
  }
  return { kept, explained }
}

/** Two body pointers naming one field, array indices and wildcards alike (`/0/price` and `/*\/price`). */
function sameField(a: string | undefined, b: string): boolean {
  return a !== undefined && shape(a) === shape(b)
}

function shape(pointer: string): string {
  return pointer.replace(/\/(?:\d+|\*)(?=\/|$)/g, '/*')
}

/**
 * A comparison finding's `expected` and `actual` (those it has), as its sentence reads: a removed field or header was
 * expected present and is absent (not the baseline's value, which the evidence shows), an added one was
 * absent and has the candidate's value; any other change goes from the baseline's value to the candidate's.
 */
export function sentenceValues(
  messageId: string,
  baseline: unknown,
  candidate: unknown,
): { expected?: unknown; actual?: unknown } {
  if (messageId === 'field-removed' || messageId === 'header-removed') return { expected: PRESENT }
  const expected = messageId === 'field-added' || messageId === 'header-added' ? ABSENT : baseline
  return {
    ...(expected === undefined ? {} : { expected }),
    ...(candidate === undefined ? {} : { actual: candidate }),
  }
}
