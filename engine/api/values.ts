/** Small helpers to show JSON values in findings. */

/**
 * The `expected` of a finding about something that must be there (a required field, a header, a field the
 * baseline has); its `actual` is {@link ABSENT} when nothing is there, so both read like the sentence.
 */
export const PRESENT = 'present'
/** The `actual` of a finding about something missing, or the `expected` of one about something added. */
export const ABSENT = 'absent'

/** The JSON type name of a value: `null`, `array`, `object`, `string`, `number`, `boolean`, `undefined`. */
export function jsonType(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  return typeof value
}

/** A short human-readable rendering of a value for a one-sentence message. */
export function describeValue(value: unknown, max = 60): string {
  if (value === undefined) return 'nothing'
  if (Array.isArray(value) && value.length > 5) return `an array of ${value.length} elements`
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const keys = Object.keys(value)
    if (keys.length > 5) return `an object with ${keys.length} fields`
  }
  const text = JSON.stringify(value) ?? String(value)
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}

/**
 * A value bounded in size for a finding's `expected`/`actual`: big arrays, objects and strings are
 * replaced by a description, so a 1 MB body never lands in a verdict.
 */
export function clipValue(value: unknown, maxChars = 500): unknown {
  if (value === undefined || value === null || typeof value !== 'object') {
    return typeof value === 'string' && value.length > maxChars ? `${value.slice(0, maxChars)}…` : value
  }
  const text = JSON.stringify(value)
  if (text.length <= maxChars) return value
  return `${describeValue(value, 40)} (${text.length} characters)`
}
