import { readFile } from 'node:fs/promises'
import path from 'node:path'
import pLimit from 'p-limit'
import { compareDiagnostics, compareText, formatDiagnostic } from './diagnostics.js'
import { discoverPlanFiles, relativeTo } from './discover.js'
import { FileChecker, projectRoot } from './files.js'
import { deepFreeze } from './freeze.js'
import { closestFirst } from './operations.js'
import { parsePlanFile } from './parse-plan.js'
import { describePointer } from './schema-errors.js'
import type { ParseOptions, ParsedPlanFile } from './parse-plan.js'
import { defaultCheckSchemas } from './schemas.js'
import type { JsonSchema, Plan, PlanDiagnostic } from './types.js'

export interface LoadPlansOptions {
  /** Files, folders or globs, relative to `cwd` (or absolute). */
  roots: readonly string[]
  /** Folder that roots and reported file paths are relative to. @default process.cwd() */
  cwd?: string
  /**
   * Block schema of each check kind; its keys are the kinds a fence may name.
   * @default defaultCheckSchemas (the kinds' schemas as shipped in plans/schema/checks/)
   */
  checkSchemas?: Readonly<Record<string, JsonSchema>>
  /**
   * Folders (absolute) the files checks name — schemas, OpenAPI documents and what their `$ref`s lead to,
   * scripts, folders — must stay inside; a plan naming anything else is an error at that name.
   * @default the project of `cwd`: its git repository, else `cwd` (see plans/files.ts `fileRoots`)
   */
  fileRoots?: readonly string[]
  /** Each kind's lint of its blocks beyond the schema (parse-plan.ts `BlockLint`). @default {} */
  checkLints?: ParseOptions['checkLints']
  /** Names the config defines, to check `{{env.…}}`, `{{secrets.…}}` and `{{services.…}}`. @default unchecked */
  variables?: ParseOptions['variables']
}

export interface LoadPlansResult {
  /** Plans without errors, sorted by name, deeply frozen. */
  plans: readonly Plan[]
  /** Every problem found, sorted by file, line, column. */
  diagnostics: readonly PlanDiagnostic[]
  /** The plan files read, relative to `cwd`, sorted. */
  files: readonly string[]
}

/** Files read at once: enough to keep the disk busy, few enough to stay far from the descriptor limit. */
const READ_CONCURRENCY = 64

/**
 * Discovers, parses and validates plans. A broken plan yields diagnostics and no Plan; the others still
 * load. Two plans with the same name are both reported (each naming the other's location) and both left out.
 */
