/** Shared helpers of the sandbox tests: temporary config folders and process checks. */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'
import type { SandboxConfigSource } from '../../../engine/sandboxes/index.js'
import { isProcessAlive } from '../../../engine/processes/process-tree.js'

export const FIXTURES = fileURLToPath(new URL('../../fixtures/sandboxes/', import.meta.url))
export const SERVER = path.join(FIXTURES, 'server.js')
/** `[node, server.js]` as a YAML flow sequence. */
export const NODE_SERVER = JSON.stringify([process.execPath, SERVER])

export function tempDir(prefix = 'vigil-test-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix))
}

/** Writes `vigil.config.yaml` into `dir` and returns it loaded the way the config loader would. */
export function writeConfig(dir: string, yaml: string): SandboxConfigSource {
  const file = path.join(dir, 'vigil.config.yaml')
  writeFileSync(file, yaml)
  return { file, dir, config: parse(readFileSync(file, 'utf8')) ?? {} }
}

export interface PidRecord {
  name: string
  pid: number
  cwd: string
  grandchild?: number
}

/** Pid files the fixture server wrote into `dir`, sorted by name; one still being written is skipped. */
export function readPids(dir: string): PidRecord[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .flatMap((f) => {
      try {
        return [JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as PidRecord]
      } catch {
        return []
      }
    })
    .sort((a, b) => a.name.localeCompare(b.name) || a.pid - b.pid)
}

/** Every pid (services and their grandchildren) of the records. */
export function allPids(records: PidRecord[]): number[] {
  return records.flatMap((r) => (r.grandchild ? [r.pid, r.grandchild] : [r.pid]))
}

/** The pids still alive after waiting up to `ms` for them to go. */
export async function survivors(pids: number[], ms = 5_000): Promise<number[]> {
  const deadline = Date.now() + ms
  for (;;) {
    const alive = pids.filter(isProcessAlive)
    if (alive.length === 0 || Date.now() > deadline) return alive
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** Kills leftovers so a failing test does not leak processes into the next one. */
export function killAll(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true })
}
