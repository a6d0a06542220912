import { describe, expect, it } from 'vitest'
import { checkAssertion, isOperatorObject, toRegExp } from '../../../engine/api/assertions.js'
import type { Selection } from '../../../engine/api/json-select.js'

const present = (value: unknown): Selection => ({ found: true, value })
const missing: Selection = { found: false }

// [actual, assertion, holds]
const table: Array<[Selection, unknown, boolean]> = [
  // plain values mean deep equals, falsy ones included
  [present(0), 0, true],
  [present(false), 0, false],
  [present(''), 0, false],
  [present(null), null, true],
  [missing, null, false],
  [present(false), false, true],
  [present(0), false, false],
  [present({ a: [1, { b: null }] }), { a: [1, { b: null }] }, true],
  [present({ a: 1, b: 2 }), { a: 1 }, false],
  // equals / notEquals
  [present(0), { equals: 0 }, true],
  [present(null), { equals: 0 }, false],
  [present(false), { equals: false }, true],
  [present(undefined), { equals: null }, false],
  [present(null), { equals: null }, true],
  [present({ equals: 1 }), { equals: { equals: 1 } }, true],
  [present(0), { notEquals: null }, true],
  [present(null), { notEquals: null }, false],
  [present(''), { notEquals: 0 }, true],
  [missing, { notEquals: 0 }, false],
  // exists
  [present(null), { exists: true }, true],
  [present(false), { exists: true }, true],
  [missing, { exists: true }, false],
  [missing, { exists: false }, true],
  [present(0), { exists: false }, false],
  // type
  [present(null), { type: 'null' }, true],
  [present(0), { type: 'integer' }, true],
  [present(0.5), { type: 'integer' }, false],
  [present(0.5), { type: 'number' }, true],
  [present([]), { type: 'object' }, false],
  [present([]), { type: 'array' }, true],
  [present(null), { type: ['string', 'null'] }, true],
  [present(false), { type: 'boolean' }, true],
  // matches
  [present('ORD-12'), { matches: '^ORD-\\d+$' }, true],
  [present('ord-12'), { matches: '/^ORD-/i' }, true],
  [present(12), { matches: '^\\d+$' }, true],
  [present(null), { matches: 'null' }, false],
  [present({}), { matches: '.*' }, false],
  // contains
  [present('hello world'), { contains: 'lo w' }, true],
  [present(''), { contains: 'x' }, false],
  [present([0, false, null]), { contains: false }, true],
  [present([1, 2]), { contains: 0 }, false],
  [present([{ sku: 'tea', qty: 2 }]), { contains: { sku: 'tea' } }, true],
  [present([{ sku: 'tea', qty: 2 }]), { contains: { sku: 'coffee' } }, false],
  [present({ a: 1, b: { c: 2, d: 3 } }), { contains: { b: { c: 2 } } }, true],
  // ordering, with zero and negative numbers
  [present(0), { gt: 0 }, false],
  [present(0), { gte: 0 }, true],
  [present(-1), { lt: 0 }, true],
  [present(0), { lte: 0 }, true],
  [present(1), { gt: 0, lt: 2 }, true],
  [present(2), { gt: 0, lt: 2 }, false],
  [present('2024-02-01'), { gt: '2024-01-31' }, true],
  [present('5'), { gt: 1 }, false],
  [present(null), { gte: 0 }, false],
  [present(150), { maxMs: 200 }, true],
  [present(250), { maxMs: 200 }, false],
  // oneOf
  [present(0), { oneOf: [0, 1] }, true],
  [present(false), { oneOf: [0, null] }, false],
  [present(null), { oneOf: [0, null] }, true],
  [present({ a: 1 }), { oneOf: [{ a: 1 }] }, true],
  // length
  [present([]), { length: 0 }, true],
  [present(''), { length: 0 }, true],
  [present('abc'), { length: 2 }, false],
  [present([1, 2, 3]), { length: { gte: 1, lte: 3 } }, true],
  [present({ a: 1 }), { length: 1 }, true],
  [present(5), { length: 1 }, false],
  [missing, { length: 0 }, false],
]

describe('checkAssertion', () => {
  it.each(table)('%j against %j → %s', (actual, assertion, holds) => {
    const failures = checkAssertion(actual, assertion)
    expect(failures.length === 0).toBe(holds)
    for (const f of failures) expect(f.message).toMatch(/^(length: )?expected /)
  })

  it('reports every failing operator with expected and actual', () => {
    const failures = checkAssertion(present(15), { gt: 20, lt: 10, type: 'string' })
    expect(failures.map((f) => [f.operator, f.expected, f.actual])).toEqual([
      ['type', 'string', 15],
      ['gt', 20, 15],
      ['lt', 10, 15],
    ])
    expect(failures[1]!.message).toBe('expected > 20, got 15')
  })

  it('says when a value is missing rather than null', () => {
    expect(checkAssertion(missing, { equals: null })[0]!.message).toBe('expected null, got nothing')
    expect(checkAssertion(present(null), { equals: 0 })[0]!.message).toBe('expected 0, got null')
    expect(checkAssertion(present(1), { exists: false })[0]!.message).toBe('expected nothing, got 1')
  })

  it('tells operator objects from literal objects', () => {
    expect(isOperatorObject({ gt: 1 })).toBe(true)
    expect(isOperatorObject({ gt: 1, name: 'x' })).toBe(false)
    expect(isOperatorObject({})).toBe(false)
    expect(isOperatorObject([])).toBe(false)
    expect(toRegExp('/a.b/s').flags).toBe('s')
  })
})
