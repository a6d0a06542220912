/**
 * Case generation without a network: reproducible from (seed, index) alone, judged valid or invalid by
 * ajv (an extra field the schema allows is not "invalid"), kinds rotating over the sites; and the
 * no-leak oracle's detection, which ignores what the request itself sent.
 */
import { describe, expect, it } from 'vitest'
import {
  CaseGenerator,
  buildCase,
  prepareBase,
  type Base,
} from '../../../../engine/kinds/adversarial/cases.js'
import { findLeak, sentStrings } from '../../../../engine/kinds/adversarial/leaks.js'
import { validatorFor, type Schema } from '../../../../engine/kinds/adversarial/schemas.js'
import type { Target } from '../../../../engine/kinds/adversarial/targets.js'
import { Redactor } from '../../../../engine/http/redact.js'

function target(schema: Schema, example: unknown): Target {
  return {
    id: 'create',
    method: 'POST',
    path: '/things',
    params: [],
    headers: {},
    auth: false,
    body: {
      mediaTypes: ['application/json'],
      encoding: 'json',
      contentType: 'application/json',
      schema,
      validate: validatorFor(schema, 'draft-07', 'test'),
      example,
      required: true,
    },
  }
}
const strict: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'count'],
  properties: { name: { type: 'string', maxLength: 8 }, count: { type: 'integer', minimum: 1, maximum: 5 } },
}
const base = (schema: Schema): Base => prepareBase(target(schema, { name: 'a', count: 2 }), (v) => v, 1, {})

