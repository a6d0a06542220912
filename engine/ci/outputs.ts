/**
 * What `vigil ci` writes: the live console, the artefact files (verdict, selection, JUnit, Markdown
 * summary) in the run's own folder, the GitHub step summary, and any `--reporter` given on top.
 */
import { mkdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { parseReporterSpecs, reporters } from '../../reporters/index.js'
import type { ReporterIO } from '../../reporters/index.js'
import { writeFileAtomic } from '../../reporters/output.js'
import { formatTable } from '../../plans/table.js'
import { DEFAULT_OUT_DIR, RUNS_DIR } from './defaults.js'

/** Absolute paths of the files a CI run leaves behind. */
export interface CiArtefacts {
  /** The run's own folder, `<cwd>/.vigil/runs/<run-id>/`: every artefact below is written there. */
  runDir: string
  /** `--out`: once the run ends, a link to `runDir` (the run that finished last). */
  out: string
  verdict: string
  selection: string
  junit: string
  summary: string
  /** `--junit PATH`: the JUnit XML is also written there. */
  junitCopy?: string
  /** `$GITHUB_STEP_SUMMARY`, appended to when it is set. */
  stepSummary?: string
}

export { DEFAULT_OUT_DIR, RUNS_DIR } from './defaults.js'

export function artefactPaths(input: {
  cwd: string
  runId: string
  outDir?: string
  junit?: string
  env: Readonly<Record<string, string | undefined>>
}): CiArtefacts {
  const out = path.resolve(input.cwd, input.outDir ?? DEFAULT_OUT_DIR)
  const runDir = path.resolve(input.cwd, RUNS_DIR, input.runId)
  const step = input.env.GITHUB_STEP_SUMMARY?.trim()
  const junit = path.join(runDir, 'junit.xml')
  const junitCopy = input.junit ? inRunDir(path.resolve(input.cwd, input.junit), out, runDir) : undefined
  return {
    runDir,
    out,
    verdict: path.join(runDir, 'verdict.json'),
    selection: path.join(runDir, 'selection.json'),
    junit,
    summary: path.join(runDir, 'summary.md'),
    ...(junitCopy && junitCopy !== junit ? { junitCopy } : {}),
    ...(step ? { stepSummary: path.resolve(input.cwd, step) } : {}),
  }
}

/**
 * A file asked for inside `--out` goes to the run's folder instead: writing through the link would put
 * it into whichever run `--out` points at right now.
 */
function inRunDir(file: string, out: string, runDir: string): string {
  const relative = path.relative(out, file)
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative)
    ? path.join(runDir, relative)
    : file
}

/**
 * The reporter specs of a CI run: console, then the artefact files, then the `--reporter` extras.
 * Extras that repeat one of ours (`console`, or `markdown` while the step summary is written) are dropped;
 * an extra's file inside `--out` is written to the run's folder.
 */
export function ciReporterSpecs(files: CiArtefacts, extra: readonly string[], cwd: string): string[] {
  const specs = [
    'console',
    `json:${files.verdict}`,
    `junit:${files.junit}`,
    ...(files.junitCopy ? [`junit:${files.junitCopy}`] : []),
    `markdown:${files.summary}`,
    // The markdown reporter's default target appends to $GITHUB_STEP_SUMMARY.
    ...(files.stepSummary ? ['markdown'] : []),
  ]
  for (const spec of parseReporterSpecs(extra)) {
    const raw =
      spec.path === undefined
        ? spec.raw
        : `${spec.name}:${inRunDir(path.resolve(cwd, spec.path), files.out, files.runDir)}`
    if (!specs.includes(raw) && !specs.includes(spec.raw)) specs.push(raw)
  }
  return specs
}

/** True when one of the `--reporter` extras prints its document on stdout, so people's lines go to stderr. */
export function extrasUseStdout(extra: readonly string[], io: ReporterIO): boolean {
  return parseReporterSpecs(extra).some(
    (spec) => spec.path === undefined && reporters[spec.name].defaultTarget(io) === 'stdout',
  )
}

