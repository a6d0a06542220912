/**
 * Run state files: what a run started — service process groups, temporary trees, git worktrees — written
 * as it starts them and updated as it stops them, so that what a killed run (SIGKILL, a crash of the
 * machine's OOM killer) leaves behind can be found and removed later by `vigil sandboxes gc`.
 *
 * One file per sandbox session, `<system temp folder>/vigil-state-<uid>/<id>.json`. The system temp
 * folder, not the project's `.vigil/`: the processes and temporary trees are machine-wide, and `gc` run
 * from any folder must find the leftovers of every project (each file names the repository of its
 * worktree). Each file names its owner by pid *and* start time, so a pid reused by another process
 * never makes a dead run look alive. Files are replaced atomically; the folder is private to the user.
 */
import { randomUUID } from 'node:crypto'
import { lstatSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { writeFileAtomicSync } from '../../reporters/output.js'
import { onExit } from '../lifecycle.js'
import { processStartTime } from './process-tree.js'

/** A service process group a run started. */
export interface TrackedProcess {
  sandbox: string
  service: string
  pid: number
  /** The process group (the service is its leader, so it equals `pid`). */
  pgid: number
  /** Clock ticks since boot (from /proc), so a reused pid is not mistaken for the service. */
  startTime?: number
}

/** A temporary tree a run created: a patched copy, or a git worktree (`worktree.path` inside `tempDir`). */
export interface TrackedTree {
  tempDir: string
  worktree?: { repo: string; path: string }
}

/**
 * Databases a run made on a server it did not start (a `url:` server): every database whose name is
 * `prefix` or starts with `prefix_`. The URL carries the administrator's credentials, which is why the
 * state file is private to the user; gc shows it without them.
 */
export interface TrackedDatabases {
  kind: 'postgres'
  /** The server's administrator URL, without a database. */
  url: string
  prefix: string
}

/** Where a run records what it starts; each call returns the function that forgets it once stopped. */
export interface RunTracker {
  process(entry: TrackedProcess): () => void
  tree(entry: TrackedTree): () => void
  /** @default not recorded (a tracker that keeps no databases) */
  databases?(entry: TrackedDatabases): () => void
}

/** A run's state file. */
export interface RunStateDocument {
  version: 1
  /** The run id (the verdict's) or the session's own. */
  id: string
  /** The vigil process that owns the things listed; they are leftovers once it is gone. */
  owner: { pid: number; startTime?: number; cwd: string; argv: string[] }
  startedAt: string
  processes: TrackedProcess[]
  trees: TrackedTree[]
  /** Absent in files written before databases were recorded. */
  databases?: TrackedDatabases[]
}

/** The folder of the state files: private to this user, in the system temp folder (`$TMPDIR`). */
export function stateDir(): string {
  const uid =
    typeof process.getuid === 'function' ? String(process.getuid()) : (os.userInfo().username ?? 'user')
  return path.join(os.tmpdir(), `vigil-state-${uid}`)
}

/**
 * Creates `dir` (mode 0700), or checks the one that is there: a real folder (not a link) owned by this
 * user and writable by no one else, so another user of a shared temp folder cannot plant files in it.
 * @throws when it is not such a folder
 */
export function ensurePrivateDir(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const info = lstatSync(dir)
  const uid = typeof process.getuid === 'function' ? process.getuid() : info.uid
  if (!info.isDirectory() || info.uid !== uid || (info.mode & 0o022) !== 0) {
    throw new Error(`${dir} is not a private folder of this user`)
  }
  return dir
}

/** The state files there are, parsed; unreadable or foreign files are skipped. */
export function readStateFiles(): Array<{ file: string; state: RunStateDocument }> {
  const dir = stateDir()
  let names: string[]
  try {
    const info = lstatSync(dir)
    const uid = typeof process.getuid === 'function' ? process.getuid() : info.uid
    if (!info.isDirectory() || info.uid !== uid) return []
    names = readdirSync(dir)
  } catch {
    return []
  }
  const out: Array<{ file: string; state: RunStateDocument }> = []
  for (const name of names.sort()) {
    if (!name.endsWith('.json') || name.startsWith('.')) continue
    const file = path.join(dir, name)
    try {
      const state = JSON.parse(readFileSync(file, 'utf8')) as RunStateDocument
      if (state?.version === 1 && Number.isInteger(state.owner?.pid) && Array.isArray(state.processes))
        out.push({
          file,
          state: {
            ...state,
            trees: Array.isArray(state.trees) ? state.trees : [],
            databases: Array.isArray(state.databases) ? state.databases : [],
          },
        })
    } catch {
      // Being replaced, or not ours: the next look will see it whole.
    }
  }
  return out
}

/** The live record of one session: tracks what it starts, rewrites its file on every change. */
export class RunState implements RunTracker {
  readonly file: string | undefined
  /** Why the state could not be written, when it could not. */
  readonly problem: string | undefined
  private readonly doc: RunStateDocument
  private closed = false
  private readonly unregister: () => void

  /**
   * Creates the state file. A folder that cannot be written does not stop the run: the state is then
   * kept in memory only (and `problem` says why), which is what vigil did before state files.
   */
  constructor(id: string = randomUUID()) {
    this.doc = {
      version: 1,
      id,
      owner: { pid: process.pid, cwd: process.cwd(), argv: process.argv.slice(1) },
      startedAt: new Date().toISOString(),
      processes: [],
      trees: [],
      databases: [],
    }
    const startTime = processStartTime(process.pid)
    if (startTime !== undefined) this.doc.owner.startTime = startTime
    let file: string | undefined
    try {
      file = path.join(ensurePrivateDir(stateDir()), `${id.replace(/[^\w.-]/g, '_')}.json`)
      writeFileAtomicSync(file, this.render(), 0o600)
    } catch (error) {
      this.problem = `run state not recorded: ${(error as Error).message}`
      file = undefined
    }
    this.file = file
    // Registered first, so it runs last of the exit hooks: after the services were killed and the trees
    // removed, an empty record is deleted, and a record with what could not be removed stays for gc.
    this.unregister = onExit(() => this.close())
  }

  get id(): string {
    return this.doc.id
  }

  process(entry: TrackedProcess): () => void {
    return this.add(this.doc.processes, entry)
  }

  tree(entry: TrackedTree): () => void {
    return this.add(this.doc.trees, entry)
  }

  databases(entry: TrackedDatabases): () => void {
    return this.add((this.doc.databases ??= []), entry)
  }

  /** True when nothing is tracked. */
  get empty(): boolean {
    return this.doc.processes.length + this.doc.trees.length + (this.doc.databases?.length ?? 0) === 0
  }

  /** Deletes the state file when nothing is left in it (else keeps it for gc). Idempotent. */
  close(): void {
    if (this.closed) return
    this.closed = true
    this.unregister()
    this.save()
  }

  private add<T>(list: T[], entry: T): () => void {
    list.push(entry)
    this.save()
    let removed = false
    return () => {
      if (removed) return
      removed = true
      const at = list.indexOf(entry)
      if (at >= 0) list.splice(at, 1)
      this.save()
    }
  }

  /** Rewrites the file; once closed, a file with nothing left in it is deleted instead. */
  private save(): void {
    if (!this.file) return
    try {
      if (this.closed && this.empty) rmSync(this.file, { force: true })
      else writeFileAtomicSync(this.file, this.render(), 0o600)
    } catch {
      // A full disk must not stop the run; gc then knows less.
    }
  }

  private render(): string {
    return `${JSON.stringify(this.doc, null, 2)}\n`
  }
}

let loose: RunState | undefined

/**
 * Records a process group started outside a sandbox session (a check's `run:` command) in a state file of
 * this process, made on first use and deleted once its last process is forgotten.
 */
export function trackLooseProcess(entry: TrackedProcess): () => void {
  loose ??= new RunState(`process-${process.pid}-${randomUUID().slice(0, 8)}`)
  const state = loose
  const forget = state.process(entry)
  return () => {
    forget()
    if (!state.empty) return
    state.close()
    if (loose === state) loose = undefined
  }
}
