/**
 * The bed's operations that take other bodies than JSON: a contact imported from an XML document, and an
 * avatar's caption sent as multipart/form-data. Their parsers are small and strict (anything they do not
 * understand is a 400, never a 500). Holes: the XML parser reads the document type definition and expands
 * its internal entities (the twin refuses a DOCTYPE); the caption is pasted into a template before it is
 * rendered (the twin renders it as text).
 */
import type { IncomingHttpHeaders, ServerResponse } from 'node:http'

const str = { type: 'string', minLength: 1, maxLength: 200 }

export const BED_FORM_PATHS = {
  '/contacts/import': {
    post: {
      operationId: 'importContact',
      requestBody: {
        required: true,
        content: {
          'application/xml': {
            schema: {
              type: 'object',
              required: ['name'],
              properties: { name: str },
              additionalProperties: false,
              xml: { name: 'contact' },
            },
            example: { name: 'ada' },
          },
        },
      },
      responses: { '201': { description: 'imported' }, '400': { description: 'invalid' } },
    },
  },
  '/avatars': {
    post: {
      operationId: 'uploadAvatar',
      requestBody: {
        required: true,
        content: {
          'multipart/form-data': {
            schema: {
              type: 'object',
              required: ['name', 'caption'],
              properties: { name: str, caption: str },
              additionalProperties: false,
            },
            example: { name: 'ada', caption: 'at the beach' },
          },
        },
      },
      responses: { '201': { description: 'uploaded' }, '400': { description: 'invalid' } },
    },
  },
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

function decode(raw: Buffer): string | undefined {
  try {
    return utf8.decode(raw)
  } catch {
    return undefined
  }
}

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" }

/** Replaces entity references; undefined when one is unknown or a bare `&` stands alone. */
function expand(text: string, entities: Record<string, string>, depth = 0): string | undefined {
  if (depth > 4) return undefined
  let failed = false
  const out = text.replace(/&(#\d+|#x[0-9a-fA-F]+|\w+);|&/g, (whole, ref: string | undefined) => {
    if (!ref) return ((failed = true), whole)
    if (ref.startsWith('#x')) return String.fromCodePoint(parseInt(ref.slice(2), 16))
    if (ref.startsWith('#')) return String.fromCodePoint(Number(ref.slice(1)))
    if (Object.hasOwn(PREDEFINED, ref)) return PREDEFINED[ref]!
    if (!Object.hasOwn(entities, ref)) return ((failed = true), whole)
    const inner = expand(entities[ref]!, entities, depth + 1)
    if (inner === undefined) failed = true
    return inner ?? whole
  })
  return failed ? undefined : out
}

/**
 * `<?xml …?>`, an optional DOCTYPE of internal entities (read only when `entities` is true), then
 * `<root>` holding text elements: their texts by name, or undefined when it is anything else.
 */
export function parseXml(text: string, root: string, entities: boolean): Map<string, string> | undefined {
  let rest = text
  const declaration = /^<\?xml[^?]*\?>/.exec(rest)
  if (declaration) rest = rest.slice(declaration[0].length)
  const declared: Record<string, string> = {}
  const doctype = /^<!DOCTYPE\s+\w+\s*\[((?:\s*<!ENTITY\s+\w+\s+"[^"]*"\s*>)*)\s*\]>/.exec(rest)
  if (doctype) {
    if (!entities) return undefined
    for (const m of doctype[1]!.matchAll(/<!ENTITY\s+(\w+)\s+"([^"]*)"\s*>/g)) declared[m[1]!] = m[2]!
    rest = rest.slice(doctype[0].length)
  } else if (/^<!DOCTYPE/i.test(rest)) return undefined
  const whole = new RegExp(`^<${root}>((?:<(\\w+)>[^<]*</\\2>)*)</${root}>$`).exec(rest)
  if (!whole) return undefined
  const fields = new Map<string, string>()
  for (const m of whole[1]!.matchAll(/<(\w+)>([^<]*)<\/\1>/g)) {
    const value = expand(m[2]!, declared)
    if (value === undefined || fields.has(m[1]!)) return undefined
    fields.set(m[1]!, value)
  }
  return fields
}

/** A multipart/form-data body's fields by name, or undefined when it cannot be read (or repeats a name). */
export function parseMultipart(raw: Buffer, type: string): Map<string, string> | undefined {
  const boundary = /^multipart\/form-data;\s*boundary=("?)([^";]+)\1$/i.exec(type)?.[2]
  const text = decode(raw)
  if (!boundary || text === undefined) return undefined
  const delimiter = `--${boundary}`
  const end = text.indexOf(`\r\n${delimiter}--`)
  if (!text.startsWith(`${delimiter}\r\n`) || end < 0) return undefined
  const fields = new Map<string, string>()
  for (const part of text.slice(delimiter.length + 2, end).split(`\r\n${delimiter}\r\n`)) {
    const split = part.indexOf('\r\n\r\n')
    if (split < 0) return undefined
    const name = /^content-disposition: form-data; name="([^"]*)"$/im.exec(part.slice(0, split))?.[1]
    if (name === undefined || fields.has(name)) return undefined
    fields.set(name, part.slice(split + 4))
  }
  return fields
}

type Send = (res: ServerResponse, status: number, value: unknown) => void

/** Exactly these fields, each a text of 1 to 200 characters: the fields as an object, else undefined. */
function exactly(
  fields: Map<string, string> | undefined,
  names: string[],
): Record<string, string> | undefined {
  if (!fields || fields.size !== names.length || !names.every((n) => fields.has(n))) return undefined
  const out = Object.fromEntries(names.map((n) => [n, fields.get(n)!]))
  return Object.values(out).every((v) => v.length >= 1 && v.length <= 200) ? out : undefined
}

/** A handler for these operations; returns false when the request is not one of them. */
export function bedForms(
  safe: boolean,
  render: (template: string) => string,
): (
  method: string,
  url: URL,
  raw: Buffer,
  headers: IncomingHttpHeaders,
  res: ServerResponse,
  send: Send,
) => boolean {
  return (method, url, raw, headers, res, send) => {
    const type = headers['content-type'] ?? ''
    if (method === 'POST' && url.pathname === '/contacts/import') {
      if (!/^(application|text)\/xml$/i.test(type)) return (send(res, 415, { error: 'XML only' }), true)
      const text = decode(raw)
      // Hole: the document type definition is read, and its entities expanded.
      const contact = exactly(text === undefined ? undefined : parseXml(text, 'contact', !safe), ['name'])
      if (!contact) return (send(res, 400, { error: 'invalid' }), true)
      return (send(res, 201, { imported: contact.name }), true)
    }
    if (method === 'POST' && url.pathname === '/avatars') {
      if (!/^multipart\/form-data/i.test(type)) return (send(res, 415, { error: 'a form only' }), true)
      const form = exactly(parseMultipart(raw, type), ['name', 'caption'])
      if (!form) return (send(res, 400, { error: 'invalid' }), true)
      // Hole: the caption becomes part of the template before it is rendered.
      const caption = safe ? form.caption! : render(`${form.caption}`)
      return (send(res, 201, { name: form.name, caption }), true)
    }
    return false
  }
}
