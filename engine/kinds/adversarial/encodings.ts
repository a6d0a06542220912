/**
 * Bodies in the encodings an operation accepts besides JSON: `multipart/form-data` (each top-level field a
 * part; a nested value goes as its JSON text) and XML (each property an element, an array's items repeated
 * elements). The cases mutate the same structured value as for JSON; only the bytes differ, and what the
 * schema judges is what the service can see: on these wires every scalar is text.
 *
 * XML bodies also get one case with an internal entity (XXE without the external part): a document type
 * definition declares two entities, one built from the other, and a field refers to the second. The
 * expanded text is never sent as such, so finding it in the answer shows the parser reads document type
 * definitions. External entities (files, URLs: SSRF) are not sent.
 */
import { RawJson } from './catalog.js'
import { XML_ENTITY_EXPANSION } from './content.js'
import { schemaTypes, type Schema } from './schemas.js'
import { serialize, wire } from './sites.js'

export type BodyEncoding = 'json' | 'multipart' | 'xml'

/** The boundary of every multipart body vigil sends: fixed, so two runs send the same bytes. */
export const MULTIPART_BOUNDARY = 'vigil-form-5e1f0c'

const XML_MEDIA = /^(application|text)\/([\w.-]+\+)?xml$/i

/** The encoding of a media type vigil can write, or undefined. */
export function encodingOf(mediaType: string): BodyEncoding | undefined {
  const type = mediaType.split(';')[0]!.trim().toLowerCase()
  if (type === 'application/json' || /^application\/([\w.-]+\+)?json$/.test(type) || type.endsWith('+json'))
    return 'json'
  if (type === 'multipart/form-data') return 'multipart'
  if (XML_MEDIA.test(type)) return 'xml'
  return undefined
}

/** The content-type header of a body in this encoding and media type. */
export function contentTypeOf(encoding: BodyEncoding, mediaType: string): string {
  return encoding === 'multipart' ? `multipart/form-data; boundary=${MULTIPART_BOUNDARY}` : mediaType
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  !!v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof RawJson)

/** A part's name as browsers write it: quotes and line breaks percent-encoded. */
const partName = (name: string) => name.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A')

/** A multipart/form-data body: one part per field (an array: one per item); a value that is not an object, as its text. */
export function encodeMultipart(value: unknown): string {
  if (!isObject(value)) return wire(value)
  let out = ''
  for (const key of Object.keys(value)) {
    const v = value[key]
    if (v === undefined) continue
    for (const item of Array.isArray(v) ? v : [v]) {
      const body = isObject(item) || Array.isArray(item) ? serialize(item) : wire(item)
      out += `--${MULTIPART_BOUNDARY}\r\nContent-Disposition: form-data; name="${partName(key)}"\r\n\r\n${body}\r\n`
    }
  }
  return `${out}--${MULTIPART_BOUNDARY}--\r\n`
}

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

function elements(value: Record<string, unknown>): string {
  let out = ''
  for (const key of Object.keys(value)) {
    const v = value[key]
    if (v === undefined) continue
    for (const item of Array.isArray(v) ? v : [v])
      out += `<${key}>${isObject(item) ? elements(item) : escapeXml(wire(item))}</${key}>`
  }
  return out
}

const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'

/** An XML document: the root element holds the value's properties (a value that is not an object, as text). */
export function encodeXml(value: unknown, root: string): string {
  const inner = isObject(value) ? elements(value) : escapeXml(wire(value))
  return `${XML_DECLARATION}<${root}>${inner}</${root}>`
}

/** The body of `value` in a non-JSON encoding. */
export function encodeAs(encoding: 'multipart' | 'xml', value: unknown, root: string): string {
  return encoding === 'multipart' ? encodeMultipart(value) : encodeXml(value, root)
}

/**
 * What the service parses out of such a body, for the schema to judge: scalars as text, turned back into
 * a number or a boolean where the schema wants one and the text is one (a form cannot tell 42 from "42");
 * in multipart, a nested value is its JSON text.
 */
export function wireForm(
  encoding: 'multipart' | 'xml',
  value: unknown,
  schema: Schema | undefined,
  depth = 0,
): unknown {
  if (value === undefined) return undefined
  // In a form, only the top level has fields, and a field's list is its repeated parts; below, JSON text.
  const asText = encoding === 'multipart' && (isObject(value) ? depth > 0 : depth > 1)
  if (isObject(value) && !asText) {
    const props = (schema?.properties ?? {}) as Record<string, Schema>
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(value)) {
      const v = wireForm(encoding, value[key], props[key], depth + 1)
      if (v !== undefined)
        Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true })
    }
    return out
  }
  if (Array.isArray(value) && !asText) {
    // No item, no part or element: the field is not there. One reads as a lone value unless a list is expected.
    if (value.length === 0) return undefined
    const items = schema?.items as Schema | undefined
    const list = value.map((v) => wireForm(encoding, v, items, depth + 1))
    return list.length === 1 && !schemaTypes(schema).includes('array') ? list[0] : list
  }
  return typedText(isObject(value) || Array.isArray(value) ? serialize(value) : wire(value), schema)
}

/** Text as a service reads it: a number or a boolean where the schema wants one and the text is one. */
export function typedText(raw: string, schema: Schema | undefined): unknown {
  const types = schemaTypes(schema)
  if (
    (types.includes('integer') || types.includes('number')) &&
    /^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(raw)
  )
    return Number(raw)
  if (types.includes('boolean') && (raw === 'true' || raw === 'false')) return raw === 'true'
  return raw
}

/**
 * The valid XML document with an internal entity: a document type definition declaring `vigila` and
 * `vigilb` (built from `vigila`), and the first text element's content replaced by `&vigilb;`. Undefined
 * when the document has no text element.
 */
export function withInternalEntity(
  validXml: string,
  root: string,
): { text: string; field: string } | undefined {
  const leaf = /<([A-Za-z_][\w.-]*)>([^<]*)<\/\1>/.exec(
    validXml.slice(XML_DECLARATION.length + root.length + 2),
  )
  if (!leaf) return undefined
  const half = XML_ENTITY_EXPANSION.lastIndexOf('-') + 1
  const dtd = `<!DOCTYPE ${root} [<!ENTITY vigila "${XML_ENTITY_EXPANSION.slice(0, half)}"><!ENTITY vigilb "&vigila;${XML_ENTITY_EXPANSION.slice(half)}">]>`
  const start = XML_DECLARATION.length + root.length + 2 + leaf.index
  const body = `${validXml.slice(XML_DECLARATION.length, start)}<${leaf[1]}>&vigilb;</${leaf[1]}>${validXml.slice(start + leaf[0].length)}`
  return { text: `${XML_DECLARATION}${dtd}${body}`, field: leaf[1]! }
}
