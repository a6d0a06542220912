import { describe, expect, it } from 'vitest'
import { Redactor, REDACTED } from '../../engine/http/redact.js'
import { VariableError, Variables, secretValues } from '../../engine/vars.js'

const env = { SHOP_REGION: 'eu', SHOP_BOB_TOKEN: 'bob-token-123', HOME: '/home/x' }

function vars(extra: Partial<ConstructorParameters<typeof Variables>[0]> = {}) {
  return new Variables({
    vars: { orderId: 42, flag: false, nothing: null, user: { name: 'ada', tags: ['a'] }, name: 'tea' },
    envAllow: ['SHOP_REGION', 'UNSET_ONE'],
    env,
    secrets: { alice: { value: 'alice-token' }, bob: { env: 'SHOP_BOB_TOKEN' }, carol: { env: 'NOT_THERE' } },
    services: { orders: 'http://127.0.0.1:1000', catalog: 'http://127.0.0.1:2000' },
    defaultService: 'orders',
    seed: 7,
    ...extra,
  })
}

describe('Variables', () => {
  it('keeps the type of a whole-string template, including falsy values', () => {
    const v = vars()
    expect(v.render('{{orderId}}')).toBe(42)
    expect(v.render('{{ flag }}')).toBe(false)
    expect(v.render('{{nothing}}')).toBeNull()
    expect(v.render('{{user}}')).toEqual({ name: 'ada', tags: ['a'] })
    expect(v.render('{{seed}}')).toBe(7)
  })

  it('interpolates inside strings, deep in objects and arrays, and in keys', () => {
    const v = vars()
    expect(v.render('/orders/{{orderId}}?f={{flag}}')).toBe('/orders/42?f=false')
    expect(v.render({ a: ['x-{{name}}', { b: '{{orderId}}' }], '/items/{{orderId}}': 1, n: 3 })).toEqual({
      a: ['x-tea', { b: 42 }],
      '/items/42': 1,
      n: 3,
    })
    expect(v.render('{{user.name}} {{user}}')).toBe('ada {"name":"ada","tags":["a"]}')
  })

  it('resolves services, baseUrl, captures and scoped views sharing captures', () => {
    const v = vars()
    expect(v.render('{{baseUrl}}/x')).toBe('http://127.0.0.1:1000/x')
    expect(v.render('{{services.catalog.url}}')).toBe('http://127.0.0.1:2000')
    v.set('token', 'abc')
    const scoped = v.scoped({ orders: 'http://127.0.0.1:3000' }, 'orders')
    expect(scoped.render('{{baseUrl}} {{token}}')).toBe('http://127.0.0.1:3000 abc')
    scoped.set('later', 1)
    expect(v.get('later')).toBe(1)
  })

  it('reads only allow-listed environment variables', () => {
    const v = vars()
    expect(v.render('{{env.SHOP_REGION}}')).toBe('eu')
    expect(() => v.render('{{env.HOME}}')).toThrow(/HOME is not allow-listed; add it to "env"/)
    expect(() => v.render('{{env.UNSET_ONE}}')).toThrow(/UNSET_ONE is not set/)
  })

  it('resolves secrets and teaches them to the redactor', () => {
    const redactor = new Redactor()
    const v = vars({ redactor })
    expect(v.render('Bearer {{secrets.bob}}')).toBe('Bearer bob-token-123')
    expect(redactor.text('echo bob-token-123')).toBe(`echo ${REDACTED}`)
    expect(() => v.render('{{secrets.carol}}')).toThrow(
      /secret "carol" is unavailable: environment variable NOT_THERE/,
    )
    expect(() => v.render('{{secrets.dave}}')).toThrow(
      /unknown secret "dave" \(configured: alice, bob, carol\)/,
    )
    expect(
      secretValues(
        { a: 'inline-1', b: { value: 'v-2' }, c: { env: 'SHOP_BOB_TOKEN' }, d: { env: 'NO' } },
        env,
      ),
    ).toEqual(['inline-1', 'v-2', 'bob-token-123'])
  })

  it('throws a VariableError naming an unknown variable, with a suggestion', () => {
    const v = vars()
    let error: unknown
    try {
      v.render({ path: '/orders/{{orderID}}' })
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(VariableError)
    expect((error as VariableError).code).toBe('VIGIL_VARIABLE')
    expect((error as Error).message).toMatch(/unknown variable "orderID"; did you mean "orderId"\?/)
    expect(() => v.render('{{user.age}}')).toThrow(/variable "user" has no property path "age"/)
    expect(() => v.render('{{services.nope.url}}')).toThrow(
      /unknown service "nope" \(services: catalog, orders\)/,
    )
  })

  it('leaves strings without templates and non-strings untouched', () => {
    const v = vars()
    expect(v.render('{ not a template }')).toBe('{ not a template }')
    expect(v.render(0)).toBe(0)
    expect(v.render(undefined)).toBeUndefined()
  })
})