/**
 * The artefact list printed at the end, paths relative to `cwd`: through `--out` when the run was
 * published there, else in the run's own folder.
 */
export function renderArtefacts(files: CiArtefacts, cwd: string, published: boolean): string {
  const show = (file: string) => {
    const relative = path.relative(cwd, file)
    return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file
  }
  const shown = (file: string) =>
    show(published ? path.join(files.out, path.relative(files.runDir, file)) : file)
  const rows: Array<[string, string]> = [
    ['verdict', shown(files.verdict)],
    ['selection', shown(files.selection)],
    ['junit', shown(files.junit)],
    ['summary', shown(files.summary)],
  ]
  if (files.junitCopy) rows.push(['junit copy', show(files.junitCopy)])
  if (files.stepSummary) rows.push(['step summary', `${show(files.stepSummary)} (appended)`])
  const where = published
    ? `${show(files.out)} → ${show(files.runDir)}, this run's own folder`
    : `in ${show(files.runDir)}; ${show(files.out)} was not updated`
  return `Artefacts (${where})\n\n${formatTable(rows, { indent: '  ' }).join('\n')}\n`
}

/** The list, in the config folder's `.vigil/`, of the report files earlier runs wrote outside `.vigil/`. */
export const WRITTEN_LIST = '.vigil/written.json'

/**
 * Everything of vigil's own that a `--base` diff must leave out, absolute: the `.vigil/` folders of the
 * working and config folders, this run's artefacts and report files, and the report files earlier runs
 * wrote (a second run without `--junit` must not see the first run's JUnit file as a change).
 */
export async function ownOutputs(input: {
  files: CiArtefacts
  specs: readonly string[]
  io: ReporterIO
  configDir: string
}): Promise<string[]> {
  const { files, io, configDir } = input
  const written = await readWritten(configDir)
  return [
    ...new Set([
      path.resolve(io.cwd, '.vigil'),
      path.join(configDir, '.vigil'),
      files.out,
      ...reportFiles(files, input.specs, io),
      ...written,
    ]),
  ]
}

/** Adds this run's report files to the config folder's list of files vigil wrote. Best effort. */
export async function rememberWritten(
  files: CiArtefacts,
  specs: readonly string[],
  io: ReporterIO,
  configDir: string,
): Promise<void> {
  const list = path.join(configDir, WRITTEN_LIST)
  const known = new Set(await readWritten(configDir))
  const before = known.size
  for (const file of reportFiles(files, specs, io)) if (inside(configDir, file)) known.add(file)
  if (known.size === before) return
  const relative = [...known].map((file) => path.relative(configDir, file).split(path.sep).join('/'))
  await mkdir(path.dirname(list), { recursive: true })
  await writeFileAtomic(list, `${JSON.stringify(relative.sort(), null, 2)}\n`)
}

/** The files the reporters of a run write, absolute (stdout is not a file). */
function reportFiles(files: CiArtefacts, specs: readonly string[], io: ReporterIO): string[] {
  const out: string[] = [...(files.junitCopy ? [files.junitCopy] : [])]
  if (files.stepSummary) out.push(files.stepSummary)
  for (const spec of parseReporterSpecs(specs)) {
    if (spec.path !== undefined) out.push(path.resolve(io.cwd, spec.path))
    else {
      const target = reporters[spec.name].defaultTarget(io)
      if (typeof target !== 'string') out.push(path.resolve(io.cwd, target.path))
    }
  }
  return out.filter((file) => !inside(files.runDir, file))
}

async function readWritten(configDir: string): Promise<string[]> {
  try {
    const list = JSON.parse(await readFile(path.join(configDir, WRITTEN_LIST), 'utf8')) as unknown
    if (!Array.isArray(list)) return []
    return list.filter((x): x is string => typeof x === 'string').map((file) => path.resolve(configDir, file))
  } catch {
    return []
  }
}

function inside(folder: string, file: string): boolean {
  const relative = path.relative(folder, file)
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative)
}
