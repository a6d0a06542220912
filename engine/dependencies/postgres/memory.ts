/**
 * Branches in memory. A branch is a copy of the template's files: some 300 files for even an empty
 * database, whose creation costs a file system on disk far more than their bytes (measured on ext4: `cp -r`
 * of such a folder 160 ms, against 10 on tmpfs; a branch of a 100,000-row template with PostgreSQL 15, 105
 * ms against 22). A private server's branches therefore go in a tablespace of its own in a RAM file
 * system when the temp folder is on disk and one is there with room to spare (`/dev/shm`); the cluster, its
 * pool and the kept templates stay where they were. The tablespace's folder is made per server with its
 * first branch, tracked for `vigil sandboxes gc`, and removed with the server; the tablespace is dropped
 * before the cluster goes back to the pool.
 *
 * `VIGIL_POSTGRES_MEMORY=off` keeps branches on disk; a folder's path puts them there instead.
 */
import { accessSync, chownSync, constants, mkdtempSync, rmSync, statfsSync } from 'node:fs'
import path from 'node:path'
import type pg from 'pg'
import { dropDatabaseSql } from '../../clients/database/admin.js'
import { askedMemoryFolder, SHARED_MEMORY } from '../../memory-folder.js'
import type { RunTracker } from '../../processes/run-state.js'
import { reachableBy, tempRootFor } from '../server.js'
import type { OsUser } from './cluster.js'

/** The tablespace a private server's branches go in. */
export const BRANCH_TABLESPACE = 'vigil_branches'
/** `f_type` of a tmpfs (linux/magic.h). */
const TMPFS_MAGIC = 0x01021994
/** Room a RAM file system must have free to take branches: they grow with what checks write. */
const MIN_FREE_BYTES = 1024 ** 3

/**
 * The folder a private server's branches go in, or undefined for the server's own data folder: `/dev/shm`
 * when the temp folder is not in memory already and `/dev/shm` is a tmpfs the server's user may reach with
 * at least 1 GiB free. `VIGIL_POSTGRES_MEMORY` decides instead when set: `off` (or `0`, `false`) for none, or
 * a folder.
 */
export function branchRootFor(
  user: { uid: number } | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const asked = askedMemoryFolder(env)
  if (asked === 'off') return undefined
  if (asked !== 'auto') return asked
  if (inMemory(tempRootFor(user))) return undefined
  try {
    const fs = statfsSync(SHARED_MEMORY)
    if (fs.type !== TMPFS_MAGIC || fs.bavail * fs.bsize < MIN_FREE_BYTES) return undefined
    accessSync(SHARED_MEMORY, constants.W_OK)
  } catch {
    return undefined
  }
  return user && !reachableBy(SHARED_MEMORY, user) ? undefined : SHARED_MEMORY
}

function inMemory(dir: string): boolean {
  try {
    return statfsSync(dir).type === TMPFS_MAGIC
  } catch {
    return false
  }
}

export interface BranchSpace {
  /**
   * The tablespace branches go in, made by the first call (on `admin`, the session about to make a branch):
   * its name, or undefined when it could not be made (logged once; branches then stay on disk).
   */
  ensure(admin: pg.Client): Promise<string | undefined>
  /** Drops the tablespace, if made (its databases dropped first); true when nothing of it is left. Never throws. */
  drop(admin: pg.Client, versionNum: number): Promise<boolean>
  /** Removes the folder, if made (the server stopped). */
  remove(): void
}

/**
 * The branches' tablespace of a private server in `root`, owned by the server's user. Made when the first
 * branch is, on the session that makes it: a server that makes no branch (or one started only to be given
 * back) pays nothing for it.
 */
export function branchSpace(
  root: string,
  user: OsUser | undefined,
  track: RunTracker | undefined,
  log: (line: string) => void,
): BranchSpace {
  let dir: string | undefined
  let forget = (): void => {}
  let made: Promise<string | undefined> | undefined
  const remove = (): void => {
    if (!dir) return
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 })
    forget()
    dir = undefined
  }
  const make = async (admin: pg.Client): Promise<string | undefined> => {
    try {
      dir = mkdtempSync(path.join(root, 'vigil-dep-postgres-branches-'))
      // Recorded for `vigil sandboxes gc`: a run killed mid-way leaves this folder.
      forget = track?.tree({ tempDir: dir }) ?? (() => {})
      if (user) chownSync(dir, user.uid, user.gid)
      await admin.query(`CREATE TABLESPACE ${BRANCH_TABLESPACE} LOCATION '${dir.replace(/'/g, "''")}'`)
      log(`branches are made in memory, in ${dir}`)
      return BRANCH_TABLESPACE
    } catch (error) {
      remove()
      log(`branches stay on disk: no tablespace could be made in ${root} (${(error as Error).message})`)
      return undefined
    }
  }
  return {
    ensure: (admin) => (made ??= make(admin)),
    async drop(client, versionNum) {
      if (!made || !(await made)) return true
      try {
        const { rows } = await client.query<{ datname: string }>(
          `SELECT d.datname FROM pg_database d JOIN pg_tablespace t ON t.oid = d.dattablespace WHERE t.spcname = $1`,
          [BRANCH_TABLESPACE],
        )
        for (const { datname } of rows) await client.query(dropDatabaseSql(datname, versionNum))
        await client.query(`DROP TABLESPACE IF EXISTS ${BRANCH_TABLESPACE}`)
        return true
      } catch {
        return false
      }
    },
    remove,
  }
}
