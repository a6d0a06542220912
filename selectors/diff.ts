/**
 * Unified diff → {@link ParsedDiff}. Hunks are parsed by the `diff` package's `parsePatch`; the
 * `git diff` extended headers it does not understand (rename/copy from/to, new/deleted file, mode
 * changes, `Binary files … differ`, `GIT binary patch`) are read here, one `diff --git` section at a time.
 * Nothing in a diff makes this throw: a section `parsePatch` rejects is read leniently and noted in
 * `warnings`.
 */
import { createHash } from 'node:crypto'
import { parsePatch } from 'diff'
import type { ChangedFile, DiffHunk, FileStatus, ParsedDiff } from './types.js'

export interface ParseDiffOptions {
  /** Maps each path from the diff (already without `a/`/`b/`) to the path plans match against. @default identity */
  mapPath?: (path: string) => { path: string; outside: boolean }
}

const GIT_HEADER = /^diff --git /
const EXTENDED_HEADER =
  /^(new file mode|deleted file mode|old mode|new mode|rename from|rename to|copy from|copy to) (.*)$/

/** Parses a unified diff (git or plain `diff -u`). Line endings are normalised to LF first. */
export function parseDiff(text: string, options: ParseDiffOptions = {}): ParsedDiff {
  const normalised = text.replace(/\r\n/g, '\n')
  const hash = `sha256:${createHash('sha256').update(normalised).digest('hex')}`
  const warnings: string[] = []
  const lines = normalised.split('\n')
  const files: ChangedFile[] = []
  if (lines.some((line) => GIT_HEADER.test(line))) {
    let start = -1
    for (let i = 0; i <= lines.length; i++) {
      if (i === lines.length || GIT_HEADER.test(lines[i]!)) {
        if (start >= 0) files.push(parseGitSection(lines.slice(start, i), warnings))
        start = i
      }
    }
  } else if (normalised.trim()) {
    files.push(...parsePlain(normalised, warnings))
  }
  const map = options.mapPath
  const mapped = map
    ? files.map((file) => {
        const { path, outside } = map(file.path)
        const out: ChangedFile = { ...file, path }
        if (file.oldPath !== undefined) out.oldPath = map(file.oldPath).path
        if (outside) out.outside = true
        return out
      })
    : files
  return { hash, files: mapped, bytes: Buffer.byteLength(normalised), warnings }
}

/** One `diff --git a/x b/y` section. */
function parseGitSection(section: string[], warnings: string[]): ChangedFile {
  const names = splitGitHeader(section[0]!.slice('diff --git '.length))
  let oldPath = names?.[0]
  let newPath = names?.[1]
  let status: FileStatus = 'modified'
  let binary = false
  const mode: { old?: string; new?: string } = {}
  let body = 0
  for (let i = 1; i < section.length; i++) {
    const line = section[i]!
    if (line.startsWith('--- ') || line.startsWith('@@')) {
      body = i
      break
    }
    const [, key, value] = EXTENDED_HEADER.exec(line) ?? []
    if (line.startsWith('Binary files ') || line === 'GIT binary patch') binary = true
    else if (key === 'new file mode') {
      status = 'added'
      mode.new = value
    } else if (key === 'deleted file mode') {
      status = 'deleted'
      mode.old = value
    } else if (key === 'old mode') mode.old = value
    else if (key === 'new mode') mode.new = value
    else if (key === 'rename from' || key === 'copy from') oldPath = unquote(value!)
    else if (key === 'rename to' || key === 'copy to') newPath = unquote(value!)
    if (key === 'rename from') status = 'renamed'
    if (key === 'copy from') status = 'copied'
    body = i + 1
  }
  const { hunks, oldName, newName } = binary ? { hunks: [] } : parseHunks(section.slice(body), warnings)
  if (oldName && oldName !== '/dev/null') oldPath = stripPrefix(oldName, 'a/')
  if (newName && newName !== '/dev/null') newPath = stripPrefix(newName, 'b/')
  if (oldName === '/dev/null') status = 'added'
  if (newName === '/dev/null') status = 'deleted'
  const path = (status === 'deleted' ? (oldPath ?? newPath) : (newPath ?? oldPath)) ?? '(unknown)'
  if (!names && !oldPath && !newPath)
    warnings.push(`could not read a path from ${JSON.stringify(section[0])}`)
  const file: ChangedFile = { path, status, binary, ...count(hunks), hunks }
  if ((status === 'renamed' || status === 'copied') && oldPath && oldPath !== path) file.oldPath = oldPath
  if (mode.old !== undefined || mode.new !== undefined) file.mode = mode
  return file
}

/** Plain unified diffs (`diff -u`, `Index:` style): `parsePatch` splits them into files itself. */
function parsePlain(text: string, warnings: string[]): ChangedFile[] {
  let patches: ReturnType<typeof parsePatch>
  try {
    patches = parsePatch(text)
  } catch (error) {
    warnings.push(`diff read leniently: ${(error as Error).message}`)
    const { hunks, oldName, newName } = lenientHunks(text.split('\n'))
    patches = [{ oldFileName: oldName, newFileName: newName, hunks: toStructured(hunks) } as never]
  }
  return patches
    .filter((patch) => patch.oldFileName || patch.newFileName || patch.hunks.length)
    .map((patch) => {
      const hunks = patch.hunks.map(fromStructured)
      const status: FileStatus =
        patch.oldFileName === '/dev/null'
          ? 'added'
          : patch.newFileName === '/dev/null'
            ? 'deleted'
            : 'modified'
      const name = status === 'deleted' ? patch.oldFileName : (patch.newFileName ?? patch.oldFileName)
      const path = name ? stripPrefix(name, status === 'deleted' ? 'a/' : 'b/', true) : '(unknown)'
      return { path, status, binary: false, ...count(hunks), hunks }
    })
}

