/**
 * Expands a contract block into the requests it sends: a literal `request`, a `requests` list, or
 * the operations of an OpenAPI document; each with its expectation and comparison options, and
 * rendered per sandbox (setup captures differ between baseline and candidate).
 */
import { createHash } from 'node:crypto'
import path from 'node:path'
import { parseRequestLine } from '../../api/vocabulary.js'
export { rendererFor } from '../../api/setup.js'
import type { QueryValue } from '../../http/client.js'
import { fillPlaceholders } from '../../template.js'
import type { CompareOptions } from './compare.js'
import { ContractUsageError } from '../../api/documents/errors.js'
import { checkPattern } from '../../api/comparison/ignore.js'
import { parseTransition, type StatusTransition } from '../../api/comparison/status-transitions.js'
import {
  loadOpenApi,
  selectOperations,
  type OpenApiDocument,
  type OpenApiOperation,
} from '../../api/documents/openapi.js'
import type { CompareParam, ContractParams, ExpectParam, RequestParam } from './params.js'
import { sampleRequest } from '../../api/documents/sample.js'
import { schemaRegistry, type CompiledSchema } from '../../api/documents/schema.js'

/** Comparison settings of one request; null when it is not compared. */
export interface ResolvedCompare extends CompareOptions {
  unsafe: boolean
  learnNoise: boolean
}

/** A request with everything needed to send and judge it. */
export interface ContractRequest {
  /** `GET /orders/{orderId}`, an operation id, or the entry's name. */
  label: string
  service?: string
  headers: Record<string, string>
  expect: ExpectParam
  /** The body schema from `expect.schema`, compiled. */
  schema?: CompiledSchema
  compare: ResolvedCompare | null
  operation?: { doc: OpenApiDocument; op: OpenApiOperation }
  /** Builds the request for one sandbox; `render` resolves `{{…}}` with that sandbox's captures. */
  build(render: <T>(value: T) => T): BuiltRequest
}

export interface BuiltRequest {
  method: string
  path: string
  query?: Record<string, QueryValue>
  headers: Record<string, string>
  json?: unknown
  body?: string
}

/** `"GET /x"` or `{ method, path, … }` → parts; a bare path means GET. */
export function parseRequest(
  request: RequestParam,
): Omit<BuiltRequest, 'headers'> & { headers?: Record<string, string> } {
  return parseRequestLine(request)
}

export function resolveCompare(value: CompareParam | undefined): ResolvedCompare | null {
  if (value === undefined || value === false) return null
  const options = value === true || value === 'baseline' ? {} : value
  for (const pattern of options.ignore ?? []) {
    const problem = checkPattern(pattern)
    if (problem) throw new ContractUsageError(`compare.ignore: ${problem}`)
  }
  const allowStatus: StatusTransition[] = []
  for (const text of options.allowStatus ?? []) {
    const transition = parseTransition(text)
    if (!transition)
      throw new ContractUsageError(
        `compare.allowStatus: "${text}" is not a status transition like '404->400'`,
      )
    allowStatus.push(transition)
  }
  const out: ResolvedCompare = {
    ignore: options.ignore ?? [],
    ignoreOrder: options.ignoreOrder ?? false,
    unsafe: options.unsafe ?? false,
    learnNoise: options.learnNoise ?? true,
    values: options.values ?? 'warning',
    noiseClass: options.noiseClass ?? 'warning',
    allowStatus,
    compareMapping: typeof value === 'object',
  }
  if (options.headers) out.headers = options.headers
  return out
}

function templateRegex(template: string): RegExp {
  const source = template
    .split(/\{[^}]+\}/)
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('[^/]+')
  return new RegExp(`^${source}$`)
}

