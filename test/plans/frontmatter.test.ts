import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { splitFrontmatter } from '../../plans/frontmatter.js'
import { loadPlans } from '../../plans/loader.js'
import { parsePlanFile } from '../../plans/parse-plan.js'

/** [file, the frontmatter's YAML value (undefined: none), where the body starts], as gray-matter splits them. */
const cases: Array<[string, unknown, number]> = [
  ['---\nname: a\n---\nbody\n', { name: 'a' }, 16],
  ['---\nname: a\n---', { name: 'a' }, 15],
  ['---\nname: a\n---\n', { name: 'a' }, 16],
  ['---\r\nname: a\r\n---\r\nbody\r\n', { name: 'a' }, 19],
  ['--- yaml\nname: a\n---\n\nbody', { name: 'a' }, 21],
  ['---  YML \nname: a\n---\n', { name: 'a' }, 22],
  ['---   \nname: a\n---\n', { name: 'a' }, 19],
  ['---\n# only a comment\n  # and another\n\n---\nbody', undefined, 42],
  ['---\n\n---\n', undefined, 9],
  ['---\nname: a\n----\nmore: b\n---x\nbody', { name: 'a' }, 15],
  ['---\nname: a\n---   \n# heading', { name: 'a' }, 15],
  ['---\n  name: a\n---\n', { name: 'a' }, 18],
  ['---\nlist:\n  - a\n---\nbody --- with\n---\n', { list: ['a'] }, 20],
]

describe('splitFrontmatter', () => {
  it.each(cases)('splits %j as gray-matter does', (source, value, contentOffset) => {
    const split = splitFrontmatter(source)
    expect(split.present && split.closed).toBe(true)
    expect(split.contentOffset).toBe(contentOffset)
    expect(split.yaml?.value).toStrictEqual(value)
  })

  it('reads an unclosed frontmatter to the end of the file', () => {
    const split = splitFrontmatter('---\nname: a\n')
    expect(split).toMatchObject({ present: true, closed: false, contentOffset: 12 })
    expect(split.yaml?.value).toEqual({ name: 'a' })
  })

  it('keeps YAML offsets in the file: the YAML text starts at `base`', () => {
    const source = '--- yaml\nname: a\n---\n'
    const split = splitFrontmatter(source)
    expect(source.slice(split.base).startsWith('\nname: a')).toBe(true)
  })

  it('sees no frontmatter in a file that does not open with ---', () => {
    expect(splitFrontmatter('# title\n---\nx: 1\n---\n').present).toBe(false)
    expect(splitFrontmatter('----\nx: 1\n----\n').present).toBe(false)
  })
})

describe('a frontmatter in another language than YAML', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-frontmatter-'))
  const marker = path.join(dir, 'evaluated')
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const code = `{ name: (() => { require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'x'); globalThis.__vigilEvaluated = true; return 'js-plan' })() }`

  it.each(['js', 'javascript', 'json', 'coffee', 'toml'])(
    'is never evaluated nor parsed (---%s): it is a located error',
    async (language) => {
      const source = `---${language}\n${code}\n---\n\n# A plan\n`
      const split = splitFrontmatter(source)
      expect(split).toMatchObject({ present: true, closed: true, language })
      expect(split.yaml).toBeUndefined()
      const parsed = parsePlanFile(source, { file: 'plans/js.md', dir, checkSchemas: {} })
      expect(parsed.diagnostics.map((d) => [d.line, d.code, d.message])).toContainEqual([
        1,
        'frontmatter-language',
        `frontmatter must be YAML, got "${language}"`,
      ])
      writeFileSync(path.join(dir, `${language}.md`), source)
      const loaded = await loadPlans({ roots: ['.'], cwd: dir, checkSchemas: {} })
      expect(loaded.plans).toEqual([])
      expect((globalThis as { __vigilEvaluated?: unknown }).__vigilEvaluated).toBeUndefined()
      expect(readdirSync(dir)).not.toContain('evaluated')
    },
  )
})
