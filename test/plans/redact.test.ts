/**
 * The redactor against the secrets table: every form of every secret, alone and inside the texts that
 * carry it (a URL, a JSON body, a longer base64 value at each byte offset, a log line), is gone; what
 * holds no secret survives byte for byte.
 */
import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { REDACTED, Redactor, processRedactor } from '../../plans/redact.js'
import { SECRETS, basic, findForms, formsOf, pathForm } from '../support/secrets.js'

const redactor = new Redactor({ secrets: Object.values(SECRETS) })

/** Texts that carry a written form: where a form appears in real outputs. */
const CARRIERS: Record<string, (form: string) => string> = {
  alone: (f) => f,
  'a URL query': (f) => `http://127.0.0.1:4000/orders?token=${f}&page=2`,
  'a JSON body': (f) => `{"id":"ord_1","echo":"${f}","total":12}`,
  'a log line': (f) => `2025-01-31T12:00:00.000Z stderr auth failed for ${f} (retrying)`,
  'a curl line': (f) => `curl -sS -i 'http://127.0.0.1:4000/x' --data-binary '${f}'`,
}

/** The encoded forms of a secret, each written differently from the raw value and from one another. */
function encodedForms(value: string): Array<[string, string]> {
  const seen = new Set([value])
  return Object.entries({ ...formsOf(value), 'URL path': pathForm(value) }).filter(([, written]) =>
    seen.has(written) ? false : (seen.add(written), true),
  )
}

describe('Redactor: every encoded form of every secret', () => {
  const rows = Object.entries(SECRETS).flatMap(([name, value]) =>
    encodedForms(value).flatMap(([form, written]) =>
      Object.entries(CARRIERS).map(([carrier, wrap]) => ({ name, form, carrier, text: wrap(written) })),
    ),
  )
  it.each(rows)('$name, $form, in $carrier', ({ text, carrier }) => {
    const out = redactor.text(text)
    expect(findForms(out)).toEqual([])
    expect(out).toContain(REDACTED)
    // What surrounds the secret survives.
    const [before] = CARRIERS[carrier]!('\u0000').split('\u0000')
    expect(out.startsWith(before!)).toBe(true)
  })
})

describe('Redactor: a secret inside a longer base64 value', () => {
  const rows = Object.entries(SECRETS).flatMap(([name, value]) =>
    // Prefixes of 0, 1 and 2 bytes mod 3 put the secret at each base64 alignment.
    ['u', 'us', 'usr', 'admin', 'x'.repeat(10)].flatMap((user) => [
      { name, what: `Basic ${user}:secret`, text: `authorization-echo: Basic ${basic(user, value)}` },
      {
        name,
        what: `base64url JSON payload after ${user.length} bytes`,
        text: `jwt eyJhbGciOiJIUzI1NiJ9.${Buffer.from(JSON.stringify({ [user]: value })).toString('base64url')}.sig`,
      },
    ]),
  )
  it.each(rows)('$name in $what', ({ text }) => {
    const out = redactor.text(text)
    expect(findForms(out)).toEqual([])
    expect(out).toContain(REDACTED)
    for (const k of [0, 1, 2]) expect(out).not.toContain(Buffer.from(SECRETS.six).toString('base64').slice(k))
  })
})

describe('Redactor: no over-redaction', () => {
  const innocent = {
    uuid: '123e4567-e89b-12d3-a456-426614174000',
    sha256: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
    'base64 body': randomBytes(3000).toString('base64'),
    'base64url id': randomBytes(24).toString('base64url'),
    'order id': 'ord_01HZX3R7Q2W9K8E5B6N4M1P0TS',
    'a prefix of a secret': SECRETS.special.slice(0, 5),
    'a secret less its last character': SECRETS.base64.slice(0, -1),
    'a secret with one character changed': SECRETS.six.replace('6', '7'),
    'base64 of another user': basic('alice', 'not-the-secret'),
    'ordinary prose': 'Step "create order": POST /orders expected status 201, got 500 (pass phrase 41).',
  }
  it.each(Object.entries(innocent))('keeps %s byte for byte next to a redacted secret', (_, value) => {
    const text = `${value} ${encodeURIComponent(SECRETS.special)} ${value}`
    const out = redactor.text(text)
    expect(out).toBe(`${value} ${REDACTED} ${value}`)
  })

  it('keeps a JSON document holding no secret identical (the same object)', () => {
    const doc = { plans: [{ name: 'checkout', ids: Object.values(innocent) }], n: 3, ok: true }
    expect(redactor.json(doc)).toBe(doc)
  })
})