/** The operation a literal request exercises (method and path template match), if the document has one. */
export function matchOperation(
  doc: OpenApiDocument,
  method: string,
  requestPath: string,
): OpenApiOperation | undefined {
  const pathOnly = requestPath.split('?')[0]!
  const candidates = doc.operations.filter(
    (op) => op.method === method && templateRegex(op.path).test(pathOnly),
  )
  // A literal segment beats a parameter: `/orders/export` before `/orders/{id}`.
  return candidates
    .sort((a, b) => (b.path.match(/\{/g)?.length ?? 0) - (a.path.match(/\{/g)?.length ?? 0))
    .pop()
}

async function compileSchema(
  schema: ExpectParam['schema'],
  planDir: string,
  label: string,
  fileRoots: readonly string[] | undefined,
): Promise<CompiledSchema | undefined> {
  if (schema === undefined) return undefined
  if (typeof schema === 'object') {
    const hash = createHash('sha256').update(JSON.stringify(schema)).digest('hex').slice(0, 16)
    const id = `vigil:inline/${hash}`
    return schemaRegistry.compile(schemaRegistry.fromObject(id, `${label} (inline schema)`, schema))
  }
  const [file, fragment = ''] = schema.split('#')
  const doc = await schemaRegistry.loadFile(path.resolve(planDir, file!), file, fileRoots)
  return schemaRegistry.compile(doc, decodeURIComponent(fragment))
}

/** Every request of a block, in the order they are sent. */
export async function expandRequests(
  params: ContractParams,
  planDir: string,
  checkId: string,
  /** Folders the block's files may be read from (the plan's). @default the project of `planDir` */
  fileRoots?: readonly string[],
): Promise<ContractRequest[]> {
  const blockCompare = resolveCompare(params.compare)
  const blockHeaders = params.headers ?? {}
  const blockExpect = params.expect ?? {}
  const doc = params.openapi
    ? await loadOpenApi(path.resolve(planDir, params.openapi), params.openapi, fileRoots)
    : undefined
  const out: ContractRequest[] = []
  const literal = params.requests ?? (params.request !== undefined ? [{ request: params.request }] : [])
  for (const [i, entry] of literal.entries()) {
    const parsed = parseRequest(entry.request)
    const op = doc
      ? matchOperation(
          doc,
          parsed.method,
          fillPlaceholders(parsed.path, () => 'x'),
        )
      : undefined
    const expect = { ...blockExpect, ...entry.expect }
    const label =
      entry.name ??
      (typeof entry.request === 'string' ? entry.request.trim() : `${parsed.method} ${parsed.path}`)
    const request: ContractRequest = {
      label,
      headers: { ...blockHeaders, ...entry.headers },
      expect,
      schema: await compileSchema(expect.schema, planDir, `${checkId}/${i}`, fileRoots),
      compare: entry.compare !== undefined ? resolveCompare(entry.compare) : blockCompare,
      build: (render) => {
        const built = render(parsed)
        return { ...built, headers: { ...render(request.headers), ...built.headers } }
      },
    }
    const service = entry.service ?? params.service
    if (service) request.service = service
    if (doc && op) request.operation = { doc, op }
    out.push(request)
  }
  if (doc && literal.length === 0) {
    const schema = await compileSchema(blockExpect.schema, planDir, checkId, fileRoots)
    for (const op of selectOperations(doc, params)) {
      const request: ContractRequest = {
        label: op.id === `${op.method} ${op.path}` ? op.id : `${op.id} (${op.method} ${op.path})`,
        headers: { ...blockHeaders },
        expect: blockExpect,
        compare: blockCompare,
        operation: { doc, op },
        build: (render) => {
          const sampled = sampleRequest(doc, op, render(params.params ?? {}))
          const built: BuiltRequest = {
            method: sampled.method,
            path: sampled.path,
            query: sampled.query,
            headers: { ...render(blockHeaders), ...sampled.headers },
          }
          if (sampled.json !== undefined) built.json = sampled.json
          return built
        },
      }
      if (schema) request.schema = schema
      if (params.service) request.service = params.service
      out.push(request)
    }
    if (out.length === 0) throw new ContractUsageError(`${params.openapi}: the filters select no operation`)
  }
  return out
}
