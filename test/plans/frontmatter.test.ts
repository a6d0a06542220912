import matter from 'gray-matter'
import { describe, expect, it } from 'vitest'
import { splitFrontmatter } from '../../plans/frontmatter.js'
import { parseYaml } from '../../plans/yaml.js'

/** What gray-matter makes of a file: the text it hands its YAML engine (if any) and where the body starts. */
function grayMatter(source: string): { yaml: string | undefined; contentOffset: number } {
  let yaml: string | undefined
  const engine = {
    parse(text: string): object {
      yaml = text
      return {}
    },
  }
  const file = matter(source, { language: 'yaml', engines: { yaml: engine, yml: engine } })
  return { yaml, contentOffset: source.length - file.content.length }
}

const cases = [
  '---\nname: a\n---\nbody\n',
  '---\nname: a\n---',
  '---\nname: a\n---\n',
  '---\r\nname: a\r\n---\r\nbody\r\n',
  '--- yaml\nname: a\n---\n\nbody',
  '---  YML \nname: a\n---\n',
  '---   \nname: a\n---\n',
  '---\n# only a comment\n  # and another\n\n---\nbody',
  '---\n\n---\n',
  '---\nname: a\n----\nmore: b\n---x\nbody',
  '---\nname: a\n---   \n# heading',
  '---\n  name: a\n---\n',
  '---\nlist:\n  - a\n---\nbody --- with\n---\n',
]

describe('splitFrontmatter', () => {
  it.each(cases)('splits %j the way gray-matter does', (source) => {
    const split = splitFrontmatter(source)
    const expected = grayMatter(source)
    expect(split.present && split.closed).toBe(true)
    expect(split.contentOffset).toBe(expected.contentOffset)
    if (expected.yaml === undefined) expect(split.yaml).toBeUndefined()
    else expect(split.yaml?.value).toStrictEqual(parseYaml(expected.yaml).value)
  })
})
