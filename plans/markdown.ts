import type { LineIndex } from './text.js'

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
  /** Body lines with the fence's indentation removed, without line breaks. */
  lines: string[]
  /** File offset at which each body line starts. */
  starts: number[]
  /** Characters of indentation removed from each body line. */
  removed: number[]
  /** False when the file ends before the closing fence. */
  closed: boolean
  /** Text of the nearest heading above the fence, if any. */
  heading?: string
}

const OPEN = /^( {0,3})(`{3,}|~{3,})(.*)$/
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
  let heading: string | undefined
  let paragraph: string | undefined
  let open: (Fence & { char: string; size: number; indent: number }) | undefined
  for (let n = fromLine; n < index.lineCount; n++) {
    const text = index.lineText(n)
    if (open) {
      const close = text.match(/^ {0,3}(`{3,}|~{3,})[ \t]*$/)
      if (close && close[1]![0] === open.char && close[1]!.length >= open.size) {
        const { char: _c, size: _s, indent: _i, ...fence } = open
        fences.push(fence)
        open = undefined
        continue
      }
      const strip = Math.min(open.indent, text.length - text.trimStart().length)
      open.lines.push(text.slice(strip))
      open.starts.push(index.starts[n]!)
      open.removed.push(strip)
      continue
    }
    const fence = text.match(OPEN)
    if (fence && !(fence[2]![0] === '`' && fence[3]!.includes('`'))) {
      const indent = fence[1]!.length
      const info = fence[3]!.trim()
      const infoOffset = fence[3]!.length - fence[3]!.trimStart().length
      open = {
        info,
        line: n,
        column: indent + 1,
        infoColumn: info ? indent + fence[2]!.length + infoOffset + 1 : indent + 1,
        lines: [],
        starts: [],
        removed: [],
        closed: true,
        ...(heading === undefined ? {} : { heading }),
        char: fence[2]![0]!,
        size: fence[2]!.length,
        indent,
      }
      paragraph = undefined
      continue
    }
    const atx = text.match(ATX)
    if (atx) {
      heading = (atx[2] ?? '').trim() || heading
      paragraph = undefined
    } else if (paragraph !== undefined && SETEXT.test(text)) {
      heading = paragraph
      paragraph = undefined
    } else if (text.trim() === '') {
      paragraph = undefined
    } else {
      paragraph = paragraph === undefined && !NOT_PARAGRAPH.test(text) ? text.trim() : undefined
    }
  }
  if (open) {
    const { char: _c, size: _s, indent: _i, ...fence } = open
    fences.push({ ...fence, closed: false })
  }
  return fences
}
