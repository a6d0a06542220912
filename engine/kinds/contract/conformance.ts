/**
 * Conformance of one response: status against the expected or documented ones, content type,
 * required headers, and the body against a JSON Schema or the OpenAPI response schema.
 */
import { mediaType, mediaTypeMatches } from './headers.js'
import {
  documentedResponse,
  type OpenApiDocument,
  type OpenApiOperation,
} from '../../api/documents/openapi.js'
import { jsonMedia } from '../../api/documents/sample.js'
import { schemaRegistry, validateValue, type CompiledSchema } from '../../api/documents/schema.js'
import { PRESENT, describeValue } from '../../api/values.js'

/** What a response must satisfy. Explicit parts win over what the OpenAPI operation documents. */
export interface Expectation {
  /** Allowed statuses: codes or ranges such as `2XX`. @default the documented ones, else `2XX` */
  status?: ReadonlyArray<number | string>
  /** Allowed media types (`application/json`, `application/*`). @default the documented ones */
  contentType?: readonly string[]
  /** Headers that must be present. @default the documented required ones */
  headers?: readonly string[]
  /** Schema of the body. @default the documented one for the status and media type */
  schema?: CompiledSchema
  /** The operation the request exercises, when the check works from an OpenAPI document. */
  operation?: { doc: OpenApiDocument; op: OpenApiOperation }
}

export interface ResponseLike {
  status: number
  headers: Readonly<Record<string, string>>
  body: Buffer
  json(): unknown
}

export interface Violation {
  messageId: 'status' | 'content-type' | 'missing-header' | 'schema' | 'not-json'
  pointer?: string
  expected: unknown
  actual: unknown
  data: Record<string, string>
}

export interface ConformanceResult {
  violations: Violation[]
  /** The schema that applied to this response, if any. */
  schema?: CompiledSchema
}

function statusAllowed(status: number, allowed: ReadonlyArray<number | string>): boolean {
  return allowed.some((a) => {
    const text = String(a).toUpperCase()
    return (
      text === String(status) ||
      (/^[1-5]XX$/.test(text) && text[0] === String(status)[0]) ||
      text === 'DEFAULT'
    )
  })
}

function list(values: ReadonlyArray<unknown>): string {
  const texts = values.map(String)
  return texts.length === 1 ? texts[0]! : `one of ${texts.join(', ')}`
}

/** Checks a response; the violations come in a fixed order (status, content type, headers, body by pointer). */
export function checkConformance(response: ResponseLike, expectation: Expectation): ConformanceResult {
  const violations: Violation[] = []
  const op = expectation.operation?.op
  const documented = op ? documentedResponse(op, response.status) : undefined
  const allowed = expectation.status ?? (op?.responses.length ? op.responses.map((r) => r.status) : ['2XX'])
  if (!statusAllowed(response.status, allowed)) {
    violations.push({
      messageId: 'status',
      expected: allowed.length === 1 ? allowed[0] : [...allowed],
      actual: response.status,
      data: { expected: list(allowed), actual: String(response.status) },
    })
    // A body of an unexpected status has no schema to meet, unless the document describes it.
    if (!documented || expectation.status) return { violations }
  }
  const actualType = mediaType(response.headers['content-type'])
  const documentedTypes = documented?.content.map((m) => m.mediaType) ?? []
  const types =
    expectation.contentType ?? (response.body.length && documentedTypes.length ? documentedTypes : undefined)
  if (types && !types.some((t) => mediaTypeMatches(actualType, t))) {
    violations.push({
      messageId: 'content-type',
      pointer: 'header:content-type',
      expected: types.length === 1 ? types[0] : [...types],
      actual: response.headers['content-type'] ?? null,
      data: { expected: list(types), actual: response.headers['content-type'] ?? 'none' },
    })
  }
  const required = [
    ...(expectation.headers ?? []),
    ...(documented?.headers.filter((h) => h.required).map((h) => h.name) ?? []),
  ]
  for (const header of [...new Set(required.map((h) => h.toLowerCase()))].sort()) {
    if (response.headers[header] === undefined) {
      violations.push({
        messageId: 'missing-header',
        pointer: `header:${header}`,
        expected: PRESENT,
        actual: undefined,
        data: { header },
      })
    }
  }
  const schema =
    expectation.schema ?? documentedSchema(expectation.operation?.doc, documented?.content, actualType)
  if (schema) violations.push(...bodyViolations(response, schema))
  return schema ? { violations, schema } : { violations }
}

function documentedSchema(
  doc: OpenApiDocument | undefined,
  content: Parameters<typeof jsonMedia>[0] | undefined,
  actualType: string | undefined,
): CompiledSchema | undefined {
  if (!doc || !content?.length) return undefined
  const media = content.find((m) => mediaTypeMatches(actualType, m.mediaType)) ?? jsonMedia(content)
  if (!media?.schemaPointer) return undefined
  if (!/json/.test(media.mediaType) && media.mediaType !== '*/*') return undefined
  return schemaRegistry.compile(doc.schemas, media.schemaPointer)
}

function bodyViolations(response: ResponseLike, schema: CompiledSchema): Violation[] {
  const body = response.json()
  if (body === undefined) {
    const actual = response.body.length
      ? describeValue(response.body.subarray(0, 80).toString('utf8'))
      : 'an empty body'
    return [{ messageId: 'not-json', pointer: '', expected: 'a JSON body', actual, data: { actual } }]
  }
  return validateValue(schema, body).map((v) => ({
    messageId: 'schema',
    pointer: v.pointer,
    expected: v.expected,
    actual: v.actual,
    data: {
      pointer: v.pointer || '(body)',
      reason: v.message,
      actual: v.actual === undefined ? 'nothing' : describeValue(v.actual),
    },
  }))
}
