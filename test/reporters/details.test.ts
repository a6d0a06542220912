/**
 * A finding's `details` read as text in the console, JUnit and Markdown reports — keys and values as
 * written, nested values indented — never as escaped JSON; the JSON verdict keeps them structured.
 */
import { describe, expect, it } from 'vitest'
import type { Finding, Verdict } from '../../engine/verdict.js'
import { renderSummary } from '../../reporters/console-render.js'
import { detailsLines } from '../../reporters/format.js'
import { renderJson } from '../../reporters/json.js'
import { renderMarkdown } from '../../reporters/markdown.js'
import { failedCheck, verdict } from './fixture.js'

const details = {
  accept: "compare: { allowStatus: ['200->404'] }",
  baseline: {
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: { id: 'ord_1', items: [{ sku: 'tea', quantity: 2 }], tags: ['gift', 'a, b'], paid: false },
  },
  note: 'first line\nsecond "quoted" line',
}

const statusChanged: Finding = {
  messageId: 'status-changed',
  message: 'Status changed from 200 to 404.',
  severity: 'error',
  pointer: 'status',
  expected: 200,
  actual: 404,
  evidence: { transport: 'http', sandbox: 'candidate', summary: [], details },
}

const withDetails: Verdict = {
  ...verdict,
  plans: verdict.plans.map((p) =>
    p.name === 'checkout-order' ? { ...p, checks: [{ ...failedCheck, findings: [statusChanged] }] } : p,
  ),
}

const EXPECTED = [
  "accept: compare: { allowStatus: ['200->404'] }",
  'baseline:',
  '  body:',
  '    id: ord_1',
  '    items:',
  '      - quantity: 2',
  '        sku: tea',
  '    paid: false',
  '    tags: [gift, "a, b"]',
  '  headers:',
  '    content-type: application/json',
  '  status: 200',
  'note: |',
  '  first line',
  '  second "quoted" line',
]

describe('details as text', () => {
  it('is key: value lines, sorted, nested values indented, lists of values on one line', () => {
    expect(detailsLines(statusChanged)).toEqual(EXPECTED)
  })

  it('is cut to a number of lines and a width, saying what was left out', () => {
    const lines = detailsLines(statusChanged, 4, 20)
    expect(lines).toEqual([
      'accept: compare: { a… (26 more characters)',
      'baseline:',
      '  body:',
      '    id: ord_1',
      '… (11 more lines)',
    ])
    expect(detailsLines({ message: 'm', severity: 'error' } as Finding)).toEqual([])
  })

  it('reads as text in the console summary, not as JSON', () => {
    const text = renderSummary(withDetails, { color: false })
    expect(text).toContain(`details:\n${EXPECTED.map((l) => `       ${l}`).join('\n')}`)
    expect(text).not.toContain('{"accept"')
  })

  it('reads as text in the Markdown summary, in a text block', () => {
    const md = renderMarkdown(withDetails)
    expect(md).toContain(`Details:\n\n   \`\`\`text\n${EXPECTED.map((l) => `   ${l}`).join('\n')}\n   \`\`\``)
    expect(md).not.toContain('{"accept"')
  })

  it('stays structured in the JSON verdict', () => {
    const json = JSON.parse(renderJson(withDetails)) as Verdict
    const finding = json.plans.find((p) => p.name === 'checkout-order')!.checks[0]!
    expect(finding.state === 'failed' && finding.findings[0]!.evidence?.details).toEqual(details)
  })
})
