/**
 * The one table printer of vigil's plain-text output: the console summary, the selection, the selector
 * evaluation and the CI artefacts. Columns are separated by two spaces and measured in code points (`█`
 * and `é` are one column each); a row's last cell is never padded, and lines have no trailing spaces.
 */

export interface TableOptions {
  /** Indexes of the columns aligned right (numbers, durations). @default none */
  right?: Iterable<number>
  /** Written before every line. @default '' */
  indent?: string
  /** A line of dashes under the first row, which is then a header. @default false */
  rule?: boolean
}

/** The width of a text in columns. */
function width(text: string): number {
  let n = 0
  for (const _ of text) n++
  return n
}

/**
 * The lines of a table. A row shorter than the longest one ends in a cell that spans the rest of the line
 * (a note such as `not measured: …`): that cell does not widen its column.
 */
export function formatTable(rows: readonly (readonly string[])[], options: TableOptions = {}): string[] {
  const right = new Set(options.right ?? [])
  const indent = options.indent ?? ''
  const columns = Math.max(0, ...rows.map((row) => row.length))
  const widths = Array.from({ length: columns }, (_, i) =>
    Math.max(
      0,
      ...rows.filter((row) => i < row.length - 1 || row.length === columns).map((row) => width(row[i] ?? '')),
    ),
  )
  const line = (cells: readonly string[]): string => {
    const text = cells
      .map((cell, i) => {
        const pad = ' '.repeat(Math.max(0, widths[i]! - width(cell)))
        if (right.has(i)) return pad + cell
        return i === cells.length - 1 ? cell : cell + pad
      })
      .join('  ')
    return `${indent}${text}`.trimEnd()
  }
  const lines = rows.map(line)
  if (options.rule && lines.length > 0) lines.splice(1, 0, line(widths.map((w) => '-'.repeat(w))))
  return lines
}
