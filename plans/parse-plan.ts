import { validateCollectingFiles, validatorFor } from './ajv.js'
import { boundProblems } from './bounds.js'
import { parseDuration } from './duration.js'
import { splitFrontmatter } from './frontmatter.js'
import { globProblem } from './globs.js'
import { classifyFence } from './kinds.js'
import { fenceBody, scanFences } from './markdown.js'
import frontmatterSchema from './schema/frontmatter.json' with { type: 'json' }
import { describeValue, translateErrors } from './schema-errors.js'
import { LineIndex, sliceSegment } from './text.js'
import type { Segment } from './text.js'
import type { FileReference } from './ajv.js'
import type { CheckBlock, DiagnosticSeverity, JsonSchema, Location, Plan, PlanDiagnostic } from './types.js'
import { locate, parseYaml } from './yaml.js'
import { unknownVariables } from './variables.js'
import type { KnownNames } from './variables.js'
import type { ParsedYaml } from './yaml.js'

/** What the parser needs to know besides the text. */
export interface ParseOptions {
  /** The file as reported (relative to the working directory, `/` separators). */
  file: string
  /** Absolute directory of the file. */
  dir: string
  /** Block schema of every check kind; its keys are the kinds a fence may name. */
  checkSchemas: Readonly<Record<string, JsonSchema>>
  /** Lint of a kind's blocks beyond its schema (run on blocks the schema accepts). @default {} */
  checkLints?: Readonly<Record<string, BlockLint>>
  /** Names the config defines for `{{env.…}}`, `{{secrets.…}}`, `{{services.…}}`. @default none checked */
  variables?: KnownNames
}

/** A kind's own lint of a block its schema accepts: each problem at the JSON pointer it concerns. */
export type BlockLint = (params: Record<string, unknown>) => BlockProblem[]

export interface BlockProblem {
  /** JSON pointer inside the block. */
  pointer: string
  /** The sentence after `<kind>: `, with the fix. */
  message: string
  /** @default 'invalid-check' */
  code?: string
}

/** A file or folder a check block names (a string its kind's schema marks with `x-file`). */
export interface PlanFileReference {
  /** The check kind, for messages. */
  kind: string
  /** JSON pointer of the string inside the block. */
  pointer: string
  /** The string as written (a path relative to the plan's folder, maybe with a `#fragment`). */
  value: string
  /** `schema`, `openapi`, `script` or `folder`. */
  role: string
  /** Where the string is in the plan file (computed on demand: positions cost a re-parse). */
  locate(): Location
  /** The block's strings naming operations of this document (`x-operation` of this role), to be checked. */
  operations?: Array<{ pointer: string; value: string; locate(): Location }>
}

/** One file's outcome: a plan (when it has no error) and its diagnostics. */
export interface ParsedPlanFile {
  plan?: Plan
  /** The files the plan's checks name, to be checked by the loader (present with `plan`). */
  files?: PlanFileReference[]
  /** The frontmatter's `name` when it is a non-empty string, even if the plan has errors. */
  name?: string
  /** Where the `name` value is, for duplicate-name reports (computed on demand: positions cost a re-parse). */
  locateName?: () => Location
  diagnostics: PlanDiagnostic[]
}

