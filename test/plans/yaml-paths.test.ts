import fc from 'fast-check'
import { parseDocument, stringify } from 'yaml'
import { beforeEach, describe, expect, it } from 'vitest'
import { parseYaml, quickParse } from '../../plans/yaml.js'

/** What the `yaml` package makes of a text: its value, or 'error'. */
function reference(text: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: true })
  return doc.errors.length > 0 ? 'error' : doc.toJS()
}

let taken = 0

/** js-yaml's path must either decline or agree exactly with the `yaml` package. */
function agrees(text: string): boolean {
  const fast = quickParse(text)
  if (fast === undefined) return true
  taken++
  expect(fast.value, JSON.stringify(text)).toStrictEqual(reference(text))
  return true
}

const word = fc.stringMatching(/^[a-z][a-z0-9 /._{}-]{0,10}$/)
const scalar = fc.oneof(
  { arbitrary: word, weight: 8 },
  fc.string({ maxLength: 12 }),
  fc.constantFrom(
    'GET /orders/{{id}}',
    'p(95)<50',
    'rate<0.01',
    'yes',
    'no',
    'on',
    '~',
    'null',
    'True',
    'FALSE',
  ),
  fc.constantFrom(
    '1e3',
    '0x1F',
    '0o17',
    '.inf',
    '-.5',
    '01',
    '+1',
    '1_000',
    '10s',
    '200/s',
    'a: b',
    'a #b',
    '#x',
  ),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
)
const key = fc.oneof(
  { arbitrary: fc.stringMatching(/^[a-z][a-z0-9_-]{0,7}$/), weight: 8 },
  fc.string({ minLength: 1, maxLength: 8 }),
  fc.constantFrom('request', '/id', 'x-key', '200', 'true'),
)
const value = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small' }, scalar, tie('list'), tie('map')),
  list: fc.array(tie('node'), { maxLength: 4 }),
  map: fc.dictionary(key, tie('node'), { maxKeys: 4 }),
})).map

/** The texts `runs` sets of up to three small edits make of `base`, each checked with {@link agrees}. */
function mutate(base: string, runs: number, seed: number): void {
  const edits = fc.array(
    fc.record({
      at: fc.nat(base.length),
      cut: fc.nat(3),
      add: fc.constantFrom(
        '',
        ' ',
        '\n',
        ':',
        '- ',
        '#',
        '"',
        "'",
        '{',
        ']',
        '  ',
        'x: y',
        ', ',
        '|',
        '>',
        '&a ',
        '*a',
        "'#",
        '"#/',
        '/{id}:',
        '}',
      ),
    }),
    { minLength: 1, maxLength: 3 },
  )
  fc.assert(
    fc.property(edits, (list) => {
      let text = base
      for (const e of list) {
        const at = Math.min(e.at, text.length)
        text = text.slice(0, at) + e.add + text.slice(at + e.cut)
      }
      return agrees(text)
    }),
    { numRuns: runs, seed },
  )
}

