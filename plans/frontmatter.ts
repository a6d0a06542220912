/**
 * A plan's frontmatter: the `---` lines are found here, following gray-matter's rules, and the YAML between
 * them is parsed once by plans/yaml.ts. gray-matter itself is not used: it parsed the text a second time,
 * handed the positions out through a module global, shipped an engine that evaluates `---js` frontmatter,
 * and cost `vigil plans lint` about 30 ms of start-up. Any language but YAML is a located error.
 */
import { parseYaml } from './yaml.js'
import type { ParsedYaml } from './yaml.js'

/** The frontmatter of a plan file, parsed as YAML with positions kept. */
export interface Frontmatter {
  /** The file starts with a `---` line. */
  present: boolean
  /** A closing `---` line was found. */
  closed: boolean
  /** The language after the opening `---` (`yaml` when none). */
  language: string
  /** The parsed YAML; undefined when the block is empty (blank lines and comments) or not YAML. */
  yaml?: ParsedYaml
  /** File offset at which the frontmatter text (and so the YAML's offsets) starts. */
  base: number
  /** File offset of the Markdown body after the frontmatter. */
  contentOffset: number
}

/** Comment lines, which alone make a frontmatter empty. */
const COMMENT_LINE = /^\s*#[^\n]+/gm

/**
 * Splits `source` (without BOM) into frontmatter and body, the way gray-matter (and so most Markdown tools)
 * do: the frontmatter opens with `---` on the first line, optionally followed by its language, and closes
 * at the next line that starts with `---`; the body starts after that delimiter and one line break. Only
 * YAML is read: any other language (`---js`, `---json`, `---coffee`) is reported by the caller and its text
 * is never parsed, let alone run.
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
  let contentOffset = closed ? closing + 4 : source.length
  if (source[contentOffset] === '\r') contentOffset++
  if (source[contentOffset] === '\n') contentOffset++
  const text = source.slice(base, closed ? closing : source.length)
  const empty = text.replace(COMMENT_LINE, '').trim() === ''
  return { present: true, closed, language, ...(empty ? {} : { yaml: parseYaml(text) }), base, contentOffset }
}
