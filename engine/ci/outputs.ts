/**
 * What `vigil ci` writes: the live console, the artefact files (verdict, selection, JUnit, Markdown
 * summary), the GitHub step summary, and any `--reporter` given on top.
 */
import path from 'node:path'
import { parseReporterSpecs, reporters } from '../../reporters/index.js'
import type { ReporterIO } from '../../reporters/index.js'

/** Absolute paths of the files a CI run leaves behind. */
export interface CiArtefacts {
  verdict: string
  selection: string
  junit: string
  summary: string
  /** `$GITHUB_STEP_SUMMARY`, appended to when it is set. */
  stepSummary?: string
}

/** The default artefact folder, relative to the working directory. */
export const DEFAULT_OUT_DIR = '.vigil/ci'

export function artefactPaths(input: {
  cwd: string
  outDir?: string
  junit?: string
  env: Readonly<Record<string, string | undefined>>
}): CiArtefacts {
  const out = path.resolve(input.cwd, input.outDir ?? DEFAULT_OUT_DIR)
  const step = input.env.GITHUB_STEP_SUMMARY?.trim()
  return {
    verdict: path.join(out, 'verdict.json'),
    selection: path.join(out, 'selection.json'),
    junit: input.junit ? path.resolve(input.cwd, input.junit) : path.join(out, 'junit.xml'),
    summary: path.join(out, 'summary.md'),
    ...(step ? { stepSummary: path.resolve(input.cwd, step) } : {}),
  }
}

/**
 * The reporter specs of a CI run: console, then the artefact files, then the `--reporter` extras.
 * Extras that repeat one of ours (`console`, or `markdown` while the step summary is written) are dropped.
 */
export function ciReporterSpecs(files: CiArtefacts, extra: readonly string[]): string[] {
  const specs = [
    'console',
    `json:${files.verdict}`,
    `junit:${files.junit}`,
    `markdown:${files.summary}`,
    // The markdown reporter's default target appends to $GITHUB_STEP_SUMMARY.
    ...(files.stepSummary ? ['markdown'] : []),
  ]
  for (const spec of extra) if (!specs.includes(spec)) specs.push(spec)
  return specs
}

/** True when one of the `--reporter` extras prints its document on stdout, so people's lines go to stderr. */
export function extrasUseStdout(extra: readonly string[], io: ReporterIO): boolean {
  return parseReporterSpecs(extra).some(
    (spec) => spec.path === undefined && reporters[spec.name].defaultTarget(io) === 'stdout',
  )
}

/** The artefact list printed at the end, paths relative to `cwd`. */
export function renderArtefacts(files: CiArtefacts, cwd: string): string {
  const show = (file: string) => {
    const relative = path.relative(cwd, file)
    return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file
  }
  const rows: Array<[string, string]> = [
    ['verdict', show(files.verdict)],
    ['selection', show(files.selection)],
    ['junit', show(files.junit)],
    ['summary', show(files.summary)],
  ]
  if (files.stepSummary) rows.push(['step summary', `${show(files.stepSummary)} (appended)`])
  const width = Math.max(...rows.map(([label]) => label.length))
  return `Artefacts\n\n${rows.map(([label, file]) => `  ${label.padEnd(width)}  ${file}`).join('\n')}\n`
}