describe('the js-yaml path reads plans as the yaml package does', () => {
  beforeEach(() => {
    taken = 0
  })

  it('agrees with the yaml package on documents it writes, in block and flow styles', () => {
    fc.assert(
      fc.property(value, fc.boolean(), fc.constantFrom('PLAIN', 'QUOTE_DOUBLE'), (v, flow, strings) => {
        const options = { defaultStringType: strings as 'PLAIN', lineWidth: 0 }
        const text = flow
          ? `root: ${stringify(v, { ...options, collectionStyle: 'flow' }).trimEnd()}\n`
          : stringify(v, { ...options, collectionStyle: 'block' })
        return agrees(text)
      }),
      { numRuns: 400, seed: 42 },
    )
    // The comparison only means something if the js-yaml path takes a good share of the documents.
    expect(taken).toBeGreaterThan(100)
  })

  it('agrees with the yaml package on mutated plan blocks', () => {
    const base = `steps:
  - name: create
    request: { method: POST, path: /orders, json: { items: [{ sku: tea, quantity: 2 }] } }
    headers: { authorization: "Bearer {{secrets.alice}}" }
    expect: { status: 201, json: { /totalCents: { gt: 0 } } }
    capture: { orderId: /id }
  - name: read
    request: GET /orders/{{orderId}}
    note: >
      folded text
      over lines

      and a paragraph
    raw: |-
      literal
        indented
`
    mutate(base, 1500, 7)
    expect(taken).toBeGreaterThan(200)
  })

  it('agrees with the yaml package on a mutated OpenAPI document, which it takes as written', () => {
    const base = `paths:
  /orders/{orderId}:
    get:
      parameters:
        - { name: orderId, in: path, required: true, schema: { type: string } }
      responses:
        '200':
          description: The order, as "placed" or 'paid'.
          content:
            application/json:
              schema: { $ref: '#/components/schemas/Order' }
              example: { id: o-1, items: [{ sku: tea, quantity: 2 }] }
        "404": { $ref: "#/components/responses/NotFound" } # not there
components:
  schemas:
    Order: { type: object, required: [id], properties: { id: { type: string } } }
`
    expect(quickParse(base)).toBeDefined()
    mutate(base, 1500, 11)
    expect(taken).toBeGreaterThan(200)
  })

  it.each([
    ['key: value\nlist:\n- a\n- b\n', { key: 'value', list: ['a', 'b'] }],
    ['a: >\n  one\n  two\n\n  three\n', { a: 'one two\nthree\n' }],
    ['a: |-\n  x\n   y\n', { a: 'x\n y' }],
    ["q: 'it''s' # note\n", { q: "it's" }],
    ['u: http://x:80/y\nn: 1.25\nt: 10s\n', { u: 'http://x:80/y', n: 1.25, t: '10s' }],
  ])('parses %j', (text, expected) => {
    expect(quickParse(text)?.value).toEqual(expected)
    expect(reference(text)).toEqual(expected)
  })

  it.each([
    'a: &x [1]\nb: *x\n',
    'a: !tag x\n',
    'a: b\na: c\n',
    '---\na: 1\n---\nb: 2\n',
    '',
    '[a, b]: x\n',
    '{a: 1}: x\n',
    '? [a]\n: x\n',
    '~: x\n',
    'map: { null: 1 }\n',
    'a: { b: 1,\nc: 2 }\n',
    'steps:\n  - request: { method: POST,\n      path: /orders }\n',
    'a: "x"#c\n',
    "a: 'x '#c\n",
    "- a: 'it''s'#x\n",
    "k: [a, 'b'#c]\n",
    'k: "a\\"#"#c\n',
  ])('leaves %j to the yaml package', (text) => {
    expect(quickParse(text)).toBeUndefined()
  })

  it('reads YAML 1.2 core: what YAML 1.1 or js-yaml’s own schema would change stays as plans always meant', () => {
    const text = [
      'a: yes',
      'b: no',
      'c: on',
      'd: off',
      'e: y',
      'f: 2024-01-01',
      'g: 0b101',
      'h: -.5',
      'i: 0x1F',
      'j: 0o17',
      'k: 1_000',
      'l: .inf',
      'm: ~',
      'n: True',
      'o: 012',
      'p: +12',
      '<<: merge',
      '',
    ].join('\n')
    const expected = {
      a: 'yes',
      b: 'no',
      c: 'on',
      d: 'off',
      e: 'y',
      f: '2024-01-01',
      g: '0b101',
      h: -0.5,
      i: 31,
      j: 15,
      k: '1_000',
      l: Infinity,
      m: null,
      n: true,
      o: 12,
      p: 12,
      '<<': 'merge',
    }
    expect(quickParse(text)?.value).toStrictEqual(expected)
    expect(parseYaml(text).value).toStrictEqual(expected)
    expect(reference(text)).toStrictEqual(expected)
  })
})
