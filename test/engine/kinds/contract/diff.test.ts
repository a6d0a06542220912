import { describe, expect, it } from 'vitest'
import { diffJson } from '../../../../engine/api/comparison/diff.js'
import { PointerMatcher } from '../../../../engine/api/comparison/ignore.js'
import { renameTarget, similarNames } from '../../../../engine/api/comparison/rename.js'

const brief = (groups: ReturnType<typeof diffJson>) => groups.map((g) => [g.kind, g.path, g.count])

describe('diffJson', () => {
  it('finds nothing between equal documents parsed separately', () => {
    const text = JSON.stringify({ a: [1, { b: null, c: 'x' }], d: { e: true } })
    expect(diffJson(JSON.parse(text), JSON.parse(text))).toEqual([])
  })

  it('classifies removed, added, type, value and length differences with generalised paths', () => {
    const baseline = {
      a: 1,
      b: 'x',
      list: [
        { id: 1, n: 1 },
        { id: 2, n: 2 },
      ],
      obj: [1],
      gone: true,
    }
    const candidate = { a: '1', b: 'y', list: [{ id: 1 }, { id: 2 }, { id: 3 }], obj: { x: 1 }, extra: 0 }
    expect(brief(diffJson(baseline, candidate))).toEqual([
      ['type', '/a', 1],
      ['value', '/b', 1],
      ['removed', '/list/*/n', 2],
      ['length', '/list', 1],
      ['type', '/obj', 1],
      ['removed', '/gone', 1],
      ['added', '/extra', 1],
    ])
  })

  it('keeps concrete examples, escaping keys as JSON pointers', () => {
    const [group] = diffJson({ 'a/b': { '~k': 1 } }, { 'a/b': { '~k': 2 } })
    expect(group!.examples).toEqual([{ pointer: '/a~1b/~0k', baseline: 1, candidate: 2 }])
  })

  it('bounds examples per group while counting every place', () => {
    const baseline = { items: Array.from({ length: 100 }, (_, i) => ({ i, v: 1 })) }
    const candidate = { items: Array.from({ length: 100 }, (_, i) => ({ i })) }
    const [group] = diffJson(baseline, candidate, { examples: 2 })
    expect(group!.count).toBe(100)
    expect(group!.examples.map((e) => e.pointer)).toEqual(['/items/0/v', '/items/1/v'])
  })

  it('skips ignored subtrees, also for removed and added fields', () => {
    const ignore = new PointerMatcher(['/**/id', '/meta'])
    const groups = diffJson(
      { id: 1, meta: { a: 1 }, x: [{ id: 1 }] },
      { id: 2, x: [{ id: 3 }], meta: { b: 2 } },
      { ignore },
    )
    expect(groups).toEqual([])
  })

  it('with ignoreOrder, matches equal elements anywhere and diffs the rest in order', () => {
    const baseline = {
      items: [
        { sku: 'a', n: 1 },
        { sku: 'b', n: 2 },
        { sku: 'c', n: 3 },
      ],
    }
    const candidate = {
      items: [
        { sku: 'c', n: 3 },
        { sku: 'a', n: 1 },
        { sku: 'b', n: 9 },
      ],
    }
    expect(diffJson(baseline, candidate)).toHaveLength(2)
    const groups = diffJson(baseline, candidate, { ignoreOrder: true })
    expect(groups.map((g) => [g.kind, g.examples[0]])).toEqual([
      ['value', { pointer: '/items/1/n', baseline: 2, candidate: 9 }],
    ])
  })

  it('with ignoreOrder, ignored fields do not prevent elements from matching', () => {
    const ignore = new PointerMatcher(['/items/*/at'])
    const baseline = {
      items: [
        { sku: 'a', at: 1 },
        { sku: 'b', at: 2 },
      ],
    }
    const candidate = {
      items: [
        { sku: 'b', at: 7 },
        { sku: 'a', at: 8 },
      ],
    }
    expect(diffJson(baseline, candidate, { ignoreOrder: true, ignore })).toEqual([])
  })
})

describe('PointerMatcher', () => {
  it.each([
    ['/**/id', '/id', true],
    ['/**/id', '/a/3/id', true],
    ['/**/id', '/a/idx', false],
    ['/generatedAt', '/generatedAt', true],
    ['/generatedAt', '/meta/generatedAt', false],
    ['/items/*/createdAt', '/items/12/createdAt', true],
    ['/items/*/createdAt', '/items/12/updatedAt', false],
    ['/items/0/x', '/items/1/x', false],
    ['/items/0/x', '/items/0/x', true],
    ['createdAt', '/a/b/createdAt', true],
    ['/meta', '/meta/deep/below', true],
    ['/x-*', '/x-trace', true],
    ['/x-*', '/y-trace', false],
  ])('%s matches %s: %s', (pattern, pointer, expected) => {
    expect(new PointerMatcher([pattern]).matches(pointer)).toBe(expected)
  })
})

describe('rename detection', () => {
  it('pairs a removed field with an added sibling of similar name and the same type', () => {
    const groups = diffJson({ totalCents: 5, other: 1 }, { total_cents: 5, other: 1, totalPrice: '5' })
    const removed = groups.find((g) => g.kind === 'removed')!
    expect(renameTarget(removed, groups)?.path).toBe('/total_cents')
  })

  it('does not pair fields of another type or another parent', () => {
    const groups = diffJson({ a: { totalCents: 5 } }, { a: { total_cents: '5' }, totalCents: 5 })
    const removed = groups.find((g) => g.kind === 'removed')!
    expect(renameTarget(removed, groups)).toBeUndefined()
  })

  it.each([
    ['totalCents', 'total_cents', true],
    ['createdAt', 'created-at', true],
    ['quantity', 'quantities', false],
    ['id', 'ip', false],
    ['description', 'descripton', true],
  ])('%s ~ %s: %s', (a, b, expected) => {
    expect(similarNames(a, b)).toBe(expected)
  })
})
