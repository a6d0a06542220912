/**
 * The built CLI validates vigil's own schemas with code ajv generated at build time (dist/plans/validators/,
 * engine/run/validators.ts): it must say exactly what the validators compiled at run time say — the same
 * verdict, the same errors (values and schemas quoted), the same `x-file` strings — on the shop's real
 * check blocks and on every way of breaking them. The build is the one vitest's global setup made.
 */
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import * as sources from '../../plans/ajv.js'
import { loadPlans } from '../../plans/loader.js'
import { schemas } from '../../plans/schemas.js'
import { checkSchemas } from '../../engine/run/load-plans.js'
import { ownSchemas } from '../../engine/run/validators.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const built = (await import(pathToFileURL(path.join(root, 'dist/plans/ajv.js')).href)) as typeof sources

/** Each value, then each way of breaking it: a key removed, retyped or misspelt, and a stray key. */
function variants(value: Readonly<Record<string, unknown>>): unknown[] {
  const out: unknown[] = [value, {}, null, 'text', [value]]
  for (const key of Object.keys(value)) {
    const { [key]: _dropped, ...rest } = value
    out.push(rest, { ...rest, [`${key}x`]: value[key] })
    for (const wrong of [42, 'x', [], {}, null, true]) out.push({ ...value, [key]: wrong })
    const inner = value[key]
    if (inner && typeof inner === 'object' && !Array.isArray(inner))
      for (const v of variants(inner as Record<string, unknown>).slice(5)) out.push({ ...value, [key]: v })
    if (Array.isArray(inner) && inner[0] && typeof inner[0] === 'object')
      for (const v of variants(inner[0] as Record<string, unknown>).slice(5))
        out.push({ ...value, [key]: [v, ...inner.slice(1)] })
  }
  out.push({ ...value, stray: 1 })
  return out
}

describe('the validators generated at build time', () => {
  it('are what the built CLI uses for every schema of its own, without loading ajv’s compiler', () => {
    const require = createRequire(import.meta.url)
    const before = Object.keys(require.cache).filter((k) => k.includes('/dist/plans/validators/')).length
    for (const schema of ownSchemas()) built.validatorFor(schema)
    const loaded = Object.keys(require.cache).filter((k) => k.includes('/dist/plans/validators/'))
    // One module per distinct schema, and the formats they share.
    expect(loaded.length - before).toBeGreaterThan(10)
  })

  it('say what the run-time compiled validators say, on the shop’s blocks and every way of breaking them', async () => {
    const kinds = checkSchemas()
    const { plans } = await loadPlans({ roots: ['samples/shop/plans'], cwd: root, checkSchemas: kinds })
    let compared = 0
    const compare = (schema: Readonly<Record<string, unknown>>, value: unknown) => {
      const fresh = sources.validatorFor(schema)
      const generated = built.validatorFor(schema)
      expect(generated).not.toBe(fresh)
      const a = sources.validateCollectingFiles(fresh, value)
      const b = built.validateCollectingFiles(generated, value)
      expect(b, JSON.stringify(value)).toEqual(a)
      expect(generated.errors ?? null, JSON.stringify(value)).toEqual(fresh.errors ?? null)
      compared++
    }
    for (const plan of plans)
      for (const check of plan.checks)
        for (const value of variants(check.params)) compare(kinds[check.kind]!, value)
    for (const value of variants({ name: 'p', title: 'T', selectionHint: 'Checks x.', tags: ['a'] }))
      compare(schemas.frontmatter, value)
    for (const value of variants({ plans: ['plans'], timeout: '10m', concurrency: 4, secrets: {} }))
      compare(schemas.config, value)
    expect(compared).toBeGreaterThan(1000)
  })

  it('find the `x-file` strings of a block, as compiled ones do', () => {
    const schema = checkSchemas().contract!
    const block = { request: 'GET /x', expect: { status: 200, schema: './s.json' }, openapi: './o.yaml' }
    const { valid, files } = built.validateCollectingFiles(built.validatorFor(schema), block)
    expect(valid).toBe(true)
    expect(files.map((f) => [f.pointer, f.value, f.role]).sort()).toEqual([
      ['/expect/schema', './s.json', 'schema'],
      ['/openapi', './o.yaml', 'openapi'],
    ])
  })
})
