import { closest, distance } from 'fastest-levenshtein'
import type { ErrorObject } from 'ajv'
import { join, split } from './pointer.js'

/** One schema problem in plain words, anchored to a place in the validated document. */
export interface SchemaIssue {
  /** JSON pointer of the node the issue is about. */
  pointer: string
  /** Point at the property key, the value, or the enclosing object (missing properties). */
  anchor: 'key' | 'value' | 'container'
  code: string
  message: string
}

/** Suggests the candidate nearest to `word` when it is close enough to be a likely typo. */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  if (candidates.length === 0 || word === '') return undefined
  const best = closest(word, candidates as string[])
  const limit = Math.max(2, Math.floor(best.length / 3))
  return distance(word.toLowerCase(), best.toLowerCase()) <= limit ? best : undefined
}

/** `/steps/0/request` → `steps[0].request`; '' → the root label. */
export function describePointer(pointer: string, root: string): string {
  if (pointer === '') return root
  let out = ''
  for (const segment of split(pointer)) {
    if (/^\d+$/.test(segment)) out += `[${segment}]`
    else if (/^[A-Za-z_$][\w$-]*$/.test(segment)) out += out === '' ? segment : `.${segment}`
    else out += `[${JSON.stringify(segment)}]`
  }
  return out
}

const TYPE_WORDS: Record<string, string> = {
  object: 'a mapping',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'true or false',
  null: 'null',
}

/** How a value reads in a message: `"yes"`, `42`, `a list`, `nothing`. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'nothing'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'a mapping'
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value)
  return String(value)
}

function typeList(types: readonly string[]): string {
  const words = [...new Set(types.map((t) => TYPE_WORDS[t] ?? t))]
  return words.length <= 1
    ? (words[0] ?? 'something else')
    : `${words.slice(0, -1).join(', ')} or ${words.at(-1)}`
}

function quoteList(items: readonly unknown[]): string {
  return items.map((i) => (typeof i === 'string' ? i : JSON.stringify(i))).join(', ')
}

/**
 * Rewrites ajv's errors into plain sentences, one per problem: alternatives (`anyOf`/`oneOf`) collapse
 * into one message, or into the errors of the branch that fits the value best.
 * `within` is where the validated value sits in a larger document (`/sandbox` for a sandbox section of
 * the config): messages name the whole path, pointers stay relative to the value.
 */
export function translateErrors(errors: readonly ErrorObject[], root: string, within = ''): SchemaIssue[] {
  if (within !== '') {
    const moved = errors.map((e) => ({ ...e, instancePath: within + e.instancePath }))
    return translateErrors(moved, root).map((issue) => ({
      ...issue,
      pointer: issue.pointer.startsWith(within) ? issue.pointer.slice(within.length) : issue.pointer,
    }))
  }
  const issues: SchemaIssue[] = []
  const compounds = errors
    .filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf')
    .sort((a, b) => a.schemaPath.length - b.schemaPath.length)
  const consumed = new Set<ErrorObject>()
  for (const compound of compounds) {
    if (consumed.has(compound)) continue
    const prefix = `${compound.schemaPath}/`
    const subs = errors.filter((e) => e.schemaPath.startsWith(prefix))
    for (const e of subs) consumed.add(e)
    consumed.add(compound)
    issues.push(...translateCompound(compound, subs, root))
  }
  for (const error of errors) {
    if (consumed.has(error)) continue
    const issue = translateOne(error, root)
    if (issue) issues.push(issue)
  }
  return issues
}

