/**
 * The contract kind's lint beyond its schema: a `compare` that can never compare. An unsafe method (POST,
 * PUT, PATCH, DELETE…) is sent to the baseline only with `compare.unsafe: true`; without it the request is
 * not compared at all, so a breaking change would pass with an info line. That is a plan mistake, found
 * when plans load. Requests an OpenAPI document expands are not seen here (their methods are in the document).
 */
import type { BlockProblem } from '../../../plans/parse-plan.js'
import { parseRequestLine, SAFE_METHODS } from '../../api/vocabulary.js'
import type { CompareParam, ContractParams } from './params.js'

export function lintContract(block: Record<string, unknown>): BlockProblem[] {
  const params = block as ContractParams
  const problems: BlockProblem[] = []
  const entries = params.requests
    ? params.requests.map((entry, i) => ({ entry, at: `/requests/${i}` }))
    : params.request !== undefined
      ? [{ entry: { request: params.request }, at: '' }]
      : []
  for (const { entry, at } of entries) {
    const own = 'compare' in entry && entry.compare !== undefined
    const compare: CompareParam | undefined = own ? entry.compare : params.compare
    if (!comparesWithoutUnsafe(compare)) continue
    let method: string
    try {
      method = parseRequestLine(entry.request).method
    } catch {
      continue
    }
    if (SAFE_METHODS.has(method)) continue
    const pointer = own ? `${at}/compare` : '/compare'
    problems.push({
      pointer,
      code: 'compare-never-runs',
      message:
        `compare with the baseline never happens for ${method} ${describe(entry.request)}: ${method} is not a ` +
        'safe method, so it is only sent to the baseline with unsafe: true. Write ' +
        '`compare: { unsafe: true }` when both sandboxes are throw-away, or remove compare',
    })
  }
  return problems
}

/** True when `compare` asks for a comparison but does not allow unsafe methods. */
function comparesWithoutUnsafe(compare: CompareParam | undefined): boolean {
  if (compare === undefined || compare === false) return false
  if (compare === true || compare === 'baseline') return true
  return compare.unsafe !== true
}

function describe(request: unknown): string {
  if (typeof request === 'string') return request.trim().replace(/^\S+\s+/, '')
  return String((request as { path?: unknown }).path ?? '')
}
