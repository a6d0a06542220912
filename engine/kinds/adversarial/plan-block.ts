/**
 * Writes the fenced ```adversarial suggested block into a plan file: replaces the one already there, or
 * appends it under its own heading. Everything else in the file stays byte for byte as it was.
 */

const OPEN = /^( {0,3})(`{3,}|~{3,})[ \t]*adversarial[ \t]+suggested[ \t]*$/

export const SUGGESTED_HEADING = '## Suggested adversarial cases'

/** A fence longer than any backtick run in the body, so the body cannot close it early. */
export function fenceFor(body: string): string {
  const longest = Math.max(0, ...[...body.matchAll(/`+/g)].map((m) => m[0].length))
  return '`'.repeat(Math.max(3, longest + 1))
}

/** The file with the suggested block set to `yaml` (a YAML body ending with a newline). */
export function writeSuggestedBlock(text: string, yaml: string): { text: string; replaced: boolean } {
  const eol = text.includes('\r\n') ? '\r\n' : '\n'
  const fence = fenceFor(yaml)
  const body = yaml.replace(/\r?\n/g, eol)
  const block = `${fence}adversarial suggested${eol}${body}${body.endsWith(eol) ? '' : eol}${fence}`
  // Lines with their offsets, so the untouched parts are sliced out of the original text.
  const lines: Array<{ start: number; end: number; content: string }> = []
  for (let start = 0; start < text.length;) {
    const nl = text.indexOf('\n', start)
    const end = nl < 0 ? text.length : nl + 1
    lines.push({ start, end, content: text.slice(start, end).replace(/\r?\n$/, '') })
    start = end
  }
  for (let i = 0; i < lines.length; i++) {
    const open = OPEN.exec(lines[i]!.content)
    if (!open) continue
    const char = open[2]![0]!
    const length = open[2]!.length
    for (let j = i + 1; j < lines.length; j++) {
      const close = /^ {0,3}(`{3,}|~{3,})[ \t]*$/.exec(lines[j]!.content)
      if (close && close[1]![0] === char && close[1]!.length >= length) {
        const before = text.slice(0, lines[i]!.start)
        const lineEnd = text.slice(lines[j]!.start, lines[j]!.end).match(/\r?\n$/)?.[0] ?? ''
        return { text: `${before}${block}${lineEnd}${text.slice(lines[j]!.end)}`, replaced: true }
      }
    }
  }
  const separator =
    text.length === 0 ? '' : text.endsWith(`${eol}${eol}`) ? '' : text.endsWith(eol) ? eol : `${eol}${eol}`
  return { text: `${text}${separator}${SUGGESTED_HEADING}${eol}${eol}${block}${eol}`, replaced: false }
}
