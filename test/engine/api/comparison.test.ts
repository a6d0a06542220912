/**
 * The shared comparison module: format classes and their precedence, profiles of baseline samples,
 * class changes at noisy places (with removals), and declared status transitions.
 */
import { describe, expect, it } from 'vitest'
import {
  classChange,
  describeClass,
  describeProfile,
  profileOf,
  stringFormat,
  type StringFormat,
} from '../../../engine/api/comparison/format-class.js'
import { noiseClassChanges, valueClassChange } from '../../../engine/api/comparison/noise-class.js'
import {
  acceptanceYaml,
  acceptedTransition,
  parseTransition,
} from '../../../engine/api/comparison/status-transitions.js'

describe('string formats, narrowest first', () => {
  const cases: Array<[string, StringFormat]> = [
    ['3f2504e0-4f89-11d3-9a0c-0305e82c3301', 'uuid'],
    ['3F2504E0-4F89-11D3-9A0C-0305E82C3301', 'uuid'],
    ['2030-01-02T03:04:05Z', 'date-time'],
    ['2030-01-02T03:04:05.123+02:00', 'date-time'],
    ['2030-01-02 03:04', 'date-time'],
    ['2030-01-02', 'date'],
    ['ada@example.com', 'email'],
    ['https://example.com/a?b=c', 'url'],
    ['s3://bucket/key', 'url'],
    // Digits are hex and base64url too: the narrowest wins.
    ['0042', 'decimal'],
    ['a3f9', 'hex'],
    ['A3F9', 'hex'],
    ['Xk3_9aQ-bZ1', 'base64url'],
    ['abcXYZ', 'base64url'],
    ['ab+c/d==', 'base64'],
    ['ab+c/d=', 'text'],
    ['hello world', 'text'],
    ['', 'text'],
    // A uuid without dashes is hex; a date with slashes is text.
    ['3f2504e04f8911d39a0c0305e82c3301', 'hex'],
    ['02/01/2030', 'text'],
  ]
  it.each(cases)('%j is %s', (value, format) => {
    expect(stringFormat(value)).toBe(format)
  })
})

describe('profiles of baseline samples', () => {
  it('take the narrowest format holding every sample, not the format of each', () => {
    expect(profileOf(['0042', 'a3f9'])).toEqual({
      types: ['string'],
      string: { format: 'hex', minLength: 4, maxLength: 4 },
    })
    expect(profileOf(['3f2504e0-4f89-11d3-9a0c-0305e82c3301', 'Xk3_9aQ-bZ1']).string?.format).toBe(
      'base64url',
    )
    expect(profileOf(['2030-01-02', 'ab cd']).string?.format).toBe('text')
  })

  it('keep every JSON type, and integer only when every number is whole', () => {
    expect(profileOf([1, 2, null])).toEqual({ types: ['null', 'number'], number: 'integer' })
    expect(profileOf([1, 2.5]).number).toBe('number')
    expect(describeProfile(profileOf(['a3f9', null]))).toBe('null or a hex string of 4 characters')
  })

  it('describe a class in words', () => {
    expect(describeClass('Xk3_9aQ-bZ1')).toBe('a base64url string of 11 characters')
    expect(describeClass('2030-01-02T03:04:05Z')).toBe('a date-time string')
    expect(describeClass(7)).toBe('an integer')
    expect(describeClass(7.5)).toBe('a number')
    expect(describeClass('é')).toBe('a string of 1 character')
    expect(describeProfile(profileOf(['12', '123456']))).toBe('a decimal string of 2–6 characters')
  })
})

describe('a candidate value against the baseline profile', () => {
  const cases: Array<{ name: string; baseline: unknown[]; candidate: unknown; change?: string }> = [
    { name: 'hex → base64url', baseline: ['a3f9', '0b1c'], candidate: 'Xk3_9aQ-bZ1', change: 'format' },
    { name: 'hex → hex', baseline: ['a3f9', '0b1c'], candidate: 'ffee' },
    { name: 'hex that happens to be digits', baseline: ['a3f9', '0b1c'], candidate: '1234' },
    { name: 'counter 9999 → 10000 stays in band', baseline: ['9998', '9999'], candidate: '10000' },
    {
      name: '4 hex → 9 hex leaves the band',
      baseline: ['a3f9', '0b1c'],
      candidate: 'a3f90b1c7',
      change: 'length',
    },
    { name: '8 → 4 characters is in band', baseline: ['a3f90b1c'], candidate: 'a3f9' },
    { name: '8 → 3 characters is not', baseline: ['a3f90b1c'], candidate: 'a3f', change: 'length' },
    {
      name: 'uuid → uuid',
      baseline: ['3f2504e0-4f89-11d3-9a0c-0305e82c3301'],
      candidate: '3f2504e0-4f89-11d3-9a0c-0305e82c3302',
    },
    {
      name: 'uuid → decimal',
      baseline: ['3f2504e0-4f89-11d3-9a0c-0305e82c3301'],
      candidate: '42',
      change: 'format',
    },
    {
      name: 'date-time has no length band',
      baseline: ['2030-01-02T03:04:05Z'],
      candidate: '2030-01-02T03:04:05.123456+02:00',
    },
    {
      name: 'date-time → epoch seconds string',
      baseline: ['2030-01-02T03:04:05Z'],
      candidate: '1893553445',
      change: 'format',
    },
    { name: 'integer → fraction', baseline: [1, 2], candidate: 2.5, change: 'number' },
    { name: 'number → integer is fine', baseline: [1.5, 2], candidate: 3 },
    { name: 'integer → string', baseline: [1, 2], candidate: '3', change: 'type' },
    { name: 'string → null', baseline: ['a3f9', '0b1c'], candidate: null, change: 'type' },
    { name: 'null was seen in the baseline', baseline: ['a3f9', null], candidate: null },
    {
      name: 'free text keeps a band',
      baseline: ['all fine', 'ok then'],
      candidate: 'a much longer sentence than before',
      change: 'length',
    },
  ]
  it.each(cases)('$name', ({ baseline, candidate, change }) => {
    expect(classChange(profileOf(baseline), candidate)?.kind).toBe(change)
  })
})

