/**
 * Each `vigil ci` run writes into a folder of its own, `.vigil/runs/<run-id>/`, so that two runs from one
 * folder (two agents, two CI jobs on one runner) never write the same files. At its end the run is
 * *published*: `--out` (default `.vigil/ci`) becomes a symbolic link to its folder, swapped atomically
 * by renaming a new link over the old one (rename(2) replaces a link in one step; a directory cannot be
 * replaced so). A reader sees the previous run or this one, whole, never a mix: a reader that already
 * resolved the link (an open file, a `cd`, a `realpath`) keeps the previous run's folder, which stays
 * until pruned. Old folders are pruned to the newest `keep`, never a live run's nor a published one.
 */
import { lstat, mkdir, readdir, readFile, readlink, rename, rm, stat, symlink } from 'node:fs/promises'
import path from 'node:path'
import { writeFileAtomic } from '../../reporters/output.js'
import { UsageError } from '../errors.js'
import { isSameProcess, processStartTime } from '../processes/process-tree.js'

/** Run folders kept by default (`--keep-runs`, `VIGIL_KEEP_RUNS`). */
export const DEFAULT_KEEP_RUNS = 20
/** The manifest of a run folder. */
export const MANIFEST = 'run.json'
/** What an artefact folder of vigil holds; a real `--out` folder with anything else is not replaced. */
const ARTEFACT_NAMES = new Set(['verdict.json', 'selection.json', 'junit.xml', 'summary.md', MANIFEST])
/** A folder without a manifest younger than this may be a run that is just starting: not pruned. */
const YOUNG_MS = 10 * 60_000

/** `run.json`: which run the folder holds, whether it ended, and how. */
export interface RunManifest {
  runId: string
  status: 'running' | 'finished'
  startedAt: string
  finishedAt?: string
  /** The exit code of `vigil ci`, once finished. */
  exitCode?: number
  /** The verdict's status, once finished. */
  verdict?: string
  /** The signal that interrupted the run (its exit code is then 128 + the signal's number). */
  interrupted?: string
  /** The vigil process writing the folder: a folder whose owner runs is never pruned. */
  owner: { pid: number; startTime?: number }
  /** The `--out` link the run is published to; while that link points here, the folder is not pruned. */
  out?: string
}

/**
 * Checks before anything runs that `--out` can be published: absent, a link (a previous run), or a real
 * folder holding only vigil's artefact files (an older vigil's; moved into the runs folder when published).
 */
export async function checkOutTarget(out: string, shown: string): Promise<void> {
  const info = await lstat(out).catch(() => undefined)
  if (!info || info.isSymbolicLink()) return
  if (!info.isDirectory())
    throw new UsageError(`--out ${shown}: is a file; vigil ci makes it a link to the run's folder`)
  const foreign = (await readdir(out)).filter((name) => !ARTEFACT_NAMES.has(name))
  if (foreign.length > 0) {
    throw new UsageError(
      `--out ${shown}: a folder holding other files (${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', …' : ''}); ` +
        "vigil ci replaces it with a link to the run's folder, so choose a folder of its own",
    )
  }
}

/** Makes the run's folder and its manifest (`running`). */
export async function createRunFolder(runDir: string, runId: string): Promise<RunManifest> {
  await mkdir(runDir, { recursive: true })
  const manifest: RunManifest = {
    runId,
    status: 'running',
    startedAt: new Date().toISOString(),
    owner: { pid: process.pid, startTime: processStartTime(process.pid) },
  }
  await writeManifest(runDir, manifest)
  return manifest
}

export async function finishRunFolder(
  runDir: string,
  manifest: RunManifest,
  outcome: { exitCode: number; verdict: string; out: string; interrupted?: string },
): Promise<void> {
  Object.assign(manifest, { status: 'finished', finishedAt: new Date().toISOString(), ...outcome })
  await writeManifest(runDir, manifest)
}

