/**
 * What a started service says it is: the answer of its `version:` probe (an HTTP path, with a JSON pointer
 * into the answer, or a command run in its folder) and the `name@version` of the package.json in its
 * folder. Recorded in the verdict's identity, so a report says which builds were compared; a probe that
 * fails is recorded with its reason and never fails the run.
 */
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { get as pointerGet } from '../api/pointer.js'
import { parseCommand } from '../processes/argv.js'
import { runCommand } from '../processes/command.js'

/** `version:` of a service: an HTTP path (`/version`), or `{ http, pointer }`, or `{ command }`. */
export type VersionProbe =
  | string
  | { http: string; pointer?: string; command?: never }
  | { command: string | string[]; http?: never; pointer?: never }

/** Characters of a version kept. */
const MAX_VERSION = 200
const PROBE_TIMEOUT_MS = 5000

function firstLine(text: string): string {
  const line = text.split(/\r?\n/).find((l) => l.trim() !== '') ?? ''
  const trimmed = line.trim()
  return trimmed.length > MAX_VERSION ? `${trimmed.slice(0, MAX_VERSION)}…` : trimmed
}

/** The version a probe answers, or the reason it gave none. */
export async function probeVersion(
  probe: VersionProbe,
  service: { url: string; cwd: string; env: Record<string, string> },
  signal: AbortSignal,
): Promise<{ version: string } | { error: string }> {
  const spec = typeof probe === 'string' ? { http: probe } : probe
  if (spec.command !== undefined) {
    const argv = Array.isArray(spec.command) ? spec.command : parseCommand(spec.command)
    const result = await runCommand(argv, {
      cwd: service.cwd,
      env: service.env,
      timeoutMs: PROBE_TIMEOUT_MS,
      signal,
      tailLines: 5,
    })
    if (result.exitCode !== 0)
      return {
        error: `${argv.join(' ')} ${result.spawnError ?? (result.timedOut ? 'timed out' : `exited with ${result.exitCode ?? result.signal}`)}`,
      }
    const version = firstLine(result.tail.join('\n'))
    return version ? { version } : { error: `${argv.join(' ')} printed nothing` }
  }
  const where = `GET ${spec.http}`
  try {
    const response = await fetch(service.url + spec.http, {
      signal: AbortSignal.any([signal, AbortSignal.timeout(PROBE_TIMEOUT_MS)]),
    })
    const text = await response.text()
    if (!response.ok) return { error: `${where} answered ${response.status}` }
    if (spec.pointer === undefined) {
      const version = firstLine(text)
      return version ? { version } : { error: `${where} answered an empty body` }
    }
    let value: unknown
    try {
      value = pointerGet(JSON.parse(text), spec.pointer)
    } catch {
      return { error: `${where} did not answer JSON` }
    }
    if (value === undefined || value === null || typeof value === 'object')
      return { error: `${where} has no version at ${spec.pointer}` }
    return { version: firstLine(String(value)) }
  } catch (error) {
    return { error: `${where} failed: ${(error as Error).message}` }
  }
}

/** `name@version` of `<cwd>/package.json`, or undefined when there is none with a version. */
export async function packageVersion(cwd: string): Promise<string | undefined> {
  try {
    const pkg = JSON.parse(await readFile(path.join(cwd, 'package.json'), 'utf8')) as {
      name?: unknown
      version?: unknown
    }
    if (typeof pkg.version !== 'string') return undefined
    return typeof pkg.name === 'string' ? `${pkg.name}@${pkg.version}` : pkg.version
  } catch {
    return undefined
  }
}