describe('noise class changes in documents', () => {
  const b1 = {
    id: 'a3f9',
    items: [
      { ref: 1, at: '2030-01-01' },
      { ref: 2, at: '2030-01-02' },
    ],
  }
  const b2 = { id: '0b1c', items: [{ ref: 3, at: '2030-01-03' }] }

  it('groups the candidate places that left the class, with the first pointer and a count', () => {
    const candidate = { id: 'Xk3_9aQ-bZ1', items: [{ ref: 4 }, { ref: 'five' }, { ref: 'six', at: 5 }] }
    const changes = noiseClassChanges([b1, b2], candidate, ['/id', '/items/*/ref', '/items/*/at'])
    expect(changes.map((c) => [c.kind, c.path, c.pointer, c.count, c.to])).toEqual([
      ['format', '/id', '/id', 1, 'a base64url string of 11 characters'],
      // Every baseline item has `at`: the candidate's items that lack it lost it.
      ['removed', '/items/*/at', '/items/0/at', 2, 'nothing'],
      ['type', '/items/*/at', '/items/2/at', 1, 'an integer'],
      ['type', '/items/*/ref', '/items/1/ref', 2, 'a base64url string of 4 characters'],
    ])
    expect(changes[0]!.from).toBe('a hex string of 4 characters')
  })

  it('a field some baseline samples lack is optional: its absence is no removal', () => {
    expect(noiseClassChanges([{ n: 1 }, {}], {}, ['/n'])).toEqual([])
    expect(noiseClassChanges([{ n: 1 }, { n: 2 }], {}, ['/n'])[0]?.kind).toBe('removed')
  })

  it('a place with no baseline value, or no candidate parent, says nothing', () => {
    expect(noiseClassChanges([{ a: [] }], { a: [{ x: 1 }] }, ['/a/*/x'])).toEqual([])
    expect(noiseClassChanges([{ a: { x: 1 } }], {}, ['/a/x'])).toEqual([])
  })

  it('one value per sample (a header)', () => {
    expect(valueClassChange(['W/"a3f9"', 'W/"0b1c"'], 'W/"ffee"')).toBeUndefined()
    expect(valueClassChange(['a3f9', '0b1c'], undefined)?.kind).toBe('removed')
    expect(valueClassChange(['a3f9', undefined], undefined)).toBeUndefined()
    expect(valueClassChange(['a3f9', '0b1c'], '3f2504e0-4f89-11d3-9a0c-0305e82c3301')).toMatchObject({
      kind: 'format',
      from: 'a hex string of 4 characters',
      to: 'a uuid string',
    })
  })
})

describe('declared status transitions', () => {
  it('parse codes and classes, any case, spaces around the arrow', () => {
    expect(parseTransition('404->400')).toEqual({ from: '404', to: '400', text: '404->400' })
    expect(parseTransition(' 5xx -> 503 ')).toEqual({ from: '5XX', to: '503', text: '5xx -> 503' })
    for (const bad of ['404-400', '404=>400', '4044->400', '600->400', '404->', 'x->400', '4x->400'])
      expect(parseTransition(bad), bad).toBeUndefined()
  })

  it('accept exactly the declared changes', () => {
    const declared = ['404->400', '5xx->503'].map((t) => parseTransition(t)!)
    expect(acceptedTransition(declared, 404, 400)?.text).toBe('404->400')
    expect(acceptedTransition(declared, 400, 404)).toBeUndefined()
    expect(acceptedTransition(declared, 404, 422)).toBeUndefined()
    expect(acceptedTransition(declared, 502, 503)?.text).toBe('5xx->503')
    expect(acceptedTransition(declared, 502, 500)).toBeUndefined()
  })

  it('say the YAML that accepts a change', () => {
    expect(acceptanceYaml(404, 400)).toBe("compare: { allowStatus: ['404->400'] }")
    expect(acceptanceYaml(404, 422, { declared: [parseTransition('404->400')!], mapping: true })).toBe(
      "allowStatus: ['404->400', '404->422']",
    )
  })
})
