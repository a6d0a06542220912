/**
 * The reporters: a registry keyed by the name `--reporter` takes, and `createReporter`, which builds
 * the chosen ones behind one isolating multiplexer. Rendering is pure (renderJson, renderJunit,
 * renderMarkdown, renderSummary); reporters only do I/O.
 */
import path from 'node:path'
import { closest } from 'fastest-levenshtein'
import type { Verdict } from '../engine/verdict.js'
import { consoleReporter } from './console.js'
import { ReporterSpecError } from './errors.js'
import type { ReporterFailure } from './errors.js'
import { json } from './json.js'
import { junit } from './junit.js'
import { markdown } from './markdown.js'
import { Multiplexer } from './multiplexer.js'
import type { Reporter, ReporterFactory, ReporterIO, ReporterTarget } from './types.js'

/** Every reporter, by the name `--reporter` takes (file `reporters/<name>.ts`, except console's). */
export const reporters = { console: consoleReporter, json, junit, markdown } satisfies Record<
  string,
  ReporterFactory
>

export type ReporterName = keyof typeof reporters

/** A parsed `--reporter` value: `junit` or `junit:out/junit.xml`. */
export interface ReporterSpec {
  name: ReporterName
  /** Output file, as given (relative to the cwd); absent means the reporter's default output. */
  path?: string
  /** The value as given, naming the reporter in messages. */
  raw: string
}

function isReporterName(name: string): name is ReporterName {
  return Object.hasOwn(reporters, name)
}

/** Parses `--reporter` values. Throws ReporterSpecError (exit 2) on an unknown name or an empty path. */
export function parseReporterSpecs(specs: readonly string[]): ReporterSpec[] {
  return specs.map((raw) => {
    const colon = raw.indexOf(':')
    const name = (colon < 0 ? raw : raw.slice(0, colon)).trim()
    const file = colon < 0 ? undefined : raw.slice(colon + 1).trim()
    if (!isReporterName(name)) {
      const names = Object.keys(reporters)
      const hint = name ? `; did you mean "${closest(name, names)}"?` : ''
      throw new ReporterSpecError(
        `--reporter ${raw}: unknown reporter "${name}" (one of ${names.join(', ')})${hint}`,
      )
    }
    if (file === '') throw new ReporterSpecError(`--reporter ${raw}: empty path after "${name}:"`)
    return file === undefined ? { name, raw } : { name, path: file, raw }
  })
}

function resolveTargets(specs: readonly ReporterSpec[], io: ReporterIO): ReporterTarget[] {
  const wanted = specs.map((spec) => {
    if (spec.path !== undefined) return { path: path.resolve(io.cwd, spec.path), append: false }
    const fallback = reporters[spec.name].defaultTarget(io)
    return typeof fallback === 'string'
      ? fallback
      : { ...fallback, path: path.resolve(io.cwd, fallback.path) }
  })
  const onStdout = specs.filter((_, i) => wanted[i] === 'stdout')
  if (onStdout.length > 1) {
    const names = onStdout.map((s) => s.name).join(' and ')
    throw new ReporterSpecError(
      `--reporter ${onStdout[1]!.raw}: ${names} would both write to stdout; give all but one a path, e.g. ${onStdout[1]!.name}:out/${onStdout[1]!.name}`,
    )
  }
  const files = new Map<string, string>()
  wanted.forEach((w, i) => {
    if (typeof w === 'string') return
    const other = files.get(w.path)
    if (other !== undefined && !w.append) {
      throw new ReporterSpecError(`--reporter ${specs[i]!.raw}: ${other} writes the same file`)
    }
    files.set(w.path, specs[i]!.raw)
  })
  // The live console moves to stderr when a document owns stdout, so `--json | jq` gets clean JSON.
  const liveOn = onStdout.length > 0 ? 'stderr' : 'stdout'
  return wanted.map((w): ReporterTarget => {
    if (typeof w !== 'string') return { kind: 'file', ...w }
    const name = w === 'live' ? liveOn : 'stdout'
    const stream = name === 'stdout' ? io.stdout : io.stderr
    const isTTY = name === 'stdout' ? io.isTTY : io.stderr.isTTY === true
    return { kind: 'stream', stream, name, isTTY }
  })
}

/**
 * Builds the reporters named by `specs` (`console`, `json`, `junit:out/junit.xml`; default `console`)
 * behind one multiplexer. Throws ReporterSpecError for unknown names, two reporters on stdout, or two
 * on one file. Reporter failures do not throw: they are in `failures` (and printed to stderr at the end).
 */
export function createReporter(
  specs: readonly string[],
  io: ReporterIO,
): Reporter & { failures: ReporterFailure[] } {
  const parsed = parseReporterSpecs(specs.length > 0 ? specs : ['console'])
  const seen = new Set<string>()
  for (const spec of parsed) {
    if (seen.has(spec.raw)) throw new ReporterSpecError(`--reporter ${spec.raw}: given twice`)
    seen.add(spec.raw)
  }
  const targets = resolveTargets(parsed, io)
  // The `vigil reproduce` lines name the file the JSON verdict goes to, when one does.
  const jsonFile = parsed
    .map((spec, i) => (spec.name === 'json' ? targets[i] : undefined))
    .find((t) => t?.kind === 'file')
  const relative = (file: string) => {
    const shown = path.relative(io.cwd, file)
    return shown && !shown.startsWith('..') && !path.isAbsolute(shown) ? shown : file
  }
  const withPath: ReporterIO =
    io.verdictPath === undefined && jsonFile?.kind === 'file'
      ? { ...io, verdictPath: relative(jsonFile.path) }
      : io
  const entries = parsed.map((spec, i) => ({
    label: spec.raw,
    reporter: reporters[spec.name].create({ target: targets[i]!, io: withPath }),
  }))
  return new Multiplexer(entries, io.stderr)
}

/** The exit code after reporting: the verdict's, but a reporter failure never lets a run exit 0. */
export function finalExitCode(verdict: Pick<Verdict, 'exitCode'>, failures: readonly unknown[]): number {
  return failures.length > 0 && verdict.exitCode === 0 ? 3 : verdict.exitCode
}

export { renderCompact } from './compact.js'
export { renderJson } from './json.js'
export { renderJunit } from './junit.js'
export { renderMarkdown, GITHUB_SUMMARY_LIMIT } from './markdown.js'
export type { MarkdownOptions } from './markdown.js'
export { renderSummary, renderCheckLine, renderRunStart } from './console-render.js'
export type { ConsoleRenderOptions } from './console-render.js'
export { ConsoleReporter, colorEnabled } from './console.js'
export { Multiplexer } from './multiplexer.js'
export { verdictSchema, validateVerdict, isVerdict, VERDICT_SCHEMA_ID } from './schema.js'
export type { VerdictValidation } from './schema.js'
export { ReporterError, ReporterSpecError, ReporterFailure } from './errors.js'
export type {
  Reporter,
  ReporterFactory,
  ReporterIO,
  ReporterOptions,
  ReporterTarget,
  OutputStream,
} from './types.js'
