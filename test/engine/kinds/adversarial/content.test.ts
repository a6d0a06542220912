/**
 * The content oracles' eyes on their own: injection evidence with echoes cut, off-sandbox redirects,
 * security headers and cookie flags, and a stack trace inside a JSON string value. Each against a
 * response with the hole and one without.
 */
import { describe, expect, it } from 'vitest'
import {
  REDIRECT_HOST,
  TEMPLATE_PRODUCT,
  headerHygiene,
  injectionEvidence,
  offSandboxRedirect,
  rowCount,
  splitCookies,
} from '../../../../engine/kinds/adversarial/content.js'
import { findLeak } from '../../../../engine/kinds/adversarial/leaks.js'
import { Redactor } from '../../../../engine/http/redact.js'

const json = (value: unknown, headers: Record<string, string> = {}) => ({
  headers: { 'content-type': 'application/json', ...headers },
  body: Buffer.from(JSON.stringify(value)),
})

describe('injection evidence', () => {
  it.each([
    [
      'a computed template marker',
      { greeting: `Hello ${TEMPLATE_PRODUCT}` },
      'a template expression evaluated',
    ],
    ['/etc/passwd', { content: 'root:x:0:0:root:/root:/bin/bash' }, 'the contents of /etc/passwd'],
    [
      'command output in a multi-line JSON string',
      { output: 'PING\nuid=0(root) gid=0(root)' },
      'the output of a command',
    ],
    ['a PostgreSQL error', { error: 'syntax error at or near "OR"' }, 'a PostgreSQL error'],
    ['a MySQL error', { error: 'You have an error in your SQL syntax; check the manual' }, 'a MySQL error'],
    ['a SQLite error', { error: 'SQLITE_ERROR: unrecognized token: "\'"' }, 'a SQLite error'],
    [
      'a SQL Server error',
      { error: "Unclosed quotation mark after the character string ''." },
      'a SQL Server error',
    ],
    ['an Oracle error', { error: 'ORA-01756: quoted string not properly terminated' }, 'an Oracle error'],
    ['a MongoDB error', { error: 'MongoServerError: unknown operator: $gt' }, 'a MongoDB error'],
  ])('sees %s', (_name, body, what) => {
    expect(injectionEvidence(json(body), [], undefined)?.what).toBe(what)
  })

  it('does not take an echo of the payload, or what the valid answer already shows, for evidence', () => {
    const sent = ['{{7*7777777}}', "'"]
    expect(injectionEvidence(json({ greeting: 'Hello {{7*7777777}}' }), sent, undefined)).toBeUndefined()
    expect(injectionEvidence(json({ id: 54444439 }), [], `{"id":54444439}`)).toBeUndefined()
    expect(injectionEvidence(json({ id: 1544444390 }), [], undefined)).toBeUndefined()
    expect(injectionEvidence(json({ name: 'gear', rows: [] }), [], undefined)).toBeUndefined()
  })

  it('sees a header or a cookie the request smuggled in', () => {
    expect(injectionEvidence(json({}, { 'x-vigil-injected': '1' }), [], undefined)?.what).toMatch(/CRLF/)
    expect(injectionEvidence(json({}, { 'set-cookie': 'a=1, vigil=1' }), [], undefined)?.what).toMatch(
      /cookie/,
    )
    expect(injectionEvidence(json({}, { 'set-cookie': 'vigilant=1' }), [], undefined)).toBeUndefined()
  })
})

describe('redirects', () => {
  const from = 'http://127.0.0.1:4000/login?next=x'
  it.each([
    [`https://${REDIRECT_HOST}/`, true],
    [`//${REDIRECT_HOST}/`, true],
    ['http://127.0.0.1:4001/home', true],
    ['javascript:alert(1)', true],
    ['/home', false],
    ['home', false],
    ['http://127.0.0.1:4000/home', false],
  ])('Location %s leaves the sandbox: %s', (location, off) => {
    expect(offSandboxRedirect({ status: 302, headers: { location } }, from) !== undefined).toBe(off)
  })
  it('only judges redirects', () => {
    expect(
      offSandboxRedirect({ status: 200, headers: { location: `//${REDIRECT_HOST}/` } }, from),
    ).toBeUndefined()
  })
})

describe('security headers and cookies', () => {
  it('names what an HTML answer lacks, and passes one that has it all', () => {
    expect(headerHygiene({ headers: { 'content-type': 'text/html' } })).toEqual([
      {
        what: 'an HTML answer without security headers',
        match: 'x-content-type-options: nosniff, content-security-policy (or x-frame-options)',
      },
    ])
    expect(
      headerHygiene({
        headers: {
          'content-type': 'text/html',
          'x-content-type-options': 'nosniff',
          'x-frame-options': 'DENY',
        },
      }),
    ).toEqual([])
    expect(headerHygiene({ headers: { 'content-type': 'application/json' } })).toEqual([])
  })
  it('names the flags each cookie lacks, with dates in Expires not taken for a new cookie', () => {
    const value =
      'sid=1; Expires=Wed, 21 Oct 2026 07:28:00 GMT; HttpOnly, theme=dark; Secure; HttpOnly; SameSite=Lax'
    expect(splitCookies(value)).toHaveLength(2)
    expect(headerHygiene({ headers: { 'set-cookie': value } })).toEqual([
      { what: 'a cookie without Secure, SameSite', match: 'sid=…' },
    ])
  })
})

describe('no-leak in JSON strings, rows', () => {
  it('sees a stack trace inside a JSON string value, and no trace in a plain message', () => {
    const redactor = new Redactor({ secrets: [] })
    const trace = json({ error: 'Error: bad id\n    at parseId (/bed/lib/items.js:10:5)' })
    expect(findLeak(trace, [], redactor)?.what).toBe('a stack trace')
    expect(findLeak(json({ error: 'bad id\nsee the docs' }), [], redactor)).toBeUndefined()
  })
  it('counts rows of a top-level array or the longest array one level down', () => {
    expect(rowCount(Buffer.from('[1,2,3]'))).toBe(3)
    expect(rowCount(Buffer.from('{"items":[1],"more":[1,2]}'))).toBe(2)
    expect(rowCount(Buffer.from('{"a":1}'))).toBeUndefined()
    expect(rowCount(Buffer.from('nope'))).toBeUndefined()
  })
})
