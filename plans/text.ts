/** Offsets to 1-based line and column, for one file's text. */
export class LineIndex {
  /** Offset at which each line starts. */
  readonly starts: number[]
  constructor(readonly text: string) {
    const starts = [0]
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1)
    this.starts = starts
  }

  get lineCount(): number {
    return this.starts.length
  }

  /** The 1-based line and column of an offset (clamped to the text). */
  position(offset: number): { line: number; column: number } {
    const at = Math.max(0, Math.min(offset, this.text.length))
    const line = lastAtOrBelow(this.starts, at)
    return { line: line + 1, column: at - this.starts[line]! + 1 }
  }

  /** The text of a 0-based line, without its line break. */
  lineText(line: number): string {
    const start = this.starts[line] ?? this.text.length
    const next = this.starts[line + 1]
    const end = next === undefined ? this.text.length : next - 1
    const raw = this.text.slice(start, end)
    return raw.endsWith('\r') ? raw.slice(0, -1) : raw
  }
}

/** Index of the last element `<= value` in an ascending array (0 when none). */
export function lastAtOrBelow(sorted: readonly number[], value: number): number {
  let lo = 0
  let hi = sorted.length - 1
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1
    if (sorted[mid]! <= value) lo = mid
    else hi = mid - 1
  }
  return lo
}

/**
 * A piece of a file parsed on its own (the frontmatter, a fenced block's body) and how its offsets map
 * back to file offsets, so every position reported is a file position.
 */
export interface Segment {
  readonly text: string
  /** File offset of an offset within `text`. */
  toFile(offset: number): number
}

/** A contiguous slice of the file starting at `base`. */
export function sliceSegment(text: string, base: number): Segment {
  return new SliceSegment(text, base)
}

// A class rather than a closure: one is made for every block of every plan, and tsx names each closure.
class SliceSegment implements Segment {
  constructor(
    readonly text: string,
    private readonly base: number,
  ) {}

  toFile(offset: number): number {
    return this.base + offset
  }
}

/**
 * Lines of the file with some leading indentation removed from each (a fenced block indented under
 * a list item, say). `lines[i]` starts at file offset `starts[i]` once `removed[i]` characters are dropped.
 */
export function linesSegment(
  lines: readonly string[],
  starts: readonly number[],
  removed: readonly number[],
): Segment {
  const text = lines.join('\n') + (lines.length ? '\n' : '')
  const bodyStarts: number[] = []
  let at = 0
  for (const line of lines) {
    bodyStarts.push(at)
    at += line.length + 1
  }
  return {
    text,
    toFile(offset) {
      if (bodyStarts.length === 0) return starts[0] ?? 0
      const i = lastAtOrBelow(bodyStarts, offset)
      return starts[i]! + removed[i]! + (offset - bodyStarts[i]!)
    },
  }
}
