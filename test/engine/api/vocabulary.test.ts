import { Ajv } from 'ajv'
import { describe, expect, it } from 'vitest'
import { checkKinds } from '../../../engine/kinds/index.js'
import { parseRequestLine, RequestLineError } from '../../../engine/api/vocabulary.js'

describe('the shared request vocabulary', () => {
  it.each([
    ['GET /orders', { method: 'GET', path: '/orders' }],
    ['post /orders', { method: 'POST', path: '/orders' }],
    ['  /orders/{{id}}  ', { method: 'GET', path: '/orders/{{id}}' }],
    [
      { path: '/x', json: { a: 1 } },
      { method: 'GET', path: '/x', json: { a: 1 } },
    ],
    [
      { method: 'delete', path: '/x/1' },
      { method: 'DELETE', path: '/x/1' },
    ],
  ] as const)('parses %j', (input, expected) => {
    expect(parseRequestLine(input)).toEqual(expected)
  })

  it.each(['', 'GET', 'GET /a /b', 'G3T /a'])('refuses the request line %j', (line) => {
    expect(() => parseRequestLine(line)).toThrow(RequestLineError)
    expect(() => parseRequestLine(line)).toThrow(/expected "METHOD \/path" or "\/path"/)
  })

  // Every kind validates `request` with the same schema, so a request reads the same in every block.
  const ajv = new Ajv({ allErrors: true, strict: false })
  const blocks: Record<string, (request: unknown) => unknown> = {
    e2e: (request) => ({ steps: [{ name: 's', request }] }),
    contract: (request) => ({ request }),
    load: (request) => ({ request, duration: '1s', connections: 1 }),
  }
  it.each(Object.keys(blocks))('%s accepts every request form and refuses a malformed one', (kind) => {
    const validate = ajv.compile(checkKinds[kind as keyof typeof checkKinds].meta.schema)
    for (const request of ['GET /orders', '/orders', { method: 'POST', path: '/orders', json: {} }])
      expect(validate(blocks[kind]!(request)), `${kind} ${JSON.stringify(request)}`).toBe(true)
    for (const request of ['GET /a /b', { method: 'POST' }, { path: '/x', jsn: {} }])
      expect(validate(blocks[kind]!(request)), `${kind} ${JSON.stringify(request)}`).toBe(false)
  })
})