function translateCompound(compound: ErrorObject, subs: ErrorObject[], root: string): SchemaIssue[] {
  const subject = describePointer(compound.instancePath, root)
  const pointer = compound.instancePath
  if (compound.keyword === 'oneOf' && subs.length === 0) {
    return [
      {
        pointer,
        anchor: 'value',
        code: 'ambiguous',
        message: `${subject} matches more than one allowed form`,
      },
    ]
  }
  const branches = new Map<string, ErrorObject[]>()
  for (const e of subs) {
    const branch = e.schemaPath.slice(compound.schemaPath.length + 1).split('/')[0]!
    branches.set(branch, [...(branches.get(branch) ?? []), e])
  }
  const lists = [...branches.values()]
  const atSelf = (e: ErrorObject) => e.instancePath === pointer
  if (lists.every((l) => l.length === 1 && l[0]!.keyword === 'type' && atSelf(l[0]!))) {
    const types = lists.flatMap((l) => [l[0]!.params.type as string | string[]].flat())
    const message = `${subject} must be ${typeList(types)}, got ${describeValue(compound.data)}`
    return [{ pointer, anchor: 'value', code: 'wrong-type', message }]
  }
  if (lists.every((l) => l.every((e) => e.keyword === 'required' && atSelf(e)))) {
    const options = lists.map((l) => l.map((e) => `"${e.params.missingProperty as string}"`).join(' and '))
    const where = pointer === '' ? '' : ` in ${subject}`
    const message = `missing required property ${options.join(' or ')}${where}`
    return [{ pointer, anchor: 'container', code: 'missing-property', message }]
  }
  // Branches whose expected type does not even fit the value are not what the author meant.
  const fitting = lists.filter((l) => !l.some((e) => e.keyword === 'type' && atSelf(e)))
  if (fitting.length === 0) {
    const message = `${subject} does not match any allowed form, got ${describeValue(compound.data)}`
    return [{ pointer, anchor: 'value', code: 'invalid-value', message }]
  }
  const best = fitting.reduce((a, b) => (b.length < a.length ? b : a))
  return translateErrors(best, root)
}