describe('Redactor: secrets that are hard to hold', () => {
  it('refuses a secret shorter than 6 characters, counted in characters, not UTF-16 units', () => {
    expect(() => new Redactor({ secrets: ['abcde'] })).toThrow(/at least 6/)
    expect(() => new Redactor({ secrets: ['é😀abc'] })).toThrow(/5 characters/)
    expect(() => new Redactor().add(['1234'])).toThrow(/at least 6/)
    expect(new Redactor({ secrets: ['é😀abcd'] }).text('x é😀abcd y')).toBe(`x ${REDACTED} y`)
  })

  it('replaces a secret that contains another whole, in any order they were learned', () => {
    const r = new Redactor({ secrets: ['inner-token'] })
    r.add(['outer-inner-token-tail'])
    expect(r.text(`a outer-inner-token-tail b inner-token`)).toBe(`a ${REDACTED} b ${REDACTED}`)
    const encoded = `${basic('u', 'outer-inner-token-tail')} ${encodeURIComponent('inner-token?!')}`
    expect(r.text(encoded)).toBe(`${REDACTED} ${REDACTED}%3F!`)
  })

  it('finds a value read with a trailing newline also without it, and inside a URL without its line breaks', () => {
    const r = new Redactor({ secrets: ['file-token-123\n'] })
    expect(r.text('Bearer file-token-123 rejected')).toBe(`Bearer ${REDACTED} rejected`)
    const withTab = new Redactor({ secrets: ['tab\there-secret'] })
    expect(withTab.text(new URL('http://h/a/tab\there-secret').href)).toBe(`http://h/a/${REDACTED}`)
  })

  it('finds a secret with a backslash in a URL path, where the parser turned it into a slash', () => {
    expect(redactor.text(new URL(`http://h/p/${SECRETS.quotes}`).href)).toBe(`http://h/p/${REDACTED}`)
  })

  it('deep-redacts JSON values, object keys included', () => {
    const out = redactor.json({ [SECRETS.six]: [{ echo: Buffer.from(SECRETS.six).toString('base64') }] })
    expect(out).toEqual({ [REDACTED]: [{ echo: REDACTED }] })
  })

  it('learns secrets in a copy made with `with()` without changing the original', () => {
    const base = new Redactor({ secrets: ['first-secret'] })
    const more = base.with(['second-secret'])
    const text = `${basic('u', 'first-secret')} ${encodeURIComponent('second-secret?')}`
    expect(more.text(text)).toBe(`${REDACTED} ${REDACTED}%3F`)
    expect(base.text(text)).toBe(`${REDACTED} second-secret%3F`)
  })
})

describe('Redactor: a value cut for a message before it could be redacted', () => {
  const cut = (text: string, at: number) => `${text.slice(0, at)}…`
  /** Percent-encoded, cut two characters into the first escape after the third character (or after the fourth). */
  const cutInsideEscape = (value: string) => {
    const encoded = encodeURIComponent(value)
    const three = encodeURIComponent([...value].slice(0, 3).join('')).length
    const escape = encoded.indexOf('%', three)
    return cut(encoded, escape === -1 ? three + 1 : escape + 2)
  }
  const rows = Object.entries(SECRETS).flatMap(([name, value]) => [
    { name, what: 'raw, cut after 3 characters', text: `got "${cut(value, 3)}"` },
    { name, what: 'raw, cut one character short', text: `got "${cut(value, value.length - 1)}"` },
    {
      name,
      what: 'percent-encoded, cut inside an escape',
      text: `url ${cutInsideEscape(value)}`,
    },
    { name, what: 'JSON-escaped, cut', text: `json ${cut(JSON.stringify(value), 6)}` },
    {
      name,
      what: 'Basic credentials, cut two digits into the secret',
      text: `Basic ${cut(basic('user', value), 9)}`,
    },
  ])
  it.each(rows)('$name: $what', ({ text }) => {
    const out = redactor.text(text)
    expect(out).toMatch(/\[REDACTED\]…"?$/)
    const prefix = out.slice(0, out.indexOf(REDACTED))
    expect(['got "', 'url ', 'json "', 'json ', 'Basic ']).toContain(prefix)
  })

  it('leaves an ordinary ellipsis, and fewer than 3 characters of a secret before it, alone', () => {
    const others = [
      // A hash cut after two hex digits of a secret's hex ('73' is 's'), and after three.
      'diff sha256:9f86d081884c73…',
      'diff sha256:9f86d081884c736…',
      'plain text… more',
      'sp…',
      'waiting for catalog…',
      'aGVsbG8gd29ybGQgdGhpcyBpcyBhIHRlc3Q…',
    ]
    for (const text of others)
      expect(redactor.text(`${text} ${encodeURIComponent(SECRETS.special)}`)).toBe(`${text} ${REDACTED}`)
  })
})

describe('processRedactor: the last resort for output no run redacts', () => {
  it('knows every secret any redactor of the process learned, in every form', () => {
    const secret = `late-${randomBytes(8).toString('hex')}`
    const stack = `Error: connect failed for postgres://app:${secret}@127.0.0.1/db\n    at ${encodeURIComponent(secret)}`
    expect(processRedactor().text(stack)).toContain(secret)
    new Redactor().add([secret])
    const out = processRedactor().text(stack)
    expect(out).not.toContain(secret)
    expect(out).not.toContain(encodeURIComponent(secret))
    expect(out).toContain(REDACTED)
  })
})
