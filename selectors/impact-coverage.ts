/**
 * Coverage in, executed functions out: the formats an impact map is recorded from.
 * - V8 (`NODE_V8_COVERAGE`): Node services. Function ranges are byte offsets in the script V8 ran; with
 *   `--enable-source-maps` the coverage file carries each script's source map (`source-map-cache`), and
 *   ranges are mapped back to the original sources (TypeScript, a Babel build) with Node's own
 *   `module.SourceMap`.
 * - LCOV (`lcov.info`, `FN`/`FNDA` records): any other runtime (Python's coverage.py `lcov`, Go through
 *   gcov2lcov, c8, nyc, Istanbul). LCOV gives a function's first line only; its last line is taken as the
 *   line before the next function of the file, or the file's last `DA` line.
 * Both yield {@link ExecutedFunction}s keyed by file; counts are summed over processes.
 */
import { readFile, readdir } from 'node:fs/promises'
import { SourceMap } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export interface ExecutedFunction {
  /** Absolute path of the source file (after source maps). */
  file: string
  name: string
  /** First and last line, 1-based, inclusive. */
  lines: [number, number]
  /** Times the function was called, summed over processes. */
  count: number
}

interface V8Range {
  startOffset: number
  endOffset: number
  count: number
}
interface V8Script {
  url: string
  functions: Array<{ functionName: string; ranges: V8Range[] }>
}
interface V8File {
  result: V8Script[]
  'source-map-cache'?: Record<string, { lineLengths?: number[]; data?: unknown }>
}

/** Every function of every `coverage-*.json` in `dir`, summed by file, line range and name. */
export async function readV8Coverage(dir: string): Promise<ExecutedFunction[]> {
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => /\.json$/.test(f)).sort()
  const sum = new Map<string, ExecutedFunction>()
  const sources = new Map<string, Promise<number[] | undefined>>()
  for (const name of files) {
    const doc = JSON.parse(await readFile(path.join(dir, name), 'utf8')) as V8File
    const maps = doc['source-map-cache'] ?? {}
    for (const script of doc.result ?? []) {
      if (!script.url.startsWith('file:')) continue
      const file = fileURLToPath(script.url)
      const cached = maps[script.url]
      const lineLengths = cached?.lineLengths
      const starts = lineLengths
        ? Promise.resolve(startsFromLengths(lineLengths))
        : (sources.get(file) ?? sources.set(file, lineStartsOf(file)).get(file)!)
      const lineStarts = await starts
      if (!lineStarts) continue
      const map = cached?.data
        ? new SourceMap(cached.data as ConstructorParameters<typeof SourceMap>[0])
        : undefined
      for (const fn of script.functions) {
        const whole = fn.ranges[0]
        // The script's own top level (offset 0, no name) is not a function of the code.
        if (!whole || (whole.startOffset === 0 && !fn.functionName)) continue
        const start = position(lineStarts, whole.startOffset)
        const end = position(lineStarts, Math.max(whole.startOffset, whole.endOffset - 1))
        let target = { file, first: start.line + 1, last: end.line + 1 }
        if (map) {
          const a = map.findEntry(start.line, start.column)
          const b = map.findEntry(end.line, end.column)
          if (!('originalSource' in a) || !a.originalSource) continue
          const source = a.originalSource.startsWith('file:')
            ? fileURLToPath(a.originalSource)
            : path.resolve(path.dirname(file), a.originalSource)
          const last =
            'originalLine' in b && b.originalSource === a.originalSource ? b.originalLine : a.originalLine
          target = { file: source, first: a.originalLine + 1, last: Math.max(a.originalLine, last) + 1 }
        }
        const key = `${target.file}\0${target.first}\0${target.last}\0${fn.functionName}`
        const seen = sum.get(key)
        if (seen) seen.count += whole.count
        else
          sum.set(key, {
            file: target.file,
            name: fn.functionName || '(anonymous)',
            lines: [target.first, target.last],
            count: whole.count,
          })
      }
    }
  }
  return [...sum.values()]
}

function startsFromLengths(lengths: number[]): number[] {
  const starts = [0]
  for (const n of lengths) starts.push(starts[starts.length - 1]! + n + 1)
  return starts
}

async function lineStartsOf(file: string): Promise<number[] | undefined> {
  const text = await readFile(file, 'utf8').catch(() => undefined)
  if (text === undefined) return undefined
  const starts = [0]
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1)
  return starts
}

/** 0-based line and column of an offset. */
function position(starts: number[], offset: number): { line: number; column: number } {
  let lo = 0
  let hi = starts.length - 1
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1
    if (starts[mid]! <= offset) lo = mid
    else hi = mid - 1
  }
  return { line: lo, column: offset - starts[lo]! }
}

/**
 * Functions of an LCOV tracefile. `SF:` paths are resolved against `base` (the folder the service ran in).
 * Throws with `file:line` on a record it cannot read.
 */
export function parseLcov(text: string, base: string, where = 'lcov.info'): ExecutedFunction[] {
  const out: ExecutedFunction[] = []
  let file: string | undefined
  let fns: Array<{ name: string; line: number; end?: number }> = []
  const counts = new Map<string, number>()
  let lastLine = 0
  const flush = () => {
    if (file === undefined) return
    fns.sort((a, b) => a.line - b.line)
    fns.forEach((fn, i) => {
      const next = fns[i + 1]?.line
      const end = fn.end ?? (next !== undefined ? Math.max(fn.line, next - 1) : Math.max(fn.line, lastLine))
      out.push({ file: file!, name: fn.name, lines: [fn.line, end], count: counts.get(fn.name) ?? 0 })
    })
  }
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim()
    if (!line) return
    const colon = line.indexOf(':')
    const tag = colon < 0 ? line : line.slice(0, colon)
    const value = colon < 0 ? '' : line.slice(colon + 1)
    const bad = () => new Error(`${where}:${i + 1}:1 LCOV: cannot read "${line.slice(0, 60)}"`)
    if (tag === 'SF') {
      file = path.resolve(base, value)
      fns = []
      counts.clear()
      lastLine = 0
    } else if (tag === 'FN') {
      // FN:<first line>[,<last line>],<name> (the last line since LCOV 2.0)
      const m = /^(\d+)(?:,(\d+))?,(.+)$/.exec(value)
      if (!m || file === undefined) throw bad()
      fns.push({ line: Number(m[1]), ...(m[2] ? { end: Number(m[2]) } : {}), name: m[3]! })
    } else if (tag === 'FNDA') {
      const m = /^(\d+),(.+)$/.exec(value)
      if (!m || file === undefined) throw bad()
      counts.set(m[2]!, (counts.get(m[2]!) ?? 0) + Number(m[1]))
    } else if (tag === 'DA') {
      const m = /^(\d+),/.exec(value)
      if (!m || file === undefined) throw bad()
      lastLine = Math.max(lastLine, Number(m[1]))
    } else if (tag === 'end_of_record') {
      flush()
      file = undefined
    }
  })
  flush()
  return out
}
