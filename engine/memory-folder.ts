/**
 * The RAM folder vigil may make throw-away data folders in (a private PostgreSQL server's branches:
 * dependencies/postgres/memory.ts), and what `VIGIL_POSTGRES_MEMORY` asks of it. `vigil sandboxes gc`
 * removes what a killed run left there, as in the temp folder.
 */
import path from 'node:path'

/** Linux's RAM file system for everyone, where there is one. */
export const SHARED_MEMORY = '/dev/shm'

/** `off` (or `0`, `false`, `no`), `auto` (unset, `on`, `1`, `true`, `yes`), or a folder made absolute. */
export function askedMemoryFolder(env: NodeJS.ProcessEnv = process.env): 'off' | 'auto' | string {
  const asked = env.VIGIL_POSTGRES_MEMORY?.trim()
  if (!asked || /^(on|1|true|yes|auto)$/i.test(asked)) return 'auto'
  if (/^(off|0|false|no)$/i.test(asked)) return 'off'
  return path.resolve(asked)
}

/** Folders a killed run's throw-away data may sit directly in, besides the temp folder. */
export function memoryFolders(env: NodeJS.ProcessEnv = process.env): string[] {
  const asked = askedMemoryFolder(env)
  return asked === 'off' || asked === 'auto' ? [SHARED_MEMORY] : [SHARED_MEMORY, asked]
}
