import { describe, expect, it } from 'vitest'
import {
  compile,
  escapeToken,
  find,
  get,
  join,
  lastToken,
  parent,
  PointerSyntaxError,
  split,
  unescapeToken,
  uriFragment,
} from '../../plans/pointer.js'
import { selectPointer, SelectorSyntaxError } from '../../engine/api/json-select.js'

describe('JSON pointers (RFC 6901)', () => {
  it('escapes and unescapes tokens, ~ before / (so "~1" stays a literal "~1")', () => {
    expect(escapeToken('a/b~c')).toBe('a~1b~0c')
    expect(escapeToken('~1')).toBe('~01')
    expect(unescapeToken('~01')).toBe('~1')
    expect(unescapeToken('a~1b~0c')).toBe('a/b~c')
    expect(escapeToken('plain')).toBe('plain')
  })

  it('splits, joins and compiles round trip', () => {
    expect(split('')).toEqual([])
    expect(split('/')).toEqual([''])
    expect(split('/paths/~1orders~1{id}/get')).toEqual(['paths', '/orders/{id}', 'get'])
    expect(compile(['paths', '/orders/{id}', 'get'])).toBe('/paths/~1orders~1{id}/get')
    expect(compile([])).toBe('')
    expect(join(join('', 'items'), 3)).toBe('/items/3')
    expect(join('/a', 'x/y')).toBe('/a/x~1y')
    expect(parent('/a/b')).toBe('/a')
    expect(parent('/a')).toBe('')
    expect(lastToken('/a/b~1c')).toBe('b/c')
  })

  it('refuses a pointer that does not start with "/", with a coded error', () => {
    expect(() => split('items/0')).toThrow(PointerSyntaxError)
    expect(() => get({}, 'items')).toThrow('invalid JSON pointer "items": must start with "/"')
    expect(() => split('items')).toThrow(expect.objectContaining({ code: 'VIGIL_POINTER' }))
  })

  it('reads own properties only: the prototype chain is never reached', () => {
    const doc = JSON.parse('{"a":{"b":[10,20]},"__proto__":{"x":1},"n":null}') as unknown
    expect(get(doc, '/a/b/1')).toBe(20)
    expect(find(doc, '/n')).toEqual({ found: true, value: null })
    expect(find(doc, '/missing')).toEqual({ found: false })
    expect(find({}, '/constructor')).toEqual({ found: false })
    expect(find({}, '/toString')).toEqual({ found: false })
    expect(find([1], '/length')).toEqual({ found: false })
    // A key named __proto__ in parsed JSON is an own property, and is found as one.
    expect(get(doc, '/__proto__/x')).toBe(1)
  })

  it('indexes arrays by canonical index only', () => {
    const doc = { items: ['a', 'b'] }
    expect(get(doc, '/items/0')).toBe('a')
    expect(find(doc, '/items/01')).toEqual({ found: false })
    expect(find(doc, '/items/-')).toEqual({ found: false })
    expect(find(doc, '/items/2')).toEqual({ found: false })
    expect(find('text', '/0')).toEqual({ found: false })
  })

  it('writes the URI fragment form $refs use', () => {
    expect(uriFragment('/paths/~1orders~1{id}')).toBe('/paths/~1orders~1%7Bid%7D')
    expect(uriFragment('/a b/~0')).toBe('/a%20b/~0')
  })

  it('is what a check selects with, and a selector error keeps its own code', () => {
    expect(selectPointer({ 'a/b': 1 }, '/a~1b')).toEqual({ found: true, value: 1 })
    expect(() => selectPointer({}, 'a')).toThrow(SelectorSyntaxError)
  })
})
