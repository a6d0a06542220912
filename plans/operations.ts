/**
 * The operation ids of an OpenAPI 3 document, as a check names them in `operations:` — each operation's
 * `operationId`, else `METHOD /path` — read from the parsed document without loading the check's runtime,
 * so lint finds an id the document does not have at the name in the plan, with the ids it does have.
 */
import { distance } from 'fastest-levenshtein'
import { get } from './pointer.js'

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const

/**
 * Reads the document a `$ref`'s file part names, relative to the document `from` (undefined: the one the
 * check names): its parsed value (undefined when it cannot be read) and where it is, for its own `$ref`s.
 */
export type ReadReferenced = (file: string, from?: string) => Promise<{ value: unknown; at?: string }>

/**
 * The ids of an OpenAPI 3.x document's operations, by path then method (the order the checks use), or
 * undefined when the value is not such a document (the check says so when it runs). A path item may be a
 * `$ref`, inside the document or to another file (`read` follows those).
 */
export async function operationIds(document: unknown, read: ReadReferenced): Promise<string[] | undefined> {
  if (!isRecord(document) || typeof document.openapi !== 'string' || !/^3\.[01]\./.test(document.openapi))
    return undefined
  const paths = isRecord(document.paths) ? document.paths : {}
  const ids: string[] = []
  for (const template of Object.keys(paths).sort()) {
    const item = await pathItem(document, paths[template], read)
    if (!item) continue
    for (const method of METHODS) {
      const op = item[method]
      if (!isRecord(op)) continue
      ids.push(typeof op.operationId === 'string' ? op.operationId : `${method.toUpperCase()} ${template}`)
    }
  }
  return ids
}

/** A path item, following at most a few `$ref`s. */
async function pathItem(
  document: Record<string, unknown>,
  value: unknown,
  read: ReadReferenced,
): Promise<Record<string, unknown> | undefined> {
  let current = value
  let within: unknown = document
  let at: string | undefined
  for (let hops = 0; hops < 10 && isRecord(current); hops++) {
    const ref = current.$ref
    if (typeof ref !== 'string') return current
    const [file = '', fragment = ''] = ref.split('#')
    if (file !== '') ({ value: within, at } = await read(file, at))
    let pointer = fragment
    try {
      pointer = decodeURIComponent(fragment)
    } catch {
      // Kept as written.
    }
    current = pointer === '' || pointer.startsWith('/') ? get(within, pointer) : undefined
  }
  return undefined
}

/**
 * `getOrder, listOrders, createOrder`: the ids closest to `wanted` first (edit distance, then document
 * order), at most `max` of them and how many more there are.
 */
export function closestFirst(wanted: string, ids: readonly string[], max = 10): string {
  const lower = wanted.toLowerCase()
  const ranked = ids
    .map((id, order) => ({ id, order, d: distance(lower, id.toLowerCase()) }))
    .sort((a, b) => a.d - b.d || a.order - b.order)
    .map((r) => r.id)
  const shown = ranked.slice(0, max).join(', ')
  return ranked.length > max ? `${shown} and ${ranked.length - max} more` : shown
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}
