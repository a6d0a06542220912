/**
 * What a developer or an agent acts on, in every reporter: which builds were compared, a finding's id and
 * the `vigil reproduce` line beside its curl line, the services' log lines of the failing request, merged
 * repeats, and a root pointer shown as `(root)`. Rendered from one fixed verdict.
 */
import { XMLParser } from 'fast-xml-parser'
import { describe, expect, it } from 'vitest'
import type { CheckResult, Finding, Verdict } from '../../engine/verdict.js'
import { renderSummary } from '../../reporters/console-render.js'
import { renderJson } from '../../reporters/json.js'
import { renderJunit } from '../../reporters/junit.js'
import { renderMarkdown } from '../../reporters/markdown.js'
import { validateVerdict } from '../../reporters/schema.js'
import { failedCheck, frozen, verdict as base } from './fixture.js'

const failedFindings = (failedCheck as Extract<CheckResult, { state: 'failed' }>).findings
const failing: Finding = {
  ...failedFindings[0]!,
  id: 'f0123456789ab',
  evidence: {
    ...failedFindings[0]!.evidence!,
    window: { start: '2025-01-02T03:04:06.000Z', end: '2025-01-02T03:04:06.012Z' },
    logs: {
      attribution: 'time-window',
      services: {
        orders: [
          "2025-01-02T03:04:06.005Z stderr TypeError: Cannot read properties of undefined (reading 'price')",
          '2025-01-02T03:04:06.005Z stderr     at priceOf (orders/server.js:88:21)',
        ],
        catalog: ['2025-01-02T03:04:06.003Z stdout POST /products/lookup 200 1.2ms'],
      },
      omitted: 2,
    },
  },
}

const rootChange: Finding = {
  id: 'fabcdefabcdef',
  messageId: 'type-changed',
  message: 'Field (root) changed type from object to array: baseline {…}, candidate […].',
  severity: 'error',
  pointer: '',
  step: 'list orders',
  repeats: {
    count: 7,
    examples: [
      { id: 'f111111111111', message: 'Field (root) changed type from object to array.', step: 'list carts' },
    ],
  },
}

export const actVerdict: Verdict = {
  ...base,
  identity: {
    ...base.identity,
    config: 'samples/shop/vigil.config.yaml',
    sides: {
      candidate: {
        source: {
          kind: 'patch',
          patch: 'samples/shop/changes/field-rename.patch',
          patchSha256: 'a'.repeat(64),
          commit: '0123456789abcdef0123456789abcdef01234567',
          dirty: true,
        },
        provider: 'process',
        services: {
          orders: { command: 'node orders/server.js', version: '1.4.1', package: 'shop-orders@1.4.1' },
          catalog: { command: 'node catalog/server.js', prepare: 'cp fixtures/products.json data/' },
        },
      },
      baseline: {
        source: {
          kind: 'ref',
          ref: 'v1.4.0',
          commit: 'fedcba9876543210fedcba9876543210fedcba98',
          overrides: ['services.orders.command'],
        },
        provider: 'process',
        services: {
          orders: { command: 'npx shop-orders@1.4.0', version: '1.4.0' },
          catalog: { command: 'node catalog/server.js', versionError: 'GET /version answered 404' },
        },
      },
    },
  },
  plans: base.plans.map((p) =>
    p.name === 'checkout-order'
      ? {
          ...p,
          checks: [{ ...failedCheck, findings: [failing, rootChange, ...failedFindings.slice(1)] }],
        }
      : p,
  ),
}

