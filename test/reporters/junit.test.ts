import { XMLParser, XMLValidator } from 'fast-xml-parser'
import { describe, expect, it } from 'vitest'
import type { Verdict } from '../../engine/verdict.js'
import { RUN_ERRORS_SUITE, escapeXmlAttr, escapeXmlText, renderJunit } from '../../reporters/junit.js'
import { frozen, verdict } from './fixture.js'

interface Case {
  classname: string
  name: string
  file?: string
  line?: string
  time: string
  failure?: { message: string; type: string; '#text': string }
  error?: { message: string; type: string; '#text': string }
  skipped?: { message: string }
  'system-out'?: string
}
interface Suite {
  name: string
  file?: string
  tests: string
  failures: string
  errors: string
  skipped: string
  time: string
  properties?: { property: Array<{ name: string; value: string }> }
  testcase?: Case[]
}
interface Doc {
  testsuites: {
    name: string
    tests: string
    failures: string
    errors: string
    skipped: string
    time: string
    testsuite: Suite[]
  }
}

function parse(xml: string): Doc {
  expect(XMLValidator.validate(xml)).toBe(true)
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    parseAttributeValue: false,
    parseTagValue: false,
    trimValues: false,
    htmlEntities: true,
    isArray: (name) => ['testsuite', 'testcase', 'property'].includes(name),
  })
  return parser.parse(xml) as Doc
}

const doc = parse(renderJunit(frozen(verdict)))
const suites = doc.testsuites.testsuite
const suite = (name: string) => suites.find((s) => s.name === name)!
const testcase = (plan: string, check: string) => suite(plan).testcase!.find((c) => c.name === check)!

describe('renderJunit', () => {
  it('has one testsuite per plan, sorted by name, then the run errors', () => {
    expect(suites.map((s) => s.name)).toEqual([
      'catalog-browse',
      'checkout-order',
      'payments-load',
      'search-ranking',
      RUN_ERRORS_SUITE,
    ])
    expect(suite('checkout-order').file).toBe('plans/checkout-order.md')
    expect(suite('payments-load').properties!.property).toEqual([
      { name: 'title', value: 'Payments under load' },
      { name: 'blocking', value: 'true' },
      { name: 'state', value: 'errored' },
    ])
  })

  it('counts tests, failures, errors and skipped at both levels', () => {
    const root = doc.testsuites
    // 5 checks + 2 run errors; the non-blocking failure is not a failure.
    expect([root.tests, root.failures, root.errors, root.skipped, root.time]).toEqual([
      '7',
      '1',
      '3',
      '1',
      '5.123',
    ])
    const p = suite('payments-load')
    expect([p.tests, p.failures, p.errors, p.skipped, p.time]).toEqual(['2', '0', '1', '1', '0.400'])
    const w = suite('search-ranking')
    expect([w.tests, w.failures, w.errors]).toEqual(['1', '0', '0'])
  })

  it('has one testcase per check with classname = plan, its file, line and time', () => {
    const c = testcase('checkout-order', 'create order')
    expect(c).toMatchObject({
      classname: 'checkout-order',
      file: 'plans/checkout-order.md',
      line: '20',
      time: '1.234',
    })
    expect(testcase('payments-load', 'refund regression').time).toBe('0.000')
  })

  it('puts every finding of a failed check in its failure, with the reproduce command', () => {
    const failure = testcase('checkout-order', 'create order').failure!
    expect(failure.message).toBe('Expected status 201, got 500. (and 1 more)')
    expect(failure.type).toBe('status')
    const body = failure['#text']
    expect(body).toContain('e2e check at plans/checkout-order.md:20:1')
    expect(body).toContain('expected:  201')
    expect(body).toContain('request:   POST http://127.0.0.1:4001/orders (candidate)')
    expect(body).toContain('at <anonymous> & more | piped')
    expect(body).toContain(
      "reproduce: curl -sS -i -X POST http://127.0.0.1:4001/orders -H 'authorization: Bearer [REDACTED]'",
    )
    expect(body).toContain('2. [error] Field /totalCents was removed (breaking).')
    expect(body).toContain('3. [warning] Response took 900ms')
  })

  it('marks an errored check with an error holding the log tail, and a skipped one with its note', () => {
    const errored = testcase('payments-load', 'authorise p95')
    expect(errored.failure).toBeUndefined()
    expect(errored.error!.type).toBe('ECONNREFUSED')
    expect(errored.error!.message).toBe('connect ECONNREFUSED 127.0.0.1:4003 <payments>')
    expect(errored.error!['#text']).toContain('| exited with code 134')
    // The BEL control character cannot appear in XML 1.0; it is shown instead of breaking the file.
    expect(errored.error!['#text']).toContain('FATAL: out of memory \\u0007 bell')
    expect(testcase('payments-load', 'refund regression').skipped!.message).toContain('requires a baseline')
  })

  it('passes a failed check of a non-blocking plan, noting the warning in system-out', () => {
    const c = testcase('search-ranking', 'top result is exact match')
    expect(c.failure).toBeUndefined()
    expect(c.error).toBeUndefined()
    expect(c['system-out']).toContain('warning: plan search-ranking is not blocking')
    expect(c['system-out']).toContain('expected: "tea"')
  })

  it('puts info findings of a passed check in system-out', () => {
    const c = testcase('catalog-browse', 'product matches its schema')
    expect(c.failure).toBeUndefined()
    expect(c['system-out']).toContain('[info] Field /updatedAt differs')
  })

  it('reports run errors as errored testcases with location and log tail', () => {
    const cases = suite(RUN_ERRORS_SUITE).testcase!
    expect(cases.map((c) => c.name)).toEqual(['VIGIL_PLAN_INVALID plans/broken.md:14:3', 'VIGIL_SANDBOX'])
    expect(cases[0]!.error!.message).toBe(
      'contract: unknown property "expec"; expected one of request, expect, compare',
    )
    expect(cases[1]!.error!['#text']).toContain('| Error: EADDRINUSE')
  })

  it('is deterministic whatever order the plans come in', () => {
    const reversed: Verdict = { ...verdict, plans: [...verdict.plans].reverse() }
    expect(renderJunit(reversed)).toBe(renderJunit(verdict))
  })

  it('has no run-errors suite when the run had none', () => {
    const names = parse(renderJunit({ ...verdict, errors: [] })).testsuites.testsuite.map((s) => s.name)
    expect(names).not.toContain(RUN_ERRORS_SUITE)
  })

  it('escapes markup, quotes and every control character so the document stays well-formed', () => {
    const nasty = 'a<b>&"c\'\u0000\u001b[31m\uFFFF\uD800 ]]> end\ttab\nline'
    const v = structuredClone(verdict)
    const check = v.plans[1]!.checks[0]!
    Object.assign(check, { check: nasty })
    if (check.state === 'failed') check.findings[0]!.message = nasty
    const xml = renderJunit(v)
    const c = parse(xml).testsuites.testsuite.find((s) => s.name === 'checkout-order')!.testcase![0]!
    expect(c.name).toBe('a<b>&"c\'\\u0000\\u001b[31m\\uffff\\ud800 ]]> end\ttab\nline')
    expect(c.failure!.message.startsWith('a<b>&"c\'\\u0000')).toBe(true)
    expect(c.failure!['#text']).toContain(']]> end')
  })

  it('escapes text and attributes', () => {
    expect(escapeXmlText('<a & b>')).toBe('&lt;a &amp; b&gt;')
    expect(escapeXmlAttr(`"x"\n'y'`)).toBe('&quot;x&quot;&#10;&apos;y&apos;')
  })
})