export async function loadPlans(options: LoadPlansOptions): Promise<LoadPlansResult> {
  const cwd = path.resolve(options.cwd ?? process.cwd())
  const checkSchemas = options.checkSchemas ?? defaultCheckSchemas
  const { files, missing, empty } = await discoverPlanFiles(options.roots, cwd)
  const diagnostics: PlanDiagnostic[] = []
  // Roots are often absolute (resolved against the config's folder); reports show them relative to cwd.
  const shown = (root: string) => relativeTo(cwd, path.resolve(cwd, root))
  for (const m of missing) {
    const where = shown(m.root)
    const message = `cannot read plans from "${where}": ${m.reason}`
    diagnostics.push(rootDiagnostic(where, 'error', 'missing-root', message))
  }
  for (const root of empty) {
    const where = shown(root)
    diagnostics.push(rootDiagnostic(where, 'warning', 'no-plans', `no plan files (*.md) found in "${where}"`))
  }

  // Each file is parsed as soon as it is read, while the next reads are in flight.
  const parsed = await pLimit(READ_CONCURRENCY).map(files, async (absolute) => {
    const file = relativeTo(cwd, absolute)
    let text: string
    try {
      text = await readFile(absolute, 'utf8')
    } catch (error) {
      const message = `cannot read file: ${(error as Error).message}`
      return { file, diagnostics: [rootDiagnostic(file, 'error', 'unreadable', message)] } as ParsedFile
    }
    return {
      file,
      ...parsePlanFile(text, {
        file,
        dir: path.dirname(absolute),
        checkSchemas,
        ...(options.checkLints ? { checkLints: options.checkLints } : {}),
        ...(options.variables ? { variables: options.variables } : {}),
      }),
    }
  })

  // Files the plans name: a plan naming one outside the roots (or leading there by $ref) does not load, nor
  // one whose schema documents hold a rule that can never hold, nor one naming an operation its document
  // does not have.
  const roots = options.fileRoots ?? [await projectRoot(cwd)]
  const checker = new FileChecker(roots, cwd)
  const found = await Promise.all(
    parsed.map(async (p) => {
      const plan = p.plan
      const out: PlanDiagnostic[] = []
      if (!plan || !p.files?.length) return out
      for (const ref of p.files) {
        const problems = await checker.check(ref.value, ref.role, plan.dir)
        const what = `${ref.kind}: ${describePointer(ref.pointer, ref.role)} ${JSON.stringify(ref.value)}`
        for (const problem of problems) {
          const message = problem.at
            ? `${problem.message} (read by ${formatLocation(ref.locate())}, ${ref.kind} ${describePointer(ref.pointer, ref.role)})`
            : `${what}${problem.inDocument ? ': ' : ' '}${problem.message}`
          out.push({
            ...(problem.at ?? ref.locate()),
            severity: 'error',
            code: problem.code,
            message,
            plan: plan.name,
          })
        }
        if (problems.some((problem) => !problem.at) || !ref.operations) continue
        const ids = await checker.operations(ref.value, plan.dir)
        for (const operation of ref.operations) {
          if (!ids || ids.includes(operation.value)) continue
          const has = ids.length ? `; it has ${closestFirst(operation.value, ids)}` : '; it has no operations'
          out.push({
            ...operation.locate(),
            severity: 'error',
            code: 'unknown-operation',
            message: `${ref.kind}: ${describePointer(operation.pointer, 'operations')} ${JSON.stringify(operation.value)} is not an operation of ${ref.value}${has}`,
            plan: plan.name,
          })
        }
      }
      if (out.length) p.plan = undefined
      return out
    }),
  )
  // A problem in a document several plans read is reported once, naming them all (the first as its plan).
  const reported = new Map<string, { d: PlanDiagnostic; owner: number; also: string[] }>()
  found.forEach((list, owner) => {
    for (const d of list) {
      const key = `${formatLocation(d)}\0${d.code}`
      const first = reported.get(key)
      if (!first) reported.set(key, { d, owner, also: [] })
      else if (d.plan !== undefined && d.plan !== first.d.plan && !first.also.includes(d.plan))
        first.also.push(d.plan)
    }
  })
  for (const { d, owner, also } of reported.values()) {
    const others = also.length ? `; also by plan${also.length > 1 ? 's' : ''} ${also.join(', ')})` : ''
    parsed[owner]!.diagnostics.push(others ? { ...d, message: d.message.replace(/\)$/, others) } : d)
  }

  const byName = new Map<string, ParsedFile[]>()
  for (const p of parsed) {
    diagnostics.push(...p.diagnostics)
    if (p.name !== undefined) byName.set(p.name, [...(byName.get(p.name) ?? []), p])
  }
  const duplicates = new Set<ParsedPlanFile>()
  for (const [name, owners] of byName) {
    if (owners.length < 2) continue
    for (const owner of owners) {
      duplicates.add(owner)
      const others = owners.filter((o) => o !== owner).map((o) => formatLocation(o.locateName!()))
      const at = owner.locateName!()
      diagnostics.push({
        ...at,
        severity: 'error',
        code: 'duplicate-name',
        message: `duplicate plan name "${name}"; also defined at ${others.join(', ')}`,
        plan: name,
      })
    }
  }

  const plans = parsed
    .filter((p) => p.plan && !duplicates.has(p))
    .map((p) => deepFreeze(options.fileRoots ? { ...p.plan!, fileRoots: options.fileRoots } : p.plan!))
    .sort((a, b) => compareText(a.name, b.name))
  diagnostics.sort(compareDiagnostics)
  return { plans, diagnostics, files: parsed.map((p) => p.file) }
}

function formatLocation(l: { file: string; line: number; column: number }): string {
  return `${l.file}:${l.line}:${l.column}`
}

function rootDiagnostic(
  file: string,
  severity: 'error' | 'warning',
  code: string,
  message: string,
): PlanDiagnostic {
  return { file, line: 1, column: 1, severity, code, message }
}

type ParsedFile = ParsedPlanFile & { file: string }

export { formatDiagnostic }
