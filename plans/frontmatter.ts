import matter from 'gray-matter'
import { parseYaml } from './yaml.js'
import type { ParsedYaml } from './yaml.js'

/** The frontmatter of a plan file, split as gray-matter splits it and parsed by `yaml` with positions kept. */
export interface Frontmatter {
  /** The file starts with a `---` line. */
  present: boolean
  /** A closing `---` line was found. */
  closed: boolean
  /** The language after the opening `---` (`yaml` when none). */
  language: string
  /** The parsed YAML; undefined when the block is empty or not YAML. */
  yaml?: ParsedYaml
  /** File offset at which the frontmatter text (and so the YAML's offsets) starts. */
  base: number
  /** File offset of the Markdown body after the frontmatter. */
  contentOffset: number
}

const refuse = (): never => {
  // gray-matter ships a `javascript` engine that evals the frontmatter; plans must never run code on load.
  throw new Error('only YAML frontmatter is supported')
}

/**
 * Splits `source` (without BOM) into frontmatter and body the way gray-matter does (the usual case by hand,
 * the rest by gray-matter); its YAML engine is replaced by `yaml` so every key and value keeps its position.
 */
export function splitFrontmatter(source: string): Frontmatter {
  const none: Frontmatter = { present: false, closed: false, language: 'yaml', base: 0, contentOffset: 0 }
  if (!source.startsWith('---') || source[3] === '-') return none
  const lineEnd = source.search(/\r?\n/)
  const language =
    (lineEnd === -1 ? source.slice(3) : source.slice(3, lineEnd)).trim().toLowerCase() || 'yaml'
  const base = lineEnd === -1 ? source.length : lineEnd
  const closing = source.indexOf('\n---', base)
  const closed = closing !== -1
  if (language !== 'yaml' && language !== 'yml') {
    return { present: true, closed, language, base, contentOffset: source.length }
  }
  if (closed && lineEnd !== -1) return splitClosed(source, language, base, closing)
  let parsed: ParsedYaml | undefined
  const yamlEngine = {
    parse(text: string): object {
      parsed = parseYaml(text)
      const value = parsed.value
      return value !== null && typeof value === 'object' ? value : {}
    },
  }
  // gray-matter copies its whole input into a Buffer (`file.orig`); given only the frontmatter and its
  // closing line, it splits the same way without encoding the body of every plan.
  const lineAfter = closed ? source.indexOf('\n', closing + 4) : -1
  const head = lineAfter === -1 ? source : source.slice(0, lineAfter + 1)
  const file = matter(head, {
    language: 'yaml',
    engines: {
      yaml: yamlEngine,
      yml: yamlEngine,
      javascript: refuse,
      js: refuse,
      coffee: refuse,
      json: refuse,
    },
  })
  const contentOffset = closed ? head.length - file.content.length : source.length
  return { present: true, closed, language, ...(parsed ? { yaml: parsed } : {}), base, contentOffset }
}

/**
 * The usual case — an opening line ending in a line break and a closing `---` line — split the way gray-matter
 * splits it, without gray-matter: it copies its input into a Buffer and rebuilds its options for every file,
 * about 5% of the time spent loading plans. Anything unusual still goes through gray-matter.
 * test/plans/frontmatter.test.ts compares the two.
 */
function splitClosed(source: string, language: string, base: number, closing: number): Frontmatter {
  // gray-matter drops the opening line only when it names a language; otherwise its spaces stay in the block.
  const start = source.slice(3, base).trim() === '' ? 3 : base
  const block = source.slice(start, closing)
  // A block of only blank and comment lines is empty: gray-matter does not call the parser for it.
  const empty = block.replace(/^\s*#[^\n]+/gm, '').trim() === ''
  let contentOffset = closing + 4
  if (source[contentOffset] === '\r') contentOffset++
  if (source[contentOffset] === '\n') contentOffset++
  const yaml = empty ? undefined : parseYaml(block)
  return { present: true, closed: true, language, ...(yaml ? { yaml } : {}), base, contentOffset }
}
