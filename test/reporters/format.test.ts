import { describe, expect, it } from 'vitest'
import {
  describeCounts,
  findingFacts,
  formatDuration,
  formatLocation,
  formatSeconds,
  limitLines,
  problems,
  tailLines,
  truncate,
  verdictLine,
  visibleControls,
} from '../../reporters/format.js'
import { verdict } from './fixture.js'

describe('format helpers', () => {
  it.each([
    [0, '0ms'],
    [849.6, '850ms'],
    [1250, '1.25s'],
    [12_345, '12.3s'],
    [125_000, '2m05s'],
    [3_720_000, '1h02m'],
    [-1, '-'],
    [Number.NaN, '-'],
  ])('formatDuration(%s) = %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text)
  })

  it('formats seconds, locations and counts', () => {
    expect(formatSeconds(1234)).toBe('1.234')
    expect(formatSeconds(-5)).toBe('0.000')
    expect(formatLocation({ file: 'plans/a.md', line: 3, column: 7 })).toBe('plans/a.md:3:7')
    expect(formatLocation({ file: 'plans/a.md', column: 7 })).toBe('plans/a.md')
    expect(
      describeCounts({ total: 0, passed: 0, failed: 0, errored: 0, skipped: 0, warned: 0 }, 'check'),
    ).toBe('0 checks')
    expect(
      describeCounts({ total: 1, passed: 1, failed: 0, errored: 0, skipped: 0, warned: 0 }, 'plan'),
    ).toBe('1 plan: 1 passed')
  })

  it('cuts long text and long logs, saying how much was left out', () => {
    expect(truncate('abcdef', 3)).toBe('abc… (3 more characters)')
    expect(limitLines('a\r\nb\nc\n', 2)).toEqual(['a', 'b', '… (1 more lines)'])
    expect(tailLines(['1', '2', '3'], 2)).toEqual(['… (1 earlier lines)', '2', '3'])
  })

  it('makes control characters visible, keeping tabs and newlines', () => {
    expect(visibleControls('a\x1b[2Jb\tc\r\nd\re\u009b')).toBe('a\\u001b[2Jb\tc\nd\\u000de\\u009b')
  })

  it('lists problems by plan name, a non-blocking failure as a warning', () => {
    expect(problems(verdict).map((p) => [p.plan.name, p.result.check, p.warning])).toEqual([
      ['checkout-order', 'create order', false],
      ['payments-load', 'authorise p95', false],
      ['search-ranking', 'top result is exact match', true],
    ])
  })

  it('marks a cancelled run in the verdict line', () => {
    expect(verdictLine({ ...verdict, cancelled: true })).toMatch(/exit 2 \(cancelled: results are partial\)$/)
  })
})

describe('findingFacts of a partial finding', () => {
  it('says its comparison was cut short', () => {
    expect(findingFacts({ message: 'm', severity: 'error', partial: true })).toEqual([
      ['partial', 'its comparison was cut short by its deadline'],
    ])
    expect(findingFacts({ message: 'm', severity: 'error' })).toEqual([])
  })
})
