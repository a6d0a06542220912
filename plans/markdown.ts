import { linesSegment, sliceSegment } from './text.js'
import type { LineIndex, Segment } from './text.js'

/** A fenced code block found in a plan's Markdown body. */
export interface Fence {
  /** The info string after the opening fence, trimmed. */
  info: string
  /** 0-based file line of the opening fence. */
  line: number
  /** 1-based column of the first fence character. */
  column: number
  /** 1-based column where the info string starts (the opening fence's column when there is none). */
  infoColumn: number
  /** 0-based file line of the first body line. */
  bodyLine: number
  /** 0-based file line after the last body line (the closing fence, or the end of the file). */
  endLine: number
  /** Spaces before the opening fence, removed from each body line (CommonMark). */
  indent: number
  /** False when the file ends before the closing fence. */
  closed: boolean
  /** Text of the nearest heading above the fence, if any. */
  heading?: string
}

const OPEN = /^( {0,3})(`{3,}|~{3,})(.*)$/
const CLOSE = /^ {0,3}(`{3,}|~{3,})[ \t]*$/
const ATX = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/
const SETEXT = /^ {0,3}(?:=+|-+)[ \t]*$/
/** Lines that cannot be the text of a setext heading (list items, quotes, tables, HTML). */
const NOT_PARAGRAPH = /^\s{0,3}(?:[-*+>|<]|\d+[.)]\s|#)/

/**
 * Finds the fenced blocks of a CommonMark document from `fromLine` on (after the frontmatter), with the
 * nearest heading above each. Fences nest the CommonMark way: a longer outer fence contains shorter ones.
 */
export function scanFences(index: LineIndex, fromLine: number): Fence[] {
  const fences: Fence[] = []
  const source = index.text
  let heading: string | undefined
  let paragraph: string | undefined
  let open: (Fence & { char: string; size: number }) | undefined
  for (let n = fromLine; n < index.lineCount; n++) {
    if (open) {
      // Body lines are only looked at closely when they could be the closing fence.
      let at = index.starts[n]!
      const limit = at + 3
      while (at < limit && source.charCodeAt(at) === 32) at++
      if (source[at] !== open.char) continue
      const close = index.lineText(n).match(CLOSE)
      if (close && close[1]![0] === open.char && close[1]!.length >= open.size) {
        const { char: _c, size: _s, ...fence } = open
        fences.push({ ...fence, endLine: n })
        open = undefined
      }
      continue
    }
    const text = index.lineText(n)
    const first = text.trimStart()[0]
    const fence = first === '`' || first === '~' ? text.match(OPEN) : null
    if (fence && !(fence[2]![0] === '`' && fence[3]!.includes('`'))) {
      const indent = fence[1]!.length
      const info = fence[3]!.trim()
      const infoOffset = fence[3]!.length - fence[3]!.trimStart().length
      open = {
        info,
        line: n,
        column: indent + 1,
        infoColumn: info ? indent + fence[2]!.length + infoOffset + 1 : indent + 1,
        bodyLine: n + 1,
        endLine: index.lineCount,
        indent,
        closed: true,
        ...(heading === undefined ? {} : { heading }),
        char: fence[2]![0]!,
        size: fence[2]!.length,
      }
      paragraph = undefined
      continue
    }
    const atx = first === '#' ? text.match(ATX) : null
    if (atx) {
      heading = (atx[2] ?? '').trim() || heading
      paragraph = undefined
    } else if (paragraph !== undefined && (first === '=' || first === '-') && SETEXT.test(text)) {
      heading = paragraph
      paragraph = undefined
    } else if (first === undefined) {
      paragraph = undefined
    } else {
      paragraph = paragraph === undefined && !NOT_PARAGRAPH.test(text) ? text.trim() : undefined
    }
  }
  if (open) {
    const { char: _c, size: _s, ...fence } = open
    fences.push({ ...fence, closed: false })
  }
  return fences
}

/**
 * A fence's body as a segment of the file. Unindented bodies are a plain slice; indented ones lose up to
 * the fence's indentation on each line, and their offsets map back line by line.
 */
export function fenceBody(index: LineIndex, fence: Fence): Segment {
  const start = index.starts[fence.bodyLine] ?? index.text.length
  const end = index.starts[fence.endLine] ?? index.text.length
  if (fence.indent === 0) return sliceSegment(index.text.slice(start, end), start)
  const lines: string[] = []
  const starts: number[] = []
  const removed: number[] = []
  for (let n = fence.bodyLine; n < fence.endLine; n++) {
    const text = index.lineText(n)
    const strip = Math.min(fence.indent, text.length - text.trimStart().length)
    lines.push(text.slice(strip))
    starts.push(index.starts[n]!)
    removed.push(strip)
  }
  return linesSegment(lines, starts, removed)
}
