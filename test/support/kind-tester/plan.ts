/** KindTester's plan file: a block written into a plan in a temporary folder, loaded by the real loader. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { stringify } from 'yaml'
import type { AnyCheckKind } from '../../../engine/api/kind.js'
import { loadPlans, type LoadPlansResult } from '../../../plans/loader.js'
import type { PlanDiagnostic } from '../../../plans/types.js'

export const PLAN_NAME = 'kind-test'

export interface PlanSource {
  /** The case's name: the plan's heading, and the check's name unless `title` is given. */
  name: string
  block: string | object
  title?: string
  plan?: Record<string, unknown>
  files?: Record<string, string | object>
}

export interface WrittenPlan {
  /** The temporary folder; the plan is `plans/kind-test.md` in it. */
  dir: string
  /** Lines before the block's first line. */
  offset: number
}

/** Writes the plan and the files beside it into a new temporary folder. */
export function writePlan(kind: string, source: PlanSource): WrittenPlan {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-kind-'))
  const plans = path.join(dir, 'plans')
  mkdirSync(plans)
  for (const [file, content] of Object.entries(source.files ?? {})) {
    const at = path.join(plans, file)
    mkdirSync(path.dirname(at), { recursive: true })
    writeFileSync(at, typeof content === 'string' ? content : JSON.stringify(content, null, 2))
  }
  const body = typeof source.block === 'string' ? source.block : stringify(source.block, { lineWidth: 0 })
  const frontmatter = stringify({
    name: PLAN_NAME,
    title: `The ${kind} kind`,
    selectionHint: `Cases of the ${kind} check kind.`,
    ...source.plan,
  })
  const head = `---\n${frontmatter}---\n\n# ${source.name}\n\n\`\`\`${kind} ${source.title ?? source.name}\n`
  writeFileSync(path.join(plans, `${PLAN_NAME}.md`), `${head}${body.replace(/\n?$/, '\n')}\`\`\`\n`)
  return { dir, offset: head.split('\n').length - 1 }
}

/** Loads the plan as a run does, with every registered kind's schema and `kinds`' besides. */
export function loadWritten(dir: string, kinds: Record<string, AnyCheckKind>): Promise<LoadPlansResult> {
  const checkSchemas = Object.fromEntries(Object.entries(kinds).map(([name, k]) => [name, k.meta.schema]))
  return loadPlans({ roots: [path.join(dir, 'plans')], cwd: dir, checkSchemas, fileRoots: [dir] })
}

/** `line:col message` with the line counted from the block's first line. */
export function blockDiagnostic(d: PlanDiagnostic, written: WrittenPlan): string {
  return `${d.line - written.offset}:${d.column} ${d.severity === 'warning' ? 'warning: ' : ''}${d.message}`
}
