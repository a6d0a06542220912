/**
 * The class of a JSON value, for comparing values that are expected to differ (learned noise: generated
 * ids, timestamps, tokens). Two such values are never compared for equality, but a release that turns
 * 4-character hex ids into 11-character base64url ones, or integer ids into strings, changed something a
 * caller may depend on. A value's class is its JSON type and, within it:
 *
 * - numbers: `integer` (a whole number) or `number` (any other);
 * - strings: the first format of {@link STRING_FORMATS} it belongs to, in this order of precedence (the
 *   narrowest first): `uuid`, `date-time` (RFC 3339, also with a space and without seconds or offset),
 *   `date`, `email`, `url` (a scheme and `://`), `decimal` (digits), `hex`, `base64url` (letters, digits,
 *   `-`, `_`), `base64` (padded to a multiple of 4), `text` (anything);
 * - strings of the formats without a fixed shape (`decimal`, `hex`, `base64url`, `base64`, `text`): a
 *   length band (lengths in UTF-16 code units: characters, for the ASCII of ids and tokens).
 *
 * A set of baseline values has a profile: its JSON types, `integer` if every number is one, the narrowest
 * format that holds every string (not the format of each: ids `"0042"` and `"a3f9"` are both `hex`), and
 * the range of their lengths. A candidate value keeps the class when its type is one of the profile's,
 * it is an integer where every baseline number was one, its string is in the profile's format, and its
 * length lies in the band `ceil(min / 2) … max × 2` — so a counter that grows from 9999 to 10000 keeps its
 * band, and a 4-character id that becomes 11 characters long leaves it.
 */
import { jsonType } from '../values.js'

export type StringFormat =
  'uuid' | 'date-time' | 'date' | 'email' | 'url' | 'decimal' | 'hex' | 'base64url' | 'base64' | 'text'

/** String formats, narrowest first: a string's format is the first whose test it passes. */
export const STRING_FORMATS: ReadonlyArray<{ format: StringFormat; test: RegExp; banded: boolean }> = [
  {
    format: 'uuid',
    test: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
    banded: false,
  },
  {
    // RFC 3339 / ISO 8601: a date, a time to the minute at least, an optional fraction and offset.
    format: 'date-time',
    test: /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:[Zz]|[+-]\d{2}(?::?\d{2})?)?$/,
    banded: false,
  },
  { format: 'date', test: /^\d{4}-\d{2}-\d{2}$/, banded: false },
  { format: 'email', test: /^[^\s@]+@[^\s@]+\.[^\s@]+$/, banded: false },
  { format: 'url', test: /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s]+$/, banded: false },
  { format: 'decimal', test: /^[0-9]+$/, banded: true },
  { format: 'hex', test: /^[0-9a-fA-F]+$/, banded: true },
  { format: 'base64url', test: /^[A-Za-z0-9_-]+$/, banded: true },
  // Standard base64 as encoders write it: padded to a multiple of 4 characters.
  { format: 'base64', test: /^(?=(?:.{4})+$)[A-Za-z0-9+/]+={0,2}$/, banded: true },
  { format: 'text', test: /^/, banded: true },
]

const BY_FORMAT = new Map(STRING_FORMATS.map((f) => [f.format, f]))

/** A string's format: the narrowest that holds it. */
export function stringFormat(value: string): StringFormat {
  return STRING_FORMATS.find((f) => f.test.test(value))!.format
}

/** What a set of values has in common. */
export interface ValueProfile {
  /** JSON types seen (`null`, `boolean`, `number`, `string`, `array`, `object`), sorted. */
  types: string[]
  /** `integer` when every number seen is whole. */
  number?: 'integer' | 'number'
  /** The narrowest format holding every string, and the strings' length range. */
  string?: { format: StringFormat; minLength: number; maxLength: number }
}

/**
 * Builds a profile value by value, in one pass: the format only moves to a wider one when a string does
 * not fit, and is then checked against the strings seen before (at most once per format).
 */