/** Parses and validates one plan file. Never throws on bad input: every problem becomes a diagnostic. */
export function parsePlanFile(text: string, options: ParseOptions): ParsedPlanFile {
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
  const index = new LineIndex(source)
  const reporter = new Reporter(index, options.file)
  const diagnostics = reporter.diagnostics
  let planName: string | undefined
  const front = splitFrontmatter(source)
  const kinds = Object.keys(options.checkSchemas)
  const bodyLine =
    front.contentOffset >= source.length ? index.lineCount : index.position(front.contentOffset).line - 1
  const fences = scanFences(index, front.present ? bodyLine : 0)

  if (!front.present) {
    if (fences.some((f) => classifyFence(f.info, kinds).role !== 'documentation')) {
      reporter.report(
        0,
        'error',
        'missing-frontmatter',
        'missing frontmatter: a plan starts with a --- block holding name, title and selectionHint',
      )
    } else {
      reporter.report(
        0,
        'warning',
        'not-a-plan',
        'no frontmatter, so not a plan; skipped (a plan starts with a --- block holding name, title and selectionHint)',
      )
    }
    return { diagnostics }
  }
  if (!front.closed) {
    reporter.report(
      0,
      'error',
      'unclosed-frontmatter',
      'frontmatter is never closed; end it with a line of ---',
    )
    return { diagnostics }
  }
  if (front.language !== 'yaml' && front.language !== 'yml') {
    reporter.report(3, 'error', 'frontmatter-language', `frontmatter must be YAML, got "${front.language}"`)
    return { diagnostics }
  }

  const yaml = front.yaml
  const data = yaml ? yaml.value : {}
  if (data !== null && typeof data === 'object' && !Array.isArray(data)) {
    const name = (data as Record<string, unknown>).name
    if (typeof name === 'string' && name !== '') planName = reporter.plan = name
  }
  const frontSegment = sliceSegment('', front.base)
  if (yaml) reportYamlProblems(yaml, frontSegment, 'frontmatter', reporter)
  if (!yaml || yaml.errors.length === 0) {
    validateAgainst(
      frontmatterSchema as JsonSchema,
      data ?? null,
      yaml,
      frontSegment,
      '',
      'frontmatter',
      0,
      reporter,
    )
  }
  const frontmatterValid = reporter.errors === 0
  const fm = (frontmatterValid ? data : {}) as Record<string, unknown>
  // Globs are checked even when other keys are wrong: an author fixing one problem wants to see them all.
  const paths = (data as Record<string, unknown> | null | undefined)?.paths
  if (yaml && Array.isArray(paths)) {
    paths.forEach((glob: unknown, i: number) => {
      const problem = typeof glob === 'string' ? globProblem(glob) : undefined
      if (problem) {
        const at = frontSegment.toFile(locate(yaml.doc, `/paths/${i}`).value)
        reporter.report(at, 'error', 'invalid-glob', `invalid glob "${String(glob)}" in paths: ${problem}`)
      }
    })
  }

  const checks: CheckBlock[] = []
  const files: PlanFileReference[] = []
  const counts = new Map<string, number>()
  const names = new Map<string, number>()
  let checkLike = 0
  for (const fence of fences) {
    const role = classifyFence(fence.info, kinds)
    if (role.role === 'documentation') continue
    checkLike++
    const fenceOffset = index.starts[fence.line]! + fence.column - 1
    if (role.role === 'unknown-kind') {
      const at = index.starts[fence.line]! + fence.infoColumn - 1
      reporter.report(
        at,
        'error',
        'unknown-kind',
        `unknown check kind "${role.word}"; did you mean "${role.suggestion}"?`,
      )
      continue
    }
    const kind = role.kind
    if (!fence.closed) {
      reporter.report(
        fenceOffset,
        'error',
        'unclosed-fence',
        `${kind} block is never closed; end it with a line of ${'`'.repeat(3)}`,
      )
      continue
    }
    const n = (counts.get(kind) ?? 0) + 1
    counts.set(kind, n)
    const block = parseBlock(
      fenceBody(index, fence),
      kind,
      fenceOffset,
      options.checkSchemas[kind]!,
      reporter,
      {
        lint: options.checkLints?.[kind],
        planVars: Object.keys(isRecord(fm.vars) ? fm.vars : {}),
        known: options.variables,
      },
    )
    const name = role.name ?? fence.heading ?? `${kind} #${n}`
    const seen = (names.get(name) ?? 0) + 1
    names.set(name, seen)
    if (!block) continue
    files.push(...block.files)
    const id = `${planName ?? ''}/${name}${seen > 1 ? ` (${seen})` : ''}`
    const location = { file: options.file, line: fence.line + 1, column: fence.column }
    checks.push({
      kind,
      name,
      id,
      index: checks.length,
      location,
      params: block.params,
      source: block.source,
      ...(block.blocking === false ? { blocking: false } : {}),
    })
  }
  if (checkLike === 0) {
    const kindList = kinds.join(', ')
    reporter.report(
      0,
      'warning',
      'no-checks',
      `plan has no check blocks (${kindList}); it can be selected but validates nothing`,
    )
  }

  const named =
    planName && yaml
      ? {
          name: planName,
          // bind, not an arrow: tsx names every arrow it creates, and this one is made for every file.
          locateName: locateName.bind(undefined, index, frontSegment, yaml, options.file),
        }
      : {}
  if (reporter.errors > 0) return { diagnostics, ...named }
  const plan: Plan = {
    name: fm.name as string,
    title: (fm.title as string).trim(),
    selectionHint: (fm.selectionHint as string).trim(),
    paths: (fm.paths as string[] | undefined) ?? [],
    tags: (fm.tags as string[] | undefined) ?? [],
    always: (fm.always as boolean | undefined) ?? false,
    blocking: (fm.blocking as boolean | undefined) ?? true,
    ...(fm.timeout === undefined ? {} : { timeoutMs: parseDuration(fm.timeout as string | number) }),
    vars: (fm.vars as Record<string, unknown> | undefined) ?? {},
    file: options.file,
    dir: options.dir,
    checks,
    frontmatter: fm,
  }
  return { plan, files, diagnostics, ...named }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/** Collects one file's diagnostics at file positions, and counts its errors. */
class Reporter {
  readonly diagnostics: PlanDiagnostic[] = []
  errors = 0
  /** The plan's name, once known: diagnostics reported after that carry it. */
  plan: string | undefined
  constructor(
    private readonly index: LineIndex,
    private readonly file: string,
  ) {}

  /** The file position of an offset. */
  locate(offset: number): Location {
    return { file: this.file, ...this.index.position(offset) }
  }

  report(offset: number, severity: DiagnosticSeverity, code: string, message: string): void {
    const { line, column } = this.index.position(offset)
    if (severity === 'error') this.errors++
    this.diagnostics.push({
      file: this.file,
      line,
      column,
      severity,
      code,
      message,
      ...(this.plan ? { plan: this.plan } : {}),
    })
  }
}

function locateName(index: LineIndex, segment: Segment, yaml: ParsedYaml, file: string): Location {
  return { file, ...index.position(segment.toFile(locate(yaml.doc, '/name').value)) }
}

function parseBlock(
  segment: Segment,
  kind: string,
  fenceOffset: number,
  schema: JsonSchema,
  reporter: Reporter,
  more: { lint?: BlockLint | undefined; planVars: readonly string[]; known?: KnownNames | undefined },
):
  | { params: Record<string, unknown>; source: string; files: PlanFileReference[]; blocking?: boolean }
  | undefined {
  const yaml = parseYaml(segment.text)
  const before = reporter.errors
  reportYamlProblems(yaml, segment, `${kind} block`, reporter)
  if (yaml.errors.length > 0) return undefined
  const { params, blocking } = liftCheckOptions(yaml, segment, kind, reporter)
  const named = validateAgainst(schema, params, yaml, segment, `${kind}: `, 'block', fenceOffset, reporter)
  if (reporter.errors > before) return undefined
  const problems = [
    ...unknownVariables(params, more.planVars, more.known).map((p) => ({ ...p, code: 'unknown-variable' })),
    ...boundProblems(params),
    ...(more.lint?.(params as Record<string, unknown>) ?? []),
  ]
  for (const p of problems)
    reporter.report(
      segment.toFile(locate(yaml.doc, p.pointer).value),
      'error',
      p.code ?? 'invalid-check',
      `${kind}: ${p.message}`,
    )
  if (reporter.errors > before) return undefined
  const at = (pointer: string) => () => reporter.locate(segment.toFile(locate(yaml.doc, pointer).value))
  const files = named.files.map((f): PlanFileReference => {
    const operations = named.operations
      .filter((o) => o.role === f.role)
      .map((o) => ({ pointer: o.pointer, value: o.value, locate: at(o.pointer) }))
    return { kind, ...f, locate: at(f.pointer), ...(operations.length ? { operations } : {}) }
  })
  return {
    params: params as Record<string, unknown>,
    source: segment.text,
    files,
    ...(blocking === undefined ? {} : { blocking }),
  }
}

/**
 * Keys every check block may hold whatever its kind, lifted out before the kind's schema sees the block:
 * `blocking: false` makes the check's failures warnings, like a plan's `blocking` does for all its checks.
 */
function liftCheckOptions(
  yaml: ParsedYaml,
  segment: Segment,
  kind: string,
  reporter: Reporter,
): { params: unknown; blocking?: boolean } {
  const value = yaml.value ?? null
  if (
    value === null ||
    typeof value !== 'object' ||
    Array.isArray(value) ||
    !Object.hasOwn(value, 'blocking')
  )
    return { params: value }
  const { blocking, ...params } = value as Record<string, unknown>
  if (typeof blocking !== 'boolean') {
    const offset = segment.toFile(locate(yaml.doc, '/blocking').value)
    reporter.report(
      offset,
      'error',
      'wrong-type',
      `${kind}: blocking must be true or false, got ${describeValue(blocking)}`,
    )
    return { params }
  }
  return { params, blocking }
}

function reportYamlProblems(yaml: ParsedYaml, segment: Segment, where: string, reporter: Reporter): void {
  for (const e of yaml.errors)
    reporter.report(
      segment.toFile(e.offset),
      'error',
      'invalid-yaml',
      `invalid YAML in ${where}: ${e.message}`,
    )
  for (const w of yaml.warnings)
    reporter.report(segment.toFile(w.offset), 'warning', 'yaml-warning', `YAML in ${where}: ${w.message}`)
}

/**
 * Validates `data` and reports each issue at the key or value it concerns. Issues about the whole document
 * (a missing top-level property, a block that is not a mapping) point at `containerOffset`.
 */
function validateAgainst(
  schema: JsonSchema,
  data: unknown,
  yaml: ParsedYaml | undefined,
  segment: Segment,
  prefix: string,
  root: string,
  containerOffset: number,
  reporter: Reporter,
): { files: FileReference[]; operations: FileReference[] } {
  const named = validateCollectingFiles(validatorFor(schema), data)
  if (named.valid) return named
  const validate = validatorFor(schema)
  const seen = new Set<string>()
  for (const issue of translateErrors(validate.errors ?? [], root)) {
    let offset = containerOffset
    if (yaml && !(issue.pointer === '' && (issue.anchor === 'container' || data === null))) {
      const where = locate(yaml.doc, issue.pointer)
      const local = issue.anchor === 'value' ? where.value : (where.key ?? where.value)
      offset = segment.toFile(local)
    }
    const key = `${offset}\0${issue.code}`
    if (seen.has(key)) continue
    seen.add(key)
    reporter.report(offset, 'error', issue.code, prefix + issue.message)
  }
  return named
}
