/**
 * What `vigil ci` writes: the live console, the artefact files (verdict, selection, JUnit, Markdown
 * summary) in the run's own folder, the GitHub step summary, and any `--reporter` given on top.
 */
import path from 'node:path'
import { parseReporterSpecs, reporters } from '../../reporters/index.js'
import type { ReporterIO } from '../../reporters/index.js'
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
