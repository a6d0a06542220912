import { describe, expect, it } from 'vitest'
import { isDefinitePath, queryJsonPath, select, selectPointer } from '../../../engine/api/json-select.js'

const doc = {
  id: 'o-1',
  total: 0,
  paid: false,
  note: null,
  'a/b': 1,
  'm~n': 2,
  items: [
    { sku: 'tea', qty: 2, price: 3 },
    { sku: 'cake', qty: 0, price: 5, extra: { sku: 'inner' } },
  ],
}

describe('JSON pointer', () => {
  it.each([
    ['', doc],
    ['/id', 'o-1'],
    ['/total', 0],
    ['/paid', false],
    ['/note', null],
    ['/a~1b', 1],
    ['/m~0n', 2],
    ['/items/1/sku', 'cake'],
  ])('%s', (pointer, value) => {
    expect(selectPointer(doc, pointer)).toEqual({ found: true, value })
  })

  it.each(['/missing', '/items/2', '/items/01', '/items/-1', '/id/x', '/note/x'])(
    '%s is not found',
    (pointer) => {
      expect(selectPointer(doc, pointer)).toEqual({ found: false })
    },
  )

  it('rejects a pointer without a leading slash', () => {
    expect(() => selectPointer(doc, 'id')).toThrow(/must start with "\/"/)
  })
})

describe('JSONPath', () => {
  it.each([
    ['$.id', 'o-1'],
    ['$.total', 0],
    ['$.note', null],
    ["$['a/b']", 1],
    ['$.items[0].sku', 'tea'],
    ['$.items[-1].sku', 'cake'],
  ])('definite %s', (path, value) => {
    expect(isDefinitePath(path)).toBe(true)
    expect(select(doc, path)).toEqual({ found: true, value })
  })

  it.each([
    ['$.items[*].sku', ['tea', 'cake']],
    ['$..sku', ['tea', 'cake', 'inner']],
    ["$.items[?(@.sku == 'cake')].qty", [0]],
    ['$.items[?(@.qty > 0)].sku', ['tea']],
    ['$.items[?(@.extra)].sku', ['cake']],
    ['$.items[?(@.extra.sku != "x")].price', [5]],
    ['$.nothing[*]', []],
  ])('indefinite %s gives every match', (path, values) => {
    expect(queryJsonPath(doc, path)).toEqual(values)
    expect(select(doc, path)).toEqual({ found: true, value: values })
  })

  it('reports a missing definite path as not found', () => {
    expect(select(doc, '$.items[5].sku')).toEqual({ found: false })
  })

  it.each(['$.', '$[', '$.items[?(foo)]', 'items'])('rejects malformed %s', (path) => {
    expect(() => queryJsonPath(doc, path)).toThrow(/JSONPath/)
  })
})