export class ProfileBuilder {
  private readonly types = new Set<string>()
  private integer = true
  private numbers = 0
  private readonly strings: string[] = []
  private format = 0
  private minLength = Infinity
  private maxLength = 0

  add(value: unknown): void {
    if (typeof value === 'string') {
      this.types.add('string')
      const n = value.length
      if (n < this.minLength) this.minLength = n
      if (n > this.maxLength) this.maxLength = n
      if (!STRING_FORMATS[this.format]!.test.test(value)) this.widen(value)
      this.strings.push(value)
      return
    }
    this.types.add(jsonType(value))
    if (typeof value === 'number') {
      this.numbers++
      if (this.integer && !Number.isInteger(value)) this.integer = false
    }
  }

  private widen(value: string): void {
    for (let f = this.format + 1; f < STRING_FORMATS.length; f++) {
      const test = STRING_FORMATS[f]!.test
      if (test.test(value) && this.strings.every((s) => test.test(s))) {
        this.format = f
        return
      }
    }
  }

  get empty(): boolean {
    return this.types.size === 0
  }

  profile(): ValueProfile {
    const profile: ValueProfile = { types: [...this.types].sort() }
    if (this.numbers) profile.number = this.integer ? 'integer' : 'number'
    if (this.strings.length)
      profile.string = {
        format: STRING_FORMATS[this.format]!.format,
        minLength: this.minLength,
        maxLength: this.maxLength,
      }
    return profile
  }
}

/** The profile of a non-empty set of values (e.g. every baseline sample at one place). */
export function profileOf(values: readonly unknown[]): ValueProfile {
  const builder = new ProfileBuilder()
  for (const value of values) builder.add(value)
  return builder.profile()
}

/** How a value leaves a profile: its JSON type, its number class, its string format or length band. */
export type ClassChangeKind = 'type' | 'number' | 'format' | 'length'

export interface ClassChange {
  kind: ClassChangeKind
  /** The profile in words: `a hex string of 4 characters`. */
  baseline: string
  /** The value's class in words: `a base64url string of 11 characters`. */
  candidate: string
}

/** Undefined when `value` has the profile's class; else how it differs. */
export function classChange(profile: ValueProfile, value: unknown): ClassChange | undefined {
  const type = jsonType(value)
  const change = (kind: ClassChangeKind): ClassChange => ({
    kind,
    baseline: describeProfile(profile),
    candidate: describeClass(value),
  })
  if (!profile.types.includes(type)) return change('type')
  if (typeof value === 'number' && profile.number === 'integer' && !Number.isInteger(value))
    return change('number')
  if (typeof value === 'string' && profile.string) {
    const { format, minLength, maxLength } = profile.string
    const spec = BY_FORMAT.get(format)!
    if (!spec.test.test(value)) return change('format')
    const n = value.length
    if (spec.banded && (n < Math.ceil(minLength / 2) || n > maxLength * 2)) return change('length')
  }
  return undefined
}

/** `a hex string of 4 characters`, `an integer`, `a uuid string or null`. */
export function describeProfile(profile: ValueProfile): string {
  const parts = profile.types.map((type) => {
    if (type === 'number') return profile.number === 'integer' ? 'an integer' : 'a number'
    if (type === 'string' && profile.string) {
      const { format, minLength, maxLength } = profile.string
      return stringWords(format, minLength, maxLength)
    }
    return type === 'null' ? 'null' : `${type === 'array' || type === 'object' ? 'an' : 'a'} ${type}`
  })
  return parts.join(' or ')
}

/** The class of one value in words. */
export function describeClass(value: unknown): string {
  if (typeof value === 'string') return stringWords(stringFormat(value), value.length, value.length)
  return describeProfile(profileOf([value]))
}

function stringWords(format: StringFormat, min: number, max: number): string {
  const article = format === 'email' ? 'an' : 'a'
  const name = format === 'text' ? 'string' : `${format} string`
  if (!BY_FORMAT.get(format)!.banded) return `${article} ${name}`
  const size = min === max ? `${min}` : `${min}–${max}`
  return `${article} ${name} of ${size} character${max === 1 ? '' : 's'}`
}
