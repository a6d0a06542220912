/**
 * Which checks run first: those that compare what they read with the baseline and change nothing. A check
 * that creates data on the candidate (an e2e step that POSTs an order) would otherwise make a list a
 * comparing check reads differ from the baseline's, and the change would be blamed for it. So the run has
 * two phases: comparing reads, all in parallel; then every other check, all in parallel.
 *
 * A check *changes state* when its block sends an unsafe method (anything but GET, HEAD, OPTIONS, TRACE)
 * anywhere, publishes a message, runs a command, or expands an OpenAPI document's operations (whose
 * methods the block does not show). It *compares* when it has a `compare` that is not `false`, or its
 * kind only runs with a baseline.
 */
import { parseRequestLine, SAFE_METHODS } from '../../api/vocabulary.js'

const CHANGING_KEYS = new Set(['publish', 'run', 'openapi'])

/** True for a check of the first phase: it compares with the baseline and changes no state. */
export function comparesOnly(params: unknown, requiresBaseline: boolean): boolean {
  return (requiresBaseline || hasCompare(params)) && !changesState(params)
}

/** True when anything in the block sends an unsafe method, publishes, runs a command or expands a document. */
export function changesState(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(changesState)
  if (value === null || typeof value !== 'object') return false
  for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
    if (CHANGING_KEYS.has(key) && inner !== undefined && inner !== false) return true
    if (key === 'request' && (typeof inner === 'string' || (inner !== null && typeof inner === 'object'))) {
      try {
        if (!SAFE_METHODS.has(parseRequestLine(inner as Parameters<typeof parseRequestLine>[0]).method))
          return true
      } catch {
        return true
      }
    }
    if (key === 'method' && typeof inner === 'string' && !SAFE_METHODS.has(inner.toUpperCase())) return true
    if (changesState(inner)) return true
  }
  return false
}

function hasCompare(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(hasCompare)
  if (value === null || typeof value !== 'object') return false
  return Object.entries(value as Record<string, unknown>).some(
    ([key, inner]) => (key === 'compare' && inner !== false && inner !== undefined) || hasCompare(inner),
  )
}