describe('findings to act on, in every reporter', () => {
  const verdictPath = '.vigil/ci/verdict.json'

  it('the fixture is a valid verdict', () => {
    expect(validateVerdict(actVerdict)).toEqual({ valid: true, errors: [] })
  })

  it('console: builds compared, id, reproduce after the run, log lines, repeats, (root)', () => {
    const text = renderSummary(frozen(actVerdict), { verdictPath })
    expect(text).toContain('Builds compared')
    expect(text).toMatch(
      /candidate: patch samples\/shop\/changes\/field-rename\.patch \(sha256 aaaaaaaaaaaa\) on 0123456789ab with uncommitted changes · process/,
    )
    expect(text).toMatch(
      /baseline: v1\.4\.0 at fedcba987654 · process · baseline overrides services\.orders\.command/,
    )
    expect(text).toContain('orders: npx shop-orders@1.4.0 · version 1.4.0')
    expect(text).toContain('catalog: node catalog/server.js · prepared by cp fixtures/products.json data/')
    expect(text).toContain('version unknown (GET /version answered 404)')
    expect(text).toMatch(/id: +f0123456789ab/)
    expect(text).toMatch(
      /reproduce: +curl -sS -i -X POST[^\n]*\n +after run: +vigil reproduce \.vigil\/ci\/verdict\.json f0123456789ab/,
    )
    expect(text).toContain(
      "service logs (written during the request; other checks' lines may be among them, 2 more left out):",
    )
    expect(text).toContain(
      "orders | 2025-01-02T03:04:06.005Z stderr TypeError: Cannot read properties of undefined (reading 'price')",
    )
    // Services in name order, each line prefixed with its service.
    expect(text.indexOf('catalog | 2025')).toBeLessThan(text.indexOf('orders | 2025'))
    expect(text).toMatch(/at: +\(root\)/)
    expect(text).not.toMatch(/at: *\n/)
    expect(text).toMatch(/repeats: +7 times in all; merged into this one/)
    expect(text).toContain('candidate […]. (×7)')
    expect(text).toContain('also:')
    expect(text).toContain('list carts: Field (root) changed type from object to array. (f111111111111)')
  })

  it('console without a verdict path names the placeholder', () => {
    expect(renderSummary(frozen(actVerdict))).toContain('vigil reproduce <verdict.json> f0123456789ab')
  })

  it('JSON: the identity, ids, logs and repeats are in the document and valid', () => {
    const doc = JSON.parse(renderJson(frozen(actVerdict))) as Verdict & { $schema: string }
    expect(doc.$schema).toBe('urn:vigil:schema:verdict:3')
    expect(validateVerdict(doc).valid).toBe(true)
    expect(doc.identity.sides?.baseline?.source.ref).toBe('v1.4.0')
    const findings = doc.plans.find((p) => p.name === 'checkout-order')!.checks[0]!
    expect(findings.state === 'failed' && findings.findings[0]!.evidence!.logs!.services.orders).toHaveLength(
      2,
    )
  })

  it('JUnit: the builds as suite properties, the log lines and reproduce line in the failure', () => {
    const xml = renderJunit(frozen(actVerdict), { verdictPath })
    const parser = new XMLParser({
      ignoreAttributes: false,
      attributeNamePrefix: '',
      isArray: (name) => ['testsuite', 'testcase', 'property'].includes(name),
    })
    const doc = parser.parse(xml) as {
      testsuites: {
        testsuite: Array<{
          name: string
          properties: { property: Array<{ name: string; value: string }> }
          testcase: Array<{ name: string; failure?: { '#text': string } }>
        }>
      }
    }
    const suite = doc.testsuites.testsuite.find((s) => s.name === 'checkout-order')!
    const props = Object.fromEntries(suite.properties.property.map((p) => [p.name, p.value]))
    expect(props['vigil.candidate.source']).toContain('patch samples/shop/changes/field-rename.patch')
    expect(props['vigil.baseline.source']).toContain('v1.4.0 at fedcba987654')
    expect(props['vigil.baseline.services']).toBe(
      'catalog: node catalog/server.js · version unknown (GET /version answered 404); orders: npx shop-orders@1.4.0 · version 1.4.0',
    )
    const failure = suite.testcase[0]!.failure!['#text']
    expect(failure).toContain('after run: vigil reproduce .vigil/ci/verdict.json f0123456789ab')
    expect(failure).toContain(
      'orders | 2025-01-02T03:04:06.005Z stderr     at priceOf (orders/server.js:88:21)',
    )
    expect(failure).toMatch(/at: +\(root\)/)
    // Every suite carries them, the run errors' one too.
    for (const s of doc.testsuites.testsuite)
      expect(s.properties.property.map((p) => p.name)).toContain('vigil.candidate.services')
  })

  it('Markdown: a table of the builds, the log lines in a block, reproduce after the run', () => {
    const md = renderMarkdown(frozen(actVerdict), { verdictPath })
    expect(md).toContain('| Side | Built from | Services |')
    expect(md).toMatch(
      /\| baseline \| v1\.4\.0 at fedcba987654 · process · baseline overrides services\.orders\.command \| `catalog: /,
    )
    expect(md).toContain(
      "Service logs (written during the request; other checks' lines may be among them, 2 more left out):",
    )
    expect(md).toContain('orders | 2025-01-02T03:04:06.005Z stderr     at priceOf (orders/server.js:88:21)')
    expect(md).toContain('# after the run:\n   vigil reproduce .vigil/ci/verdict.json f0123456789ab')
    expect(md).toContain('- at: `(root)`')
    expect(md).toContain('- repeats: `7 times in all; merged into this one`')
  })
})
