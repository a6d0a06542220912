/** Human output of `vigil select`: plain text, one plan per line, sorted, reasons included. */
import type { SelectionRecord } from './record.js'
import { formatTable } from '../plans/table.js'

const STATUS: Record<string, string> = { added: 'A', modified: 'M', deleted: 'D', renamed: 'R', copied: 'C' }

export interface RenderOptions {
  /** Also list every plan that was not selected, with its reason. @default true */
  rejected?: boolean
  /** Files listed before "… and N more". @default 10 */
  maxFiles?: number
}

export function renderSelection(record: SelectionRecord, options: RenderOptions = {}): string {
  const out: string[] = []
  const model = record.model && record.selector !== 'rules' ? `, model ${record.model}` : ''
  const cached = record.cache?.hit ? ', cached' : ''
  const selector = `selector ${record.selector} (${record.selectorChoice}${model}${cached})`
  const files = record.diff.files
  if (!record.plans.length) out.push(`No plans apply to this change: ${selector}.`)
  else out.push(`${record.plans.length} of ${record.catalog.plans} plans apply: ${selector}.`)
  if (record.degraded)
    out.push(`DEGRADED: ${record.degradedReason ?? 'the LLM could not answer'}; fell back to rules.`)
  out.push('', `Change: ${files.length} file(s), ${record.diff.hash.slice(0, 19)}…`)
  const max = options.maxFiles ?? 10
  for (const f of files.slice(0, max)) {
    const name = f.oldPath ? `${f.oldPath} -> ${f.path}` : f.path
    const size = f.binary ? 'binary' : `+${f.additions} -${f.deletions}`
    out.push(
      `  ${STATUS[f.status] ?? '?'} ${name} (${size})${f.outside ? ' [outside the config folder]' : ''}`,
    )
  }
  if (files.length > max) out.push(`  … and ${files.length - max} more`)
  for (const w of record.diff.warnings ?? []) out.push(`  note: ${w}`)
  if (record.plans.length) {
    out.push('', 'Selected:')
    out.push(
      ...table(
        record.plans.map((p) => [
          p.name,
          p.source,
          p.doubt === undefined ? p.reason : `${p.reason} (runs; the model doubts it: ${p.doubt})`,
        ]),
      ),
    )
  }
  if (options.rejected !== false && record.rejected.length) {
    out.push('', 'Not selected:')
    out.push(...table(record.rejected.map((p) => [p.name, p.source, p.reason])))
  }
  if (record.unknown.length) {
    out.push('', 'Unknown plan names from the model (never run):')
    out.push(...table(record.unknown.map((u) => [u.name, '', u.reason])))
  }
  const u = record.usage
  if (u.requests) {
    const cache =
      u.cacheReadInputTokens || u.cacheCreationInputTokens
        ? ` (cache read ${u.cacheReadInputTokens}, written ${u.cacheCreationInputTokens})`
        : ''
    out.push('', `Tokens: ${u.inputTokens} in${cache}, ${u.outputTokens} out over ${u.requests} request(s).`)
  }
  return `${out.join('\n')}\n`
}

function table(rows: string[][]): string[] {
  return formatTable(rows, { indent: '  ' })
}
