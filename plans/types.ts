/**
 * The plan model: what `plans/` produces and every other folder consumes.
 * All objects are deeply frozen by the loader; treat them as immutable.
 */

/** A position in a file. Lines and columns are 1-based. */
export interface Location {
  /** Path as given to the loader or relative to the working directory, never absolute in reports. */
  file: string
  line: number
  column: number
}

/** The check kinds a plan may hold. The engine's registry is the source of truth at run time. */
export type CheckKindName = 'contract' | 'e2e' | 'load' | 'adversarial' | (string & {})

/** One fenced check block of a plan. */
export interface CheckBlock {
  /** The kind from the info string, e.g. `contract`. */
  readonly kind: CheckKindName
  /** The rest of the info string, else the nearest heading above, else `<kind> #<n>`. */
  readonly name: string
  /** Stable id within the run: `<plan>/<check name>`, de-duplicated with ` (2)` suffixes. */
  readonly id: string
  /** 0-based position among the plan's checks. */
  readonly index: number
  /** Where the opening fence is. */
  readonly location: Location
  /** The parsed YAML body, validated against the kind's schema (without `blocking`, which every kind takes). */
  readonly params: Readonly<Record<string, unknown>>
  /** false: this check's failures are warnings and do not fail the run, whatever its plan says. @default true */
  readonly blocking?: boolean
  /** The raw YAML body. */
  readonly source: string
}

export interface Plan {
  /** Unique kebab-case id. */
  readonly name: string
  readonly title: string
  /** What the plan validates, for the selector. */
  readonly selectionHint: string
  /** Globs relative to the config file's folder; a diff touching one always selects the plan. */
  readonly paths: readonly string[]
  readonly tags: readonly string[]
  /** Selected for every change. @default false */
  readonly always: boolean
  /** false: failures become warnings and the verdict still passes. @default true */
  readonly blocking: boolean
  /** Whole-plan timeout in milliseconds, when the frontmatter sets one. */
  readonly timeoutMs?: number
  /** Plan variables, usable as `{{name}}` in checks. */
  readonly vars: Readonly<Record<string, unknown>>
  /** The plan file as reported (relative to the working directory). */
  readonly file: string
  /** Absolute directory of the plan file, for resolving `./schemas/x.json` and the like. */
  readonly dir: string
  readonly checks: readonly CheckBlock[]
  /** The whole frontmatter as parsed, including keys the model does not lift out. */
  readonly frontmatter: Readonly<Record<string, unknown>>
  /**
   * Folders (absolute, real) the plan's checks may read files from, set by the loader: the project and the
   * config's `allowFiles`. Without it, the project of `dir`.
   */
  readonly fileRoots?: readonly string[]
}

export type DiagnosticSeverity = 'error' | 'warning'

/** One lint finding: rendered `file:line:col message`. */
export interface PlanDiagnostic extends Location {
  readonly severity: DiagnosticSeverity
  /** Stable machine code, e.g. `unknown-property`, `duplicate-name`. */
  readonly code: string
  readonly message: string
  /** The plan's name when known. */
  readonly plan?: string
}

/** A JSON Schema object as accepted by ajv. */
export type JsonSchema = Record<string, unknown>
