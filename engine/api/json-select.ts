/**
 * Selecting values in a JSON document: JSON Pointer (RFC 6901, `/items/0/sku`) and a JSONPath
 * subset (`$.items[0].sku`, `$.items[*].sku`, `$..sku`, `$.items[-1]`, `$.items[?(@.sku == 'tea')].qty`).
 */
import { VigilError } from '../errors.js'
import { find, type PointerTarget } from './pointer.js'

/** The outcome of a selection: `found: false` when nothing is there (distinct from a `null` value). */
export type Selection = PointerTarget

/** A JSON pointer or JSONPath that cannot be read: the plan is wrong (exit 2). */
export class SelectorSyntaxError extends VigilError {
  constructor(message: string) {
    super('VIGIL_SELECTOR', message, { exitCode: 2 })
  }
}

function own(value: unknown, key: string): boolean {
  return value !== null && typeof value === 'object' && Object.hasOwn(value, key)
}

/** Reads a JSON Pointer. `''` is the whole document. */
export function selectPointer(document: unknown, pointer: string): Selection {
  if (pointer === '') return { found: true, value: document }
  if (!pointer.startsWith('/')) throw new SelectorSyntaxError(`JSON pointer "${pointer}" must start with "/"`)
  return find(document, pointer)
}

type Segment =
  | { type: 'key'; key: string }
  | { type: 'index'; index: number }
  | { type: 'wildcard' }
  | { type: 'descend'; key: string | null }
  | { type: 'filter'; path: string[]; op?: string; value?: unknown }

const FILTER = /^\?\(\s*@((?:\.[\w$-]+)*)\s*(?:(==|!=|<=|>=|<|>)\s*(.+?))?\s*\)$/

function parseLiteral(text: string, path: string): unknown {
  const t = text.trim()
  if (/^'.*'$/.test(t)) return t.slice(1, -1)
  try {
    return JSON.parse(t)
  } catch {
    throw new SelectorSyntaxError(`JSONPath "${path}": cannot read literal ${t}`)
  }
}

function parseBracket(inner: string, path: string): Segment {
  const t = inner.trim()
  if (t === '*') return { type: 'wildcard' }
  if (/^-?\d+$/.test(t)) return { type: 'index', index: Number(t) }
  if (/^'[^']*'$|^"[^"]*"$/.test(t)) return { type: 'key', key: t.slice(1, -1) }
  const filter = FILTER.exec(t)
  if (filter) {
    const fieldPath = filter[1] ? filter[1].slice(1).split('.') : []
    return filter[2]
      ? { type: 'filter', path: fieldPath, op: filter[2], value: parseLiteral(filter[3]!, path) }
      : { type: 'filter', path: fieldPath }
  }
  throw new SelectorSyntaxError(`JSONPath "${path}": unsupported selector [${inner}]`)
}

export function parseJsonPath(path: string): Segment[] {
  if (!path.startsWith('$')) throw new SelectorSyntaxError(`JSONPath "${path}" must start with "$"`)
  const segments: Segment[] = []
  let i = 1
  while (i < path.length) {
    if (path.startsWith('..', i)) {
      i += 2
      const name = /^[\w$-]+|^\*/.exec(path.slice(i))
      if (!name) throw new SelectorSyntaxError(`JSONPath "${path}": expected a name after ".."`)
      segments.push({ type: 'descend', key: name[0] === '*' ? null : name[0] })
      i += name[0].length
    } else if (path[i] === '.') {
      const name = /^[\w$-]+|^\*/.exec(path.slice(i + 1))
      if (!name) throw new SelectorSyntaxError(`JSONPath "${path}": expected a name after "." at ${i}`)
      segments.push(name[0] === '*' ? { type: 'wildcard' } : { type: 'key', key: name[0] })
      i += 1 + name[0].length
    } else if (path[i] === '[') {
      // A filter may hold "]" inside quotes; find the bracket that closes this one.
      let depth = 0
      let quote: string | null = null
      let end = i
      for (; end < path.length; end++) {
        const c = path[end]
        if (quote) {
          if (c === quote) quote = null
        } else if (c === "'" || c === '"') quote = c
        else if (c === '[' || c === '(') depth++
        else if (c === ']' || c === ')') {
          depth--
          if (depth === 0 && c === ']') break
        }
      }
      if (end >= path.length) throw new SelectorSyntaxError(`JSONPath "${path}": unclosed "["`)
      segments.push(parseBracket(path.slice(i + 1, end), path))
      i = end + 1
    } else {
      throw new SelectorSyntaxError(`JSONPath "${path}": unexpected "${path[i]}" at ${i}`)
    }
  }
  return segments
}

function children(value: unknown): unknown[] {
  if (Array.isArray(value)) return value
  if (value !== null && typeof value === 'object') return Object.values(value)
  return []
}

function compare(a: unknown, op: string, b: unknown): boolean {
  switch (op) {
    case '==':
      return a === b
    case '!=':
      return a !== b
    default:
      if (typeof a !== typeof b || (typeof a !== 'number' && typeof a !== 'string')) return false
      if (op === '<') return (a as number) < (b as number)
      if (op === '<=') return (a as number) <= (b as number)
      if (op === '>') return (a as number) > (b as number)
      return (a as number) >= (b as number)
  }
}

function step(nodes: unknown[], segment: Segment): unknown[] {
  const out: unknown[] = []
  for (const node of nodes) {
    switch (segment.type) {
      case 'key':
        if (own(node, segment.key) && !Array.isArray(node))
          out.push((node as Record<string, unknown>)[segment.key])
        break
      case 'index':
        if (Array.isArray(node)) {
          const index = segment.index < 0 ? node.length + segment.index : segment.index
          if (index >= 0 && index < node.length) out.push(node[index])
        }
        break
      case 'wildcard':
        out.push(...children(node))
        break
      case 'descend': {
        const visit = (value: unknown) => {
          if (segment.key === null) out.push(...children(value))
          else if (own(value, segment.key) && !Array.isArray(value))
            out.push((value as Record<string, unknown>)[segment.key])
          for (const child of children(value)) visit(child)
        }
        visit(node)
        break
      }
      case 'filter':
        for (const child of children(node)) {
          const field = selectPointer(child, segment.path.map((k) => '/' + k).join(''))
          if (
            segment.op === undefined
              ? field.found
              : field.found && compare(field.value, segment.op, segment.value)
          )
            out.push(child)
        }
        break
    }
  }
  return out
}

/** True when a JSONPath selects at most one value by construction (no wildcard, filter or descent). */
export function isDefinitePath(path: string): boolean {
  return parseJsonPath(path).every((s) => s.type === 'key' || s.type === 'index')
}

/** Every value a JSONPath selects, in document order. */
export function queryJsonPath(document: unknown, path: string): unknown[] {
  let nodes: unknown[] = [document]
  for (const segment of parseJsonPath(path)) nodes = step(nodes, segment)
  return nodes
}

/**
 * Selects by JSON Pointer (`/a/0`) or JSONPath (`$.a[0]`). A definite JSONPath gives its one value;
 * an indefinite one (wildcards, filters, `..`) gives the array of all matches.
 */
export function select(document: unknown, selector: string): Selection {
  if (!selector.startsWith('$')) return selectPointer(document, selector)
  const matches = queryJsonPath(document, selector)
  if (isDefinitePath(selector)) return matches.length ? { found: true, value: matches[0] } : { found: false }
  return { found: true, value: matches }
}
