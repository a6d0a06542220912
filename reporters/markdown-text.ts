/** Markdown escaping for GitHub-flavoured Markdown: inline text, code spans, fences, table cells, HTML. */
import { visibleControls } from './format.js'

/** Plain text that renders as itself: Markdown and HTML punctuation escaped, newlines as spaces. */
export function mdText(text: string): string {
  return visibleControls(text)
    .replace(/\r\n?|\n/g, ' ')
    .replace(/[\\`*_[\]<>|~#!]/g, (c) => `\\${c}`)
    .replace(/&/g, '&amp;')
}

/** A code span that survives any backticks inside; pipes escaped so it can sit in a table cell. */
export function mdCode(text: string): string {
  const flat = visibleControls(text)
    .replace(/\r\n?|\n/g, ' ')
    .replace(/\|/g, '\\|')
  const longest = Math.max(0, ...(flat.match(/`+/g) ?? []).map((run) => run.length))
  const ticks = '`'.repeat(longest + 1)
  const pad = flat.startsWith('`') || flat.endsWith('`') ? ' ' : ''
  return `${ticks}${pad}${flat}${pad}${ticks}`
}

/** A fenced block whose fence is longer than any backtick run inside, indented by `indent`. */
export function mdFence(lang: string, text: string, indent = ''): string {
  const longest = Math.max(0, ...(text.match(/`{3,}/g) ?? []).map((run) => run.length))
  const fence = '`'.repeat(Math.max(3, longest + 1))
  const body = visibleControls(text.replace(/\r\n?/g, '\n').replace(/\n$/, ''))
  return [`${fence}${lang}`, ...body.split('\n'), fence].map((line) => `${indent}${line}`).join('\n')
}

/** Text for HTML (a <summary>): the five special characters as entities. */
export function htmlText(text: string): string {
  return visibleControls(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
    .replace(/\r\n?|\n/g, ' ')
}

/** A GitHub table; cells are expected to be escaped already (mdText/mdCode escape pipes). */
export function mdTable(
  head: readonly string[],
  rows: ReadonlyArray<readonly string[]>,
  align?: readonly ('l' | 'r')[],
): string[] {
  const rule = head.map((_, i) => (align?.[i] === 'r' ? '---:' : '---'))
  return [
    `| ${head.join(' | ')} |`,
    `| ${rule.join(' | ')} |`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ]
}
