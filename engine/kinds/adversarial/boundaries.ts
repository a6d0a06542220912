/**
 * Values around a schema's limits: one past minimum and maximum (and exactly at them), one character or
 * element short of or past a length limit, a value outside an enum or a pattern. ajv decides afterwards
 * whether each is valid, so a limit the schema does not really impose never counts as "invalid".
 */
import fc from 'fast-check'
import { flatten, schemaTypes, type Schema } from './schemas.js'

export interface BoundaryValue {
  value: unknown
  note: string
}

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined)

/** True when the schema has a limit to probe. */
export function hasBoundaries(input: Schema | undefined): boolean {
  const s = flatten(input)
  if (!s) return false
  return [
    'minimum',
    'maximum',
    'exclusiveMinimum',
    'exclusiveMaximum',
    'minLength',
    'maxLength',
    'minItems',
    'maxItems',
    'enum',
    'pattern',
    'format',
    'multipleOf',
  ].some((k) => s[k] !== undefined)
}

function stringOf(length: number, like: unknown): string {
  const seed = typeof like === 'string' && like.length ? like : 'a'
  return seed.repeat(Math.ceil(length / seed.length) + 1).slice(0, length)
}

/** Every boundary value of a schema, in a fixed order; fast-check varies the far-off ones. */
function candidates(s: Schema, base: unknown): Array<fc.Arbitrary<BoundaryValue>> {
  const out: Array<fc.Arbitrary<BoundaryValue>> = []
  const integer = schemaTypes(s).includes('integer')
  const step = integer ? 1 : 0.5
  const min = num(s.minimum)
  const max = num(s.maximum)
  if (min !== undefined) {
    out.push(fc.constant({ value: min - step, note: `below minimum ${min}` }))
    out.push(fc.constant({ value: min, note: `at minimum ${min}` }))
    out.push(
      fc
        .integer({ min: -1_000_000, max: -1 })
        .map((d) => ({ value: min + d * (integer ? 1 : 1.5), note: `below minimum ${min}` })),
    )
  }
  if (max !== undefined) {
    out.push(fc.constant({ value: max + step, note: `above maximum ${max}` }))
    out.push(fc.constant({ value: max, note: `at maximum ${max}` }))
    out.push(
      fc.integer({ min: 1, max: 1_000_000 }).map((d) => ({ value: max + d, note: `above maximum ${max}` })),
    )
  }
  const exMin = num(s.exclusiveMinimum)
  if (exMin !== undefined) out.push(fc.constant({ value: exMin, note: `at exclusive minimum ${exMin}` }))
  const exMax = num(s.exclusiveMaximum)
  if (exMax !== undefined) out.push(fc.constant({ value: exMax, note: `at exclusive maximum ${exMax}` }))
  const multipleOf = num(s.multipleOf)
  if (multipleOf !== undefined)
    out.push(fc.constant({ value: multipleOf * 1.5, note: `not a multiple of ${multipleOf}` }))
  const minLength = num(s.minLength)
  if (minLength !== undefined && minLength > 0)
    out.push(
      fc.constant({ value: stringOf(minLength - 1, base), note: `shorter than minLength ${minLength}` }),
    )
  const maxLength = num(s.maxLength)
  if (maxLength !== undefined) {
    out.push(
      fc.constant({ value: stringOf(maxLength + 1, base), note: `longer than maxLength ${maxLength}` }),
    )
    out.push(fc.constant({ value: stringOf(maxLength, base), note: `at maxLength ${maxLength}` }))
  }
  const items = Array.isArray(base) ? base : []
  const minItems = num(s.minItems)
  if (minItems !== undefined && minItems > 0)
    out.push(fc.constant({ value: items.slice(0, minItems - 1), note: `fewer than minItems ${minItems}` }))
  const maxItems = num(s.maxItems)
  if (maxItems !== undefined && maxItems < 10_000) {
    const fill = items.length ? items : [null]
    const many = Array.from({ length: maxItems + 1 }, (_, i) => fill[i % fill.length])
    out.push(fc.constant({ value: many, note: `more than maxItems ${maxItems}` }))
  }
  const allowed = s.enum
  if (Array.isArray(allowed) && allowed.length) {
    const first = allowed.find((v) => typeof v === 'string') as string | undefined
    const outside = [
      first?.toUpperCase(),
      first ? `${first} ` : undefined,
      first ? first.slice(0, -1) : undefined,
      'unknown-value',
    ].filter((v): v is string => v !== undefined && !allowed.includes(v))
    if (outside.length)
      out.push(fc.constantFrom(...outside).map((value) => ({ value, note: 'outside the enum' })))
  }
  if (typeof s.pattern === 'string') {
    const like = typeof base === 'string' && base.length ? base : 'a'
    out.push(
      fc
        .constantFrom(
          like.toUpperCase(),
          ` ${like}`,
          `${like}!`,
          `${like}\n`,
          '-',
          like.replace(/[a-z]/, '_'),
        )
        .map((value) => ({ value, note: `against pattern ${s.pattern as string}` })),
    )
  }
  if (typeof s.format === 'string')
    out.push(fc.constant({ value: `not-a-${s.format}`, note: `not a ${s.format}` }))
  return out
}

/**
 * A boundary value of the schema. `occurrence` rotates through the limits in order, so a budget that
 * visits a site a few times probes each limit once before repeating.
 */
export function boundaryArb(input: Schema, base: unknown, occurrence = 0): fc.Arbitrary<BoundaryValue> {
  const s = flatten(input) ?? {}
  const list = candidates(s, base)
  if (list.length === 0) return fc.constant({ value: base, note: 'no limit' })
  return list[occurrence % list.length]!
}
