/**
 * PostgreSQL's binaries as the server's unprivileged user can run them: an installation behind a private
 * folder (a project under /root, a CI clone in a 0700 temporary folder) is copied once to a folder that user
 * can reach, root-owned and read-only to others; one it can reach is used where it is.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runnableBy, type PostgresBinaries } from '../../../engine/dependencies/postgres/binaries.js'
import { reachableBy } from '../../../engine/dependencies/server.js'

const nobody = { uid: 65534 }
const made: string[] = []
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true })
})

/** A stand-in installation (bin/postgres, bin/initdb, lib/) inside a folder of the given mode. */
function installation(mode: number): PostgresBinaries {
  const outer = mkdtempSync(path.join(os.tmpdir(), 'vigil-pg-bin-test-'))
  made.push(outer)
  chmodSync(outer, mode)
  const bin = path.join(outer, 'native', 'bin')
  mkdirSync(bin, { recursive: true })
  mkdirSync(path.join(outer, 'native', 'lib'))
  for (const name of ['postgres', 'initdb'])
    writeFileSync(path.join(bin, name), '#!/bin/sh\n', { mode: 0o755 })
  writeFileSync(path.join(outer, 'native', 'lib', 'libpq.so'), 'x')
  // The version makes the copy's name unique to this test run.
  return { bin, source: 'embedded', version: `0.${path.basename(outer).slice(-6)}` }
}

describe('postgres binaries for the server user', () => {
  it('uses binaries the user can reach where they are, and needs no copy without a user', () => {
    const open = installation(0o755)
    expect(runnableBy(open, nobody)).toEqual(open)
    const closed = installation(0o700)
    expect(runnableBy(closed, undefined)).toEqual(closed)
  })

  it('copies an installation behind a private folder once, to a folder the user can reach and not change', () => {
    const closed = installation(0o700)
    expect(reachableBy(closed.bin, nobody)).toBe(false)
    const copied = runnableBy(closed, nobody)
    made.push(path.dirname(copied.bin))
    expect(copied).toMatchObject({ source: 'embedded', version: closed.version })
    expect(copied.bin).toMatch(/^\/tmp\/vigil-postgres-bin-/)
    expect(reachableBy(copied.bin, nobody)).toBe(true)
    // The whole installation: the binaries find their libraries beside them.
    expect(statSync(path.join(copied.bin, '..', 'lib', 'libpq.so')).isFile()).toBe(true)
    expect(statSync(path.dirname(copied.bin)).mode & 0o022).toBe(0)
    // Later runs use the same copy.
    expect(runnableBy(closed, nobody)).toEqual(copied)
  })

  it('refuses a folder of that name that others can change', () => {
    const closed = installation(0o700)
    const copied = runnableBy(closed, nobody)
    made.push(path.dirname(copied.bin))
    chmodSync(path.dirname(copied.bin), 0o777)
    expect(() => runnableBy(closed, nobody)).toThrow(/is not a folder only this user can change/)
  })
})
