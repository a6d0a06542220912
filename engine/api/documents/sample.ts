/**
 * Concrete requests for OpenAPI operations: values from the plan's `params` first, then documented
 * examples, then values generated from the schemas (openapi-sampler, deterministic). Optional query
 * and header parameters are sent only when the plan gives them.
 */
import { sample } from 'openapi-sampler'
import { get as getPointer } from '../pointer.js'
import type { OpenApiDocument, OpenApiMedia, OpenApiOperation, OpenApiParameter } from './openapi.js'

/** A request as a check sends it (before the sandbox's base URL is prefixed). */
export interface SampledRequest {
  method: string
  /** The path with parameters filled in and percent-encoded. */
  path: string
  query: Record<string, string | string[]>
  headers: Record<string, string>
  json?: unknown
  /** Which parameters (and the body) were generated rather than given or documented. */
  generated: string[]
}

function generate(
  schema: Record<string, unknown> | undefined,
  doc: OpenApiDocument,
  skipReadOnly: boolean,
): unknown {
  if (!schema) return 'x'
  try {
    return sample(schema as never, { skipReadOnly, skipWriteOnly: !skipReadOnly, quiet: true }, doc.raw)
  } catch {
    return 'x'
  }
}

function scalar(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value)
}

/** A JSON media type of a body or response, preferring `application/json`. */
export function jsonMedia(content: readonly OpenApiMedia[]): OpenApiMedia | undefined {
  return (
    content.find((m) => m.mediaType === 'application/json') ??
    content.find((m) => /^application\/([\w.-]+\+)?json$/.test(m.mediaType) || m.mediaType.endsWith('+json'))
  )
}

/**
 * The request to send for an operation. `params` maps parameter names to values (already rendered);
 * `body` replaces the request body.
 */
export function sampleRequest(
  doc: OpenApiDocument,
  op: OpenApiOperation,
  params: Readonly<Record<string, unknown>> = {},
  body?: { value: unknown },
): SampledRequest {
  const out: SampledRequest = { method: op.method, path: op.path, query: {}, headers: {}, generated: [] }
  const value = (p: OpenApiParameter): unknown => {
    if (Object.hasOwn(params, p.name)) return params[p.name]
    if (p.example) return p.example.value
    out.generated.push(`${p.in}:${p.name}`)
    return generate(p.schema, doc, true)
  }
  out.path = op.path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const p = op.parameters.find((x) => x.in === 'path' && x.name === name) ?? {
      name,
      in: 'path' as const,
      required: true,
    }
    return encodeURIComponent(scalar(value(p)))
  })
  for (const p of op.parameters) {
    if (p.in === 'path' || p.in === 'cookie') continue
    if (!p.required && !Object.hasOwn(params, p.name)) continue
    const v = value(p)
    if (p.in === 'query') out.query[p.name] = Array.isArray(v) ? v.map(scalar) : scalar(v)
    else out.headers[p.name.toLowerCase()] = scalar(v)
  }
  if (body) out.json = body.value
  else if (op.requestBody) {
    const media = jsonMedia(op.requestBody.content)
    if (media && !media.example && media.schemaPointer) out.generated.push('body')
    if (media?.example || media?.schemaPointer) out.json = sampleMedia(doc, media)
  }
  return out
}

/** A body in one media type: its documented example, else a value generated from its schema. */
export function sampleMedia(doc: OpenApiDocument, media: OpenApiMedia): unknown {
  if (media.example) return media.example.value
  if (!media.schemaPointer) return undefined
  return generate(getPointer(doc.raw, media.schemaPointer) as Record<string, unknown>, doc, true)
}