/** The `---`/`+++` names and hunks of one git section's body. */
function parseHunks(
  body: string[],
  warnings: string[],
): { hunks: DiffHunk[]; oldName?: string; newName?: string } {
  if (!body.some((line) => line.startsWith('@@') || line.startsWith('--- '))) return { hunks: [] }
  try {
    const [patch, ...rest] = parsePatch(body.join('\n'))
    if (!patch || rest.some((p) => p.hunks.length)) throw new Error('more than one file in a git section')
    // parsePatch drops the text after the second `@@` (the enclosing function): keep the original headers.
    const headers = body.filter((line) => line.startsWith('@@'))
    const hunks = patch.hunks.map((h, i) => ({
      ...fromStructured(h),
      header: headers[i] ?? fromStructured(h).header,
    }))
    return { hunks, oldName: patch.oldFileName, newName: patch.newFileName }
  } catch (error) {
    warnings.push(`diff read leniently: ${(error as Error).message}`)
    return lenientHunks(body)
  }
}

/**
 * Reads whatever looks like hunks when `parsePatch` refused (hand-edited patches, format-patch
 * signatures): a hunk ends when its header's counts are used up or at the first line that is not one.
 */
function lenientHunks(lines: string[]): { hunks: DiffHunk[]; oldName?: string; newName?: string } {
  const hunks: DiffHunk[] = []
  let oldName: string | undefined
  let newName: string | undefined
  let current: DiffHunk | undefined
  let oldLeft = 0
  let newLeft = 0
  for (const line of lines) {
    const inHunk = current && (oldLeft > 0 || newLeft > 0 || line.startsWith('\\')) && /^[-+ \\]/.test(line)
    if (current && inHunk) {
      current.lines.push(line)
      if (line[0] !== '+' && line[0] !== '\\') oldLeft--
      if (line[0] !== '-' && line[0] !== '\\') newLeft--
      continue
    }
    current = undefined
    const header = /^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@/.exec(line)
    if (header) {
      hunks.push((current = { header: line, lines: [] }))
      oldLeft = Number(header[1] ?? 1)
      newLeft = Number(header[2] ?? 1)
    } else if (line.startsWith('--- ')) oldName = headerName(line)
    else if (line.startsWith('+++ ')) newName = headerName(line)
  }
  return { hunks, oldName, newName }
}

function headerName(line: string): string {
  return unquote(line.slice(4).split('\t')[0]!.trim())
}

type StructuredHunk = ReturnType<typeof parsePatch>[number]['hunks'][number]

function fromStructured(hunk: StructuredHunk): DiffHunk {
  const header = `@@ -${hunk.oldStart},${hunk.oldLines} +${hunk.newStart},${hunk.newLines} @@`
  return { header, lines: hunk.lines }
}

function toStructured(hunks: DiffHunk[]): StructuredHunk[] {
  return hunks.map((h) => ({ oldStart: 0, oldLines: 0, newStart: 0, newLines: 0, lines: h.lines }))
}

function count(hunks: DiffHunk[]): { additions: number; deletions: number } {
  let additions = 0
  let deletions = 0
  for (const hunk of hunks)
    for (const line of hunk.lines) {
      if (line.startsWith('+')) additions++
      else if (line.startsWith('-')) deletions++
    }
  return { additions, deletions }
}

/** `a/x b/y` (possibly quoted). Ambiguous unquoted names with spaces are split where both halves agree. */
function splitGitHeader(rest: string): [string, string] | undefined {
  const quoted = /^("(?:[^"\\]|\\.)*"|\S+) ("(?:[^"\\]|\\.)*"|\S+)$/.exec(rest)
  if (quoted) return [stripPrefix(unquote(quoted[1]!), 'a/'), stripPrefix(unquote(quoted[2]!), 'b/')]
  const half = (rest.length - 1) / 2
  if (Number.isInteger(half) && rest[half] === ' ') {
    const a = stripPrefix(rest.slice(0, half), 'a/')
    const b = stripPrefix(rest.slice(half + 1), 'b/')
    if (a === b) return [a, b]
  }
  return undefined
}

function stripPrefix(name: string, prefix: string, onlyIfBoth = false): string {
  if (onlyIfBoth && !/^[ab]\//.test(name)) return name
  return name.startsWith(prefix) ? name.slice(prefix.length) : name
}

/** Git's C-style quoting: `"a/t\303\251st\tx"`. */
export function unquote(name: string): string {
  if (!(name.startsWith('"') && name.endsWith('"') && name.length >= 2)) return name
  const bytes: number[] = []
  const body = name.slice(1, -1)
  const escapes: Record<string, number> = { n: 10, t: 9, r: 13, b: 8, f: 12, a: 7, v: 11, '"': 34, '\\': 92 }
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!
    if (ch !== '\\') {
      bytes.push(...Buffer.from(ch))
      continue
    }
    const next = body[i + 1] ?? ''
    const octal = /^[0-7]{3}/.exec(body.slice(i + 1))
    if (octal) {
      bytes.push(parseInt(octal[0], 8))
      i += 3
    } else {
      bytes.push(escapes[next] ?? next.charCodeAt(0))
      i += 1
    }
  }
  return Buffer.from(bytes).toString('utf8')
}