function writeManifest(runDir: string, manifest: RunManifest): Promise<void> {
  return writeFileAtomic(path.join(runDir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`)
}

/**
 * Points `out` at `runDir` in one rename. An older vigil's real artefact folder there is first moved into
 * the runs folder (its files are kept there, as a run of their own).
 */
export async function publishRun(runDir: string, out: string): Promise<void> {
  await mkdir(path.dirname(out), { recursive: true })
  const target = path.relative(path.dirname(out), runDir)
  const temp = path.join(path.dirname(out), `.${path.basename(out)}.${path.basename(runDir)}.link`)
  await rm(temp, { force: true })
  await symlink(target, temp)
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await rename(temp, out)
        return
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code
        if (attempt >= 3 || (code !== 'EISDIR' && code !== 'ENOTEMPTY' && code !== 'EEXIST')) throw error
        await moveLegacyFolder(out, path.dirname(runDir))
      }
    }
  } finally {
    await rm(temp, { force: true })
  }
}

/**
 * Moves a real artefact folder at `out` into `runsDir` (another run may have moved it first), with a
 * manifest dated by its last change, so that it is pruned like the runs of its time.
 */
async function moveLegacyFolder(out: string, runsDir: string): Promise<void> {
  await checkOutTarget(out, out)
  const info = await lstat(out).catch(() => undefined)
  if (!info?.isDirectory()) return
  const at = info.mtime.toISOString()
  const name = `legacy-${at.replace(/[:.]/g, '-')}`
  const aside = path.join(runsDir, name)
  await mkdir(runsDir, { recursive: true })
  try {
    await rename(out, aside)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return
    // Another file system: the artefacts of an older vigil are not worth a copy.
    if (code === 'EXDEV') return void (await rm(out, { recursive: true, force: true }))
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error
    return
  }
  await writeManifest(aside, {
    runId: name,
    status: 'finished',
    startedAt: at,
    finishedAt: at,
    owner: { pid: 0 },
  })
}

/**
 * Deletes the oldest run folders beyond `keep`, never `protect`ed ones (this run, the folders `--out`
 * links point at), one whose owner still runs, or a young one without a manifest. A folder is first
 * renamed to a hidden name, so a half-deleted folder never looks like a run. Returns the deleted names.
 */
export async function pruneRuns(
  runsDir: string,
  keep: number,
  protect: readonly string[],
): Promise<string[]> {
  const entries = await readdir(runsDir, { withFileTypes: true }).catch(() => [])
  const kept = new Set(protect.map((p) => path.resolve(p)))
  const runs: Array<{ dir: string; time: number; locked: boolean }> = []
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue
    const dir = path.join(runsDir, entry.name)
    const manifest = await readManifest(dir)
    const mtime = (await stat(dir).catch(() => undefined))?.mtimeMs ?? 0
    const time = manifest ? Date.parse(manifest.finishedAt ?? manifest.startedAt) || mtime : mtime
    const live = manifest?.status === 'running' && isSameProcess(manifest.owner.pid, manifest.owner.startTime)
    const young = !manifest && Date.now() - mtime < YOUNG_MS
    const published = manifest?.out !== undefined && (await publishedRun(manifest.out)) === dir
    runs.push({ dir, time, locked: kept.has(dir) || live || young || published })
  }
  runs.sort((a, b) => b.time - a.time)
  const deleted: string[] = []
  for (const run of runs.slice(Math.max(0, keep))) {
    if (run.locked) continue
    const trash = path.join(runsDir, `.trash-${path.basename(run.dir)}-${process.pid}`)
    try {
      await rename(run.dir, trash)
    } catch {
      continue // Another run pruned it first.
    }
    await rm(trash, { recursive: true, force: true })
    deleted.push(path.basename(run.dir))
  }
  return deleted
}

async function readManifest(dir: string): Promise<RunManifest | undefined> {
  try {
    const manifest = JSON.parse(await readFile(path.join(dir, MANIFEST), 'utf8')) as RunManifest
    return typeof manifest?.runId === 'string' && typeof manifest.owner?.pid === 'number'
      ? manifest
      : undefined
  } catch {
    return undefined
  }
}

/** The run folder a `--out` link points at, or undefined when it is not a link. */
export async function publishedRun(out: string): Promise<string | undefined> {
  const target = await readlink(out).catch(() => undefined)
  return target === undefined ? undefined : path.resolve(path.dirname(out), target)
}
