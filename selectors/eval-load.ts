/**
 * Labelled changes for `vigil select --eval`, from either of two layouts:
 * - a folder of `<name>.patch` (or `.diff`) files, each with a `<name>.expect.json` whose `plans` lists the
 *   plans that must be selected and whose optional `may` lists plans acceptable to select (the shop's);
 * - a labels file (`selectors/schema/labelled-changes.json`): commits of a project with `must` and `may`
 *   plans, whose diffs are regenerated from the project's history into a folder that is not committed.
 */
import { readdir, readFile, stat } from 'node:fs/promises'
import { createRequire } from 'node:module'
import path from 'node:path'
import { validatorFor } from '../plans/ajv.js'
import { SelectorError } from './errors.js'

const require = createRequire(import.meta.url)
/** The published schema of a labels file (JSON, loaded once). */
export const labelledChangesSchema = require('./schema/labelled-changes.json') as Record<string, unknown>

export interface LabelledChange {
  name: string
  /** The diff file, as a path joined onto the folder given. */
  diffFile: string
  /** Plans that must be selected: a selector that leaves one out missed it. */
  expected: string[]
  /** Plans acceptable to select: neither required nor counted as false picks. */
  may: string[]
  description?: string
}

export interface LoadedChanges {
  changes: LabelledChange[]
  /** Unpaired or broken entries, each skipped; not fatal. */
  problems: string[]
  /** Set for a labels file whose diffs folder does not exist: how to regenerate it. */
  missingDiffs?: { dir: string; regenerate?: string }
}

/** A folder of pairs, or a labels file (a file; a path that does not exist is a labels file when it ends in `.json`). */
export async function loadLabelledSet(target: string): Promise<LoadedChanges> {
  const isFile = await stat(target).then(
    (s) => s.isFile(),
    () => target.endsWith('.json'),
  )
  return isFile ? loadLabelFile(target) : loadLabelledChanges(target)
}

/** Reads the pairs of a folder, sorted by name. Unpaired files are reported in `problems`, not fatal. */
export async function loadLabelledChanges(dir: string): Promise<LoadedChanges> {
  let entries: string[]
  try {
    entries = await readdir(dir)
  } catch (error) {
    throw new SelectorError(
      'VIGIL_USAGE',
      `--eval ${dir}: cannot read the folder: ${(error as Error).message}`,
    )
  }
  const diffs = new Map<string, string>()
  const labels = new Set<string>()
  for (const entry of entries.sort()) {
    const diff = /^(.*)\.(patch|diff)$/.exec(entry)
    if (diff && !diffs.has(diff[1]!)) diffs.set(diff[1]!, entry)
    const label = /^(.*)\.expect\.json$/.exec(entry)
    if (label) labels.add(label[1]!)
  }
  const problems: string[] = []
  const changes: LabelledChange[] = []
  for (const [name, file] of diffs) {
    if (!labels.has(name)) {
      problems.push(`${path.join(dir, file)}: no ${name}.expect.json next to it; skipped`)
      continue
    }
    const labelFile = path.join(dir, `${name}.expect.json`)
    let label: { plans?: unknown; may?: unknown; description?: unknown }
    try {
      label = JSON.parse(await readFile(labelFile, 'utf8')) ?? {}
    } catch (error) {
      problems.push(`${labelFile}: ${(error as Error).message}; skipped`)
      continue
    }
    if (!isNames(label.plans)) {
      problems.push(`${labelFile}: "plans" must be an array of plan names; skipped`)
      continue
    }
    if (label.may !== undefined && !isNames(label.may)) {
      problems.push(`${labelFile}: "may" must be an array of plan names; skipped`)
      continue
    }
    changes.push({
      name,
      diffFile: path.join(dir, file),
      ...labelSets(label.plans, label.may ?? []),
      ...(typeof label.description === 'string' ? { description: label.description } : {}),
    })
  }
  for (const name of [...labels].sort())
    if (!diffs.has(name))
      problems.push(`${path.join(dir, `${name}.expect.json`)}: no ${name}.patch or .diff; skipped`)
  return { changes, problems }
}

interface LabelFile {
  diffs: string
  regenerate?: string
  changes: Array<{ sha: string; subject: string; must: string[]; may: string[]; reason: string }>
}

/**
 * Reads a labels file, validated against its schema, in the file's order. A change is named by its short
 * sha; its diff is `<diffs>/<sha>.patch`. A missing diff is a problem (skipped); a missing folder is said
 * in `missingDiffs` with the command that regenerates it, and no change is returned.
 */
export async function loadLabelFile(file: string): Promise<LoadedChanges> {
  let value: unknown
  try {
    value = JSON.parse(await readFile(file, 'utf8'))
  } catch (error) {
    throw new SelectorError(
      'VIGIL_USAGE',
      `--eval ${file}: cannot read the labels: ${(error as Error).message}`,
    )
  }
  const validate = validatorFor(labelledChangesSchema)
  if (!validate(value)) {
    const detail = (validate.errors ?? [])
      .slice(0, 5)
      .map((e) => `${e.instancePath || '(file)'} ${e.message ?? 'is invalid'}`)
      .join('; ')
    throw new SelectorError('VIGIL_USAGE', `${file}: not a vigil labels file: ${detail}`)
  }
  const labels = value as LabelFile
  const dir = path.resolve(path.dirname(file), labels.diffs)
  const present = await stat(dir).then(
    (s) => s.isDirectory(),
    () => false,
  )
  if (!present)
    return {
      changes: [],
      problems: [],
      missingDiffs: { dir, ...(labels.regenerate === undefined ? {} : { regenerate: labels.regenerate }) },
    }
  const files = new Set(await readdir(dir))
  const problems: string[] = []
  const changes: LabelledChange[] = []
  const seen = new Set<string>()
  for (const change of labels.changes) {
    if (seen.has(change.sha)) {
      problems.push(`${file}: ${change.sha} is labelled twice; the first label is used`)
      continue
    }
    seen.add(change.sha)
    const both = change.must.filter((p) => change.may.includes(p))
    if (both.length) problems.push(`${file}: ${change.sha} lists ${both.join(', ')} as both must and may`)
    if (!files.has(`${change.sha}.patch`)) {
      problems.push(`${path.join(dir, `${change.sha}.patch`)}: missing; skipped`)
      continue
    }
    changes.push({
      name: change.sha.slice(0, 7),
      diffFile: path.join(dir, `${change.sha}.patch`),
      ...labelSets(change.must, change.may),
      description: change.subject,
    })
  }
  return { changes, problems }
}

function isNames(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((p) => typeof p === 'string')
}

/** Must and may as sorted sets; a plan in both counts as must. */
function labelSets(must: readonly string[], may: readonly string[]): { expected: string[]; may: string[] } {
  const expected = [...new Set(must)].sort()
  return { expected, may: [...new Set(may)].filter((p) => !expected.includes(p)).sort() }
}
