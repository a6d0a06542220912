/**
 * `file:line:col` of a key path in vigil.config.yaml, for the config errors of the sandbox sections and
 * the secrets (which sit below the sandboxes, so this lives below both).
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { LineCounter, isMap, isSeq, parseDocument, type Node } from 'yaml'

/** The config file's YAML, parsed lazily, to turn key paths into `file:line:col ` prefixes. */
export class ConfigDocument {
  private parsed?: { root: Node | null; lines: LineCounter } | null
  constructor(private readonly file: string) {}

  /** `vigil.config.yaml:12:5 ` for the deepest node of the path that exists, or just the file. */
  where(keyPath: readonly (string | number)[]): string {
    if (!this.file) return ''
    // Relative to the working directory when inside it, else as given.
    const relative = path.relative(process.cwd(), this.file)
    const display =
      relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : this.file
    const found = this.find(keyPath)
    if (!found) return `${display} `
    const { line, col } = this.parsed!.lines.linePos(found.offset)
    return `${display}:${line}:${col} `
  }

  has(keyPath: readonly (string | number)[]): boolean {
    return this.find(keyPath)?.depth === keyPath.length
  }

  private find(keyPath: readonly (string | number)[]): { offset: number; depth: number } | undefined {
    if (this.parsed === undefined) {
      try {
        const lines = new LineCounter()
        const doc = parseDocument(readFileSync(this.file, 'utf8'), { lineCounter: lines })
        this.parsed = { root: doc.contents as Node | null, lines }
      } catch {
        this.parsed = null
      }
    }
    if (!this.parsed?.root) return undefined
    let node: unknown = this.parsed.root
    let found: { offset: number; depth: number } | undefined
    for (let depth = 0; depth < keyPath.length; depth++) {
      const segment = keyPath[depth]!
      if (isMap(node)) {
        const pair = node.items.find(
          (item) => String((item.key as { value?: unknown })?.value ?? item.key) === String(segment),
        )
        if (!pair) break
        const keyNode = pair.key as Node | null
        found = { offset: keyNode?.range?.[0] ?? 0, depth: depth + 1 }
        node = pair.value
      } else if (isSeq(node)) {
        const item = node.items[Number(segment)] as Node | undefined
        if (!item) break
        found = { offset: item.range?.[0] ?? 0, depth: depth + 1 }
        node = item
      } else break
    }
    return found
  }
}
