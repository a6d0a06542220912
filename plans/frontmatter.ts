import matter from 'gray-matter'
import { parseYaml } from './yaml.js'
import type { ParsedYaml } from './yaml.js'

/** The frontmatter of a plan file, split by gray-matter and parsed by `yaml` with positions kept. */
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

/** What the YAML engine parsed in the current (synchronous) gray-matter call. */
let lastParsed: ParsedYaml | undefined

const yamlEngine = {
  parse(text: string): object {
    lastParsed = parseYaml(text)
    const value = lastParsed.value
    return value !== null && typeof value === 'object' ? value : {}
  },
}

/** One options object for every call: gray-matter copies it, so it is built once, not per plan. */
const MATTER_OPTIONS = {
  language: 'yaml',
  engines: {
    yaml: yamlEngine,
    yml: yamlEngine,
    javascript: refuse,
    js: refuse,
    coffee: refuse,
    json: refuse,
  },
}

/**
 * Splits `source` (without BOM) into frontmatter and body. gray-matter does the splitting; its YAML engine
 * is replaced by `yaml` so every key and value keeps its position for diagnostics.
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
  // gray-matter copies its whole input into a Buffer (`file.orig`); given only the frontmatter and its
  // closing line, it splits the same way without encoding the body of every plan.
  const lineAfter = closed ? source.indexOf('\n', closing + 4) : -1
  const head = lineAfter === -1 ? source : source.slice(0, lineAfter + 1)
  lastParsed = undefined
  const file = matter(head, MATTER_OPTIONS)
  const parsed = lastParsed as ParsedYaml | undefined
  lastParsed = undefined
  const contentOffset = closed ? head.length - file.content.length : source.length
  return { present: true, closed, language, ...(parsed ? { yaml: parsed } : {}), base, contentOffset }
}