function translateOne(error: ErrorObject, root: string): SchemaIssue | undefined {
  const pointer = error.instancePath
  const subject = describePointer(pointer, root)
  const parent = (error.parentSchema ?? {}) as Record<string, unknown>
  const hint = typeof parent['x-hint'] === 'string' ? parent['x-hint'] : undefined
  const got = describeValue(error.data)
  const p = error.params as Record<string, unknown>
  switch (error.keyword) {
    case 'additionalProperties': {
      const name = String(p.additionalProperty)
      const allowed = Object.keys((parent.properties as Record<string, unknown> | undefined) ?? {})
      const suggestion = didYouMean(name, allowed)
      const where = pointer === '' ? '' : ` in ${subject}`
      const expected = allowed.length ? `; expected one of ${allowed.join(', ')}` : ''
      const mean = suggestion ? ` (did you mean "${suggestion}"?)` : ''
      const key = join(pointer, name)
      return {
        pointer: key,
        anchor: 'key',
        code: 'unknown-property',
        message: `unknown property "${name}"${where}${expected}${mean}`,
      }
    }
    case 'required': {
      const where = pointer === '' ? '' : ` in ${subject}`
      const message = `missing required property "${String(p.missingProperty)}"${where}`
      return { pointer, anchor: 'container', code: 'missing-property', message }
    }
    case 'type':
      return {
        pointer,
        anchor: 'value',
        code: 'wrong-type',
        message: `${subject} must be ${typeList([p.type as string | string[]].flat())}, got ${got}`,
      }
    case 'enum': {
      const allowed = (p.allowedValues as unknown[]) ?? []
      const suggestion =
        typeof error.data === 'string'
          ? didYouMean(
              error.data,
              allowed.filter((a): a is string => typeof a === 'string'),
            )
          : undefined
      const mean = suggestion ? ` (did you mean "${suggestion}"?)` : ''
      return {
        pointer,
        anchor: 'value',
        code: 'invalid-value',
        message: `${subject} must be one of ${quoteList(allowed)}, got ${got}${mean}`,
      }
    }
    case 'const':
      return {
        pointer,
        anchor: 'value',
        code: 'invalid-value',
        message: `${subject} must be ${describeValue(p.allowedValue)}, got ${got}`,
      }
    case 'format':
      if (p.format === 'duration') {
        return {
          pointer,
          anchor: 'value',
          code: 'invalid-duration',
          message: `${subject} must be a duration like 500ms, 30s, 5m or 1h, got ${got}`,
        }
      }
      return {
        pointer,
        anchor: 'value',
        code: 'invalid-format',
        message: `${subject} must be a valid ${String(p.format)}, got ${got}`,
      }
    case 'minLength':
    case 'pattern':
      return textIssue(error, subject, hint)
    case 'maxLength':
      return {
        pointer,
        anchor: 'value',
        code: 'too-long',
        message: `${subject} must be at most ${String(p.limit)} characters, got ${String((error.data as string).length)}`,
      }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return {
        pointer,
        anchor: 'value',
        code: 'out-of-range',
        message: `${subject} must be ${String(p.comparison)} ${String(p.limit)}, got ${got}`,
      }
    case 'minItems':
    case 'maxItems': {
      const n = p.limit as number
      const bound = error.keyword === 'minItems' ? 'at least' : 'at most'
      const count = Array.isArray(error.data) ? error.data.length : 0
      return {
        pointer,
        anchor: 'value',
        code: 'wrong-count',
        message: `${subject} must have ${bound} ${n} item${n === 1 ? '' : 's'}, got ${count}`,
      }
    }
    case 'uniqueItems': {
      const items = error.data as unknown[]
      const dup = items[p.j as number]
      return {
        pointer: `${pointer}/${String(p.i)}`,
        anchor: 'value',
        code: 'duplicate-item',
        message: `${subject} lists ${describeValue(dup)} twice`,
      }
    }
    case 'minProperties':
    case 'maxProperties': {
      if (hint) return { pointer, anchor: 'value', code: 'invalid-value', message: `${subject}: ${hint}` }
      const bound = error.keyword === 'minProperties' ? 'at least' : 'at most'
      return {
        pointer,
        anchor: 'value',
        code: 'wrong-count',
        message: `${subject} must have ${bound} ${String(p.limit)} properties`,
      }
    }
    case 'propertyNames':
      return {
        pointer: join(pointer, String(p.propertyName)),
        anchor: 'key',
        code: 'invalid-name',
        message: `${subject} has an invalid key "${String(p.propertyName)}"`,
      }
    case 'if':
      // The failing `then`/`else` branch reports its own, more precise errors.
      return undefined
    case 'false schema':
      return { pointer, anchor: 'key', code: 'not-allowed', message: `${subject} is not allowed here` }
    case 'not':
      return {
        pointer,
        anchor: 'value',
        code: 'not-allowed',
        message: `${subject} is not allowed here${hint ? `: ${hint}` : `, got ${got}`}`,
      }
    case 'dependencies':
    case 'dependentRequired':
      return {
        pointer,
        anchor: 'container',
        code: 'missing-property',
        message: `missing property "${String(p.missingProperty)}" in ${subject}, required when "${String(p.property)}" is set`,
      }
    default:
      return {
        pointer,
        anchor: 'value',
        code: 'invalid-value',
        message: `${subject} ${error.message ?? 'is invalid'}`,
      }
  }
}

function textIssue(error: ErrorObject, subject: string, hint: string | undefined): SchemaIssue {
  const pointer = error.instancePath
  const parent = (error.parentSchema ?? {}) as Record<string, unknown>
  const family = typeof parent['x-code'] === 'string' ? parent['x-code'] : undefined
  const text = typeof error.data === 'string' ? error.data : ''
  const advice = hint ? `; ${hint}` : ''
  if (text.trim() === '') {
    return {
      pointer,
      anchor: 'value',
      code: family ? `empty-${family}` : 'empty-value',
      message: `${subject} is empty${advice}`,
    }
  }
  const code = family ? `short-${family}` : 'too-short'
  if (error.keyword === 'minLength') {
    const limit = String(error.params.limit)
    return {
      pointer,
      anchor: 'value',
      code,
      message: `${subject} is too short (${text.length} characters, at least ${limit})${advice}`,
    }
  }
  const rule =
    typeof parent['x-pattern'] === 'string'
      ? parent['x-pattern']
      : `must match ${String(error.params.pattern)}`
  return {
    pointer,
    anchor: 'value',
    code:
      typeof parent['x-pattern-code'] === 'string'
        ? parent['x-pattern-code']
        : family
          ? code
          : 'invalid-value',
    message: `${subject} ${rule}, got ${describeValue(text)}${advice}`,
  }
}
