/**
 * Where a private PostgreSQL server's branches go (`branchRootFor`): a RAM file system when the temp folder
 * is on disk and `/dev/shm` is a tmpfs with room, or what `VIGIL_POSTGRES_MEMORY` says.
 */
import { statfsSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { branchRootFor } from '../../../engine/dependencies/postgres/memory.js'
import { memoryFolders } from '../../../engine/memory-folder.js'

const TMPFS = 0x01021994
const isTmpfs = (dir: string): boolean => {
  try {
    return statfsSync(dir).type === TMPFS
  } catch {
    return false
  }
}
const shmFree = (): number => {
  try {
    const fs = statfsSync('/dev/shm')
    return fs.type === TMPFS ? fs.bavail * fs.bsize : 0
  } catch {
    return 0
  }
}

describe('branchRootFor', () => {
  it('off, 0, false or no: none (the server’s own data folder)', () => {
    for (const off of ['off', '0', 'false', 'no', 'OFF'])
      expect(branchRootFor(undefined, { VIGIL_POSTGRES_MEMORY: off })).toBeUndefined()
  })

  it('a folder: that folder, made absolute', () => {
    expect(branchRootFor(undefined, { VIGIL_POSTGRES_MEMORY: '/srv/ram' })).toBe('/srv/ram')
    expect(branchRootFor(undefined, { VIGIL_POSTGRES_MEMORY: 'ram' })).toBe(path.resolve('ram'))
  })

  it('unset (or on): /dev/shm only when the temp folder is on disk and /dev/shm has 1 GiB free', () => {
    const expected = !isTmpfs(os.tmpdir()) && shmFree() >= 1024 ** 3 ? '/dev/shm' : undefined
    expect(branchRootFor(undefined, {})).toBe(expected)
    expect(branchRootFor(undefined, { VIGIL_POSTGRES_MEMORY: 'on' })).toBe(expected)
    // A user who may not pass through /dev/shm gets none; its mode lets everyone through where it exists.
    expect(branchRootFor({ uid: 4242 }, {})).toBe(expected)
  })

  it('vigil sandboxes gc looks for what a killed run left in /dev/shm, and in the folder asked for', () => {
    expect(memoryFolders({})).toEqual(['/dev/shm'])
    expect(memoryFolders({ VIGIL_POSTGRES_MEMORY: 'off' })).toEqual(['/dev/shm'])
    expect(memoryFolders({ VIGIL_POSTGRES_MEMORY: '/srv/ram' })).toEqual(['/dev/shm', '/srv/ram'])
  })
})
