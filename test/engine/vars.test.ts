import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse as parseYaml } from 'yaml'
import { Redactor, REDACTED } from '../../engine/http/redact.js'
import { VariableError, Variables, configRedactor, declaredSecrets, secretValues } from '../../engine/vars.js'

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

  it('forks a copy for one sandbox: it starts with the captures so far and keeps its own', () => {
    const v = vars()
    v.set('token', 'abc')
    const fork = v.fork({ orders: 'http://127.0.0.1:3000' }, 'orders')
    expect(fork.render('{{baseUrl}} {{token}}')).toBe('http://127.0.0.1:3000 abc')
    fork.set('orderId', 'b-1')
    v.set('orderId', 'c-1')
    expect(fork.get('orderId')).toBe('b-1')
    expect(v.get('orderId')).toBe('c-1')
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

describe('declared secrets', () => {
  let dir: string
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-vars-'))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  function loaded(yaml: string) {
    const file = path.join(dir, 'vigil.config.yaml')
    writeFileSync(file, yaml)
    return { file, config: parseYaml(yaml) as Record<string, unknown> }
  }

  it('a secret shorter than 6 characters is a config error naming it, where it is declared and where its value came from', () => {
    const config = loaded(
      'secrets:\n  ok: { env: OK_TOKEN }\n  pin: { env: SHORT_PIN }\n  code: { value: "abc" }\n  unset: { env: NOT_SET }\n',
    )
    let error: unknown
    try {
      declaredSecrets(config, { OK_TOKEN: 'long-enough', SHORT_PIN: '1234' })
    } catch (e) {
      error = e
    }
    expect(error).toMatchObject({ code: 'VIGIL_CONFIG', exitCode: 2 })
    const lines = (error as Error).message.split('\n')
    expect(lines).toEqual([
      expect.stringMatching(
        /vigil\.config\.yaml:3:10 secrets\.pin: the secret's value \(environment variable SHORT_PIN\) has 4 characters; a secret needs at least 6/,
      ),
      expect.stringMatching(
        /vigil\.config\.yaml:4:11 secrets\.code: the secret's value \(inline value\) has 3 characters/,
      ),
    ])
    expect((error as Error).message).not.toMatch(/1234|abc"/)
    // Six characters, counted as characters: an emoji is one.
    const six = loaded('secrets:\n  pin: { env: SHORT_PIN }\n')
    expect(declaredSecrets(six, { SHORT_PIN: '12345😀' })).toEqual([
      { name: 'pin', value: '12345😀', source: 'environment variable SHORT_PIN' },
    ])
  })

  it("the config's redactor knows the secrets, the API key its selector names, and the extra headers", () => {
    const config = loaded(
      'secrets:\n  ok: { env: OK_TOKEN }\nselector: { apiKeyEnv: MY_KEY }\nredact: { headers: [x-shop-key] }\n',
    )
    const redactor = configRedactor(config, { OK_TOKEN: 'long-enough', MY_KEY: 'sk-my+key/1=' })
    expect(
      redactor.text(
        `a ${encodeURIComponent('long-enough')} ${Buffer.from('sk-my+key/1=').toString('base64')}`,
      ),
    ).toBe(`a ${REDACTED} ${REDACTED}`)
    expect(redactor.isSensitiveHeader('X-Shop-Key')).toBe(true)
    // A key too short to be one is left out rather than redacting ordinary text.
    expect(configRedactor(config, { OK_TOKEN: 'long-enough', MY_KEY: 'k' }).text('k')).toBe('k')
  })

  it('{{secrets.NAME}} with a value shorter than 6 characters is a variable error, not an unredacted value', () => {
    const v = vars({ secrets: { pin: { value: '1234' } } })
    expect(() => v.render('Bearer {{secrets.pin}}')).toThrow(
      /secret "pin" has 4 characters; a secret needs at least 6/,
    )
  })
})
