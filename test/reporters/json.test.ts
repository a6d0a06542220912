import { describe, expect, it } from 'vitest'
import { renderJson } from '../../reporters/json.js'
import { VERDICT_SCHEMA_ID, validateVerdict } from '../../reporters/schema.js'
import { frozen, verdict } from './fixture.js'

describe('renderJson', () => {
  const text = renderJson(frozen(verdict))
  const parsed = JSON.parse(text) as Record<string, unknown>

  it('writes the verdict as is, with the schema id first', () => {
    expect(Object.keys(parsed)[0]).toBe('$schema')
    expect(parsed.$schema).toBe(VERDICT_SCHEMA_ID)
    const { $schema: _schema, ...rest } = parsed
    expect(rest).toEqual(verdict)
  })

  it('validates against the published schema', () => {
    expect(validateVerdict(parsed)).toEqual({ valid: true, errors: [] })
  })

  it('is pretty-printed with a trailing newline', () => {
    expect(text.startsWith('{\n  "$schema": ')).toBe(true)
    expect(text.endsWith('}\n')).toBe(true)
  })

  it('does not repeat a $schema already on the input', () => {
    const again = renderJson(JSON.parse(text))
    expect(again).toBe(text)
  })
})
