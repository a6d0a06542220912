/**
 * Bodies that are not JSON: the bed's XML import and multipart upload get their cases in those encodings —
 * the valid request is accepted, the cases are parsed by the service's strict parsers — and their holes (an
 * XML parser that expands internal entities, a multipart caption pasted into a template) are found, while
 * the safe twin gets no error finding.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { ReportDescriptor } from '../../../../engine/api/kind.js'
import { createCheckContext } from '../../../support/check-context.js'
import { bedParams, startBedApi, type BedApi } from './bed-api.js'
import { parseMultipart, parseXml } from './bed-forms.js'
import {
  encodeMultipart,
  encodeXml,
  MULTIPART_BOUNDARY,
  withInternalEntity,
  wireForm,
} from '../../../../engine/kinds/adversarial/encodings.js'

const open: BedApi[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((api) => api.close()))
})

async function run(safe: boolean, operation: string, seed = 7): Promise<ReportDescriptor[]> {
  const api = await startBedApi({ safe })
  open.push(api)
  const t = createCheckContext({
    kind: 'adversarial',
    params: bedParams({ operations: [operation], requests: undefined, cases: 120 }),
    plan: { dir: api.dir },
    candidate: { services: api.services },
    seed,
  })
  try {
    await t.run()
  } finally {
    await t.close()
  }
  return t.findings
}

const errors = (findings: ReportDescriptor[]) => findings.filter((f) => (f.severity ?? 'error') === 'error')

describe('adversarial bodies in multipart and XML', { timeout: 120_000 }, () => {
  // Loaded before the runs: on a busy machine loading the runtime can take most of a check's time.
  beforeAll(async () => {
    await import('../../../../engine/kinds/adversarial/run.js')
  }, 120_000)

  it('writes forms and documents the services parse back to the same fields', () => {
    const form = encodeMultipart({ name: 'ada', caption: 'a "b"\r\nc', tags: ['x', 'y'] })
    const type = `multipart/form-data; boundary=${MULTIPART_BOUNDARY}`
    expect(parseMultipart(Buffer.from(form), type)).toBeUndefined() // `tags` twice: the bed refuses repeats
    const single = encodeMultipart({ name: 'ada', caption: 'a "b"\r\nc', n: 42 })
    expect([...parseMultipart(Buffer.from(single), type)!]).toEqual([
      ['name', 'ada'],
      ['caption', 'a "b"\r\nc'],
      ['n', '42'],
    ])
    const doc = encodeXml({ name: '<ada> & "co"' }, 'contact')
    expect(doc).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><contact><name>&lt;ada&gt; &amp; "co"</name></contact>',
    )
    expect([...parseXml(doc, 'contact', false)!]).toEqual([['name', '<ada> & "co"']])
    // What the schema judges is what the service reads: text, numbers where the schema wants one.
    const schema = { type: 'object', properties: { n: { type: 'integer' }, s: { type: 'string' } } }
    expect(wireForm('xml', { n: '7', s: 42 }, schema)).toEqual({ n: 7, s: '42' })
    expect(wireForm('multipart', { s: { a: 1 }, n: [] }, schema)).toEqual({ s: '{"a":1}' })
  })

  it('an internal entity whose expansion is never sent: a parser that reads the DTD shows it, a safe one refuses', () => {
    const entity = withInternalEntity(encodeXml({ name: 'ada' }, 'contact'), 'contact')!
    expect(entity.field).toBe('name')
    expect(entity.text).not.toContain('vigil-xxe-expanded')
    expect(parseXml(entity.text, 'contact', true)?.get('name')).toBe('vigil-xxe-expanded')
    expect(parseXml(entity.text, 'contact', false)).toBeUndefined()
  })

  it('finds the XML parser that expands internal entities; the twin refuses the DOCTYPE', async () => {
    const found = errors(await run(false, 'importContact'))
    const xxe = found.filter((f) => f.messageId === 'injection-evidence')
    expect(xxe.map((f) => [f.data?.operation, f.data?.leak, f.data?.match])).toEqual([
      [
        'importContact',
        'an XML internal entity expanded (the parser reads document type definitions: XXE)',
        'vigil-xxe-expanded',
      ],
    ])
    expect(xxe[0]!.evidence?.details).toMatchObject({ kind: 'xml-entity' })
    expect(xxe[0]!.evidence?.reproduce).toContain("-H 'content-type: application/xml'")
    const twin = await run(true, 'importContact')
    expect(errors(twin)).toEqual([])
    // The cases were XML: the valid request was accepted (no control-rejected warning).
    expect(twin.filter((f) => f.messageId === 'control-rejected')).toEqual([])
  })

  it('finds template injection through a multipart field; the twin renders it as text', async () => {
    for (const seed of [7, 1234]) {
      const found = errors(await run(false, 'uploadAvatar', seed))
      expect(
        found.filter((f) => f.messageId === 'injection-evidence').map((f) => [f.pointer, f.data?.leak]),
      ).toContainEqual(['/caption', 'a template expression evaluated'])
      const twin = await run(true, 'uploadAvatar', seed)
      expect(errors(twin).map((f) => [f.messageId, f.data?.what])).toEqual([])
      expect(twin.filter((f) => f.messageId === 'control-rejected')).toEqual([])
    }
  })
})