describe('case generation', () => {
  it('regenerates any case from the seed and its index alone', () => {
    const one = new CaseGenerator([base(strict)], 99, 1024 * 1024)
    const two = new CaseGenerator([base(strict)], 99, 1024 * 1024)
    const indices = [0, 1, 17, 250, 4999]
    const render = (g: CaseGenerator, i: number) => JSON.stringify({ ...g.generate(i), target: undefined })
    expect(indices.map((i) => render(two, i))).toEqual(indices.map((i) => render(one, i)))
    // Out of order and alone, the same.
    expect(render(new CaseGenerator([base(strict)], 99, 1024 * 1024), 250)).toBe(render(one, 250))
    const other = new CaseGenerator([base(strict)], 100, 1024 * 1024)
    expect(Array.from({ length: 40 }, (_, i) => render(other, i))).not.toEqual(
      Array.from({ length: 40 }, (_, i) => render(one, i)),
    )
  })

  it('visits every mutation kind that applies, in turn', () => {
    const generator = new CaseGenerator([base(strict)], 5, 1024 * 1024)
    const kinds = generator.categories.map((c) => c.kind)
    expect(kinds).toEqual([
      'valid',
      'wrong-type',
      'missing-required',
      'extra-field',
      'boundary',
      'empty',
      'oversized',
      'huge-number',
      'deep-nesting',
      'malformed-json',
      'wrong-content-type',
      'unicode',
      'injection',
    ])
    // After the sweep (injections on every string site), sampling visits each kind in turn.
    const from = generator.sweep.length
    expect(Array.from({ length: kinds.length }, (_, i) => generator.generate(from + i).kind)).toEqual(kinds)
  })

  it('judges validity with the schema: an extra field is invalid only where the schema forbids it', () => {
    const extra = {
      kind: 'extra-field' as const,
      change: { on: 'body-keys' as const, pointer: '', keys: { debug: true } },
      description: 'x',
    }
    expect(buildCase(base(strict), 0, extra).invalid).toBe(true)
    const open = { ...strict, additionalProperties: true }
    expect(buildCase(base(open), 0, extra).invalid).toBe(false)
    const below = {
      kind: 'boundary' as const,
      change: { on: 'body' as const, pointer: '/count', value: 0 },
      description: 'x',
    }
    expect(buildCase(base(strict), 0, below).invalid).toBe(true)
    const atMax = {
      kind: 'boundary' as const,
      change: { on: 'body' as const, pointer: '/count', value: 5 },
      description: 'x',
    }
    expect(buildCase(base(strict), 0, atMax).invalid).toBe(false)
    const control = buildCase(base(strict), -1)
    expect([control.kind, control.invalid, control.request.body]).toEqual([
      'control',
      false,
      '{"name":"a","count":2}',
    ])
  })

  it('keeps bodies within maxBodyBytes and marks oversized cases', () => {
    const generator = new CaseGenerator([base(strict)], 3, 256 * 1024)
    const cases = Array.from({ length: 13 * 6 }, (_, i) => generator.generate(i))
    for (const c of cases) expect(Buffer.byteLength(c.request.body ?? '')).toBeLessThanOrEqual(256 * 1024)
    const oversized = cases.filter((c) => c.kind === 'oversized')
    expect(oversized.length).toBeGreaterThan(0)
    expect(oversized.every((c) => c.oversized && c.invalid === true)).toBe(true)
  })

  it('sends a long body as the bytes of its JSON text, encoded once', () => {
    const generator = new CaseGenerator([base(strict)], 3, 256 * 1024)
    const cases = Array.from({ length: 13 * 12 }, (_, i) => generator.generate(i))
    const long = cases.filter((c) => c.kind === 'oversized' || c.kind === 'deep-nesting')
    expect(long.length).toBeGreaterThan(0)
    expect(long.some((c) => Buffer.isBuffer(c.request.body))).toBe(true)
    for (const c of long) {
      const text = String(c.request.body)
      // Bytes only past 64 KiB: a shorter body stays a string.
      expect(Buffer.isBuffer(c.request.body)).toBe(text.length > 64 * 1024)
      const n = Number(/(\d+)(?:-character| characters| levels)/.exec(c.description)![1])
      if (c.kind === 'oversized') {
        const strings = Object.values(JSON.parse(text) as object).filter((v) => typeof v === 'string')
        expect(strings.some((v: string) => v === 'A'.repeat(n))).toBe(true)
      } else {
        const arrays = c.description.includes('arrays')
        const inner = arrays ? `${'['.repeat(n)}${']'.repeat(n)}` : `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`
        expect(text).toContain(inner)
      }
    }
  })

  it('sends __proto__ as a plain key, and malformed JSON as invalid', () => {
    const generator = new CaseGenerator([base(strict)], 11, 1024 * 1024)
    const cases = Array.from({ length: 13 * 20 }, (_, i) => generator.generate(i))
    const proto = cases.find((c) => c.kind === 'injection' && String(c.request.body).includes('__proto__'))
    expect(proto?.request.body).toMatch(/"__proto__":\{"polluted":true/)
    expect(proto?.invalid).toBe(true)
    for (const c of cases.filter((x) => x.kind === 'malformed-json' || x.kind === 'wrong-content-type'))
      expect(c.invalid).toBe(true)
  })
})

describe('leak detection', () => {
  const redactor = new Redactor({ secrets: ['s3cret-token'] })
  const response = (body: string, headers: Record<string, string> = {}) => ({
    headers,
    body: Buffer.from(body),
  })

  it.each([
    ['a Node stack trace', 'Error: boom\n    at handler (/srv/app/server.js:12:5)', 'a stack trace'],
    ['a Python traceback', 'Traceback (most recent call last):\n  File "x"', 'a stack trace'],
    ['a home directory', '{"error":"cannot open /home/deploy/app/config.json"}', 'an internal path'],
    ['a SQL error', 'ERROR: syntax error at or near "OR"', 'a database error'],
    ['a configured secret', '{"token":"s3cret-token"}', 'a configured secret'],
  ])('finds %s', (_what, body, what) => {
    expect(findLeak(response(body), [], redactor)?.what).toBe(what)
  })

  it('ignores what the request sent, echoed back', () => {
    const sent = sentStrings('/orders/..%2F..%2Fetc%2Fpasswd', '{"sku":"/home/x/y/z"}')
    expect(findLeak(response('{"error":"unknown sku /home/x/y/z"}'), sent, redactor)).toBeUndefined()
    expect(findLeak(response('{"error":"no such order"}'), sent, redactor)).toBeUndefined()
  })
})
