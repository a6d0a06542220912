import { describe, expect, it } from 'vitest'
import { formatDuration, isDurationString, parseDuration } from '../../plans/index.js'

describe('durations', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1m30s', 90_000],
    ['1.5s', 1_500],
    [' 2m ', 120_000],
    [250, 250],
  ] as const)('parses %j', (text, ms) => {
    expect(parseDuration(text)).toBe(ms)
  })

  it.each(['10', 'soon', '5 m', '-1s', '1d', ''])('rejects %j with a plain message', (text) => {
    expect(isDurationString(text)).toBe(false)
    expect(() => parseDuration(text)).toThrow(/^invalid duration ".*": expected a number with a unit/)
  })

  it('rejects negative and non-finite milliseconds', () => {
    expect(() => parseDuration(-5)).toThrow(RangeError)
    expect(() => parseDuration(Number.NaN)).toThrow(RangeError)
  })

  it('formats milliseconds back', () => {
    expect([90_000, 500, 3_600_000, 1_500].map(formatDuration)).toEqual(['1m30s', '500ms', '1h', '1500ms'])
  })
})
