/**
 * Every error class vigil exports extends CodedError (plans/errors.ts), so each has a fixed code and an exit
 * code, and the CLI knows it; and no two classes share a name (there were two ConfigErrors once). A class
 * a module keeps to itself (a signal caught where it is thrown) is not an error anyone else sees.
 */
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { CodedError, ConfigError as PlansConfigError } from '../../plans/errors.js'
import { ConfigError, isKnownError } from '../../engine/errors.js'
import { CheckAbort } from '../../engine/executors/local/check-runner.js'
import { CommandSyntaxError } from '../../engine/processes/argv.js'
import { DependencyCycleError } from '../../engine/sandboxes/graph.js'
import { TemplateError } from '../../engine/sandboxes/template.js'
import { SelectorSyntaxError } from '../../engine/api/json-select.js'
import { KubeApiError } from '../../engine/kubernetes/client.js'
import { GaveUp } from '../../selectors/retry.js'

const root = fileURLToPath(new URL('../../', import.meta.url))

function sources(dir: string): string[] {
  return readdirSync(path.join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => path.join(dir, f))
}

/** `export class A extends B` of the source folders: name → [base, file]. */
function classes(): Map<string, Array<{ base: string; file: string }>> {
  const out = new Map<string, Array<{ base: string; file: string }>>()
  for (const file of ['plans', 'selectors', 'reporters', 'engine'].flatMap(sources)) {
    const text = readFileSync(path.join(root, file), 'utf8')
    for (const m of text.matchAll(/\bexport class (\w+)(?:<[^>]*>)? extends (\w+)/g))
      out.set(m[1]!, [...(out.get(m[1]!) ?? []), { base: m[2]!, file }])
  }
  return out
}

describe('error classes', () => {
  it('all reach CodedError; only CodedError extends Error itself', () => {
    const all = classes()
    const reachesError = (name: string, seen = new Set<string>()): boolean => {
      if (name === 'Error') return true
      if (seen.has(name)) return false
      seen.add(name)
      return (all.get(name) ?? []).some(({ base }) => reachesError(base, seen))
    }
    const direct = [...all].filter(([, defs]) => defs.some((d) => d.base === 'Error')).map(([name]) => name)
    expect(direct).toEqual(['CodedError'])
    const reachesCoded = (name: string): boolean =>
      name === 'CodedError' || (all.get(name) ?? []).some(({ base }) => reachesCoded(base))
    const errors = [...all.keys()].filter((name) => reachesError(name))
    expect(errors.length).toBeGreaterThan(30)
    expect(errors.filter((name) => !reachesCoded(name))).toEqual([])
  })

  it('have one class per name', () => {
    const twice = [...classes()].filter(([, defs]) => defs.length > 1).map(([name, defs]) => [name, defs])
    expect(twice).toEqual([])
    expect(ConfigError).toBe(PlansConfigError)
  })

  it('each have a code and an exit code the CLI knows', () => {
    const samples = [
      new ConfigError('vigil.config.yaml:1:1 sandbox: must be an object'),
      new CheckAbort('VIGIL_CHECK_TIMEOUT', 'timed out after 10 ms'),
      new CommandSyntaxError('unterminated quote'),
      new DependencyCycleError(['a', 'b', 'a']),
      new TemplateError('unknown placeholder {{x}}'),
      new SelectorSyntaxError('JSON pointer "x" must start with "/"'),
      new KubeApiError('forbidden', 403),
      new GaveUp('exhausted', 3, undefined, 1000),
    ]
    for (const error of samples) {
      expect(error).toBeInstanceOf(CodedError)
      expect(isKnownError(error)).toBe(true)
      expect(error.code).toMatch(/^VIGIL_[A-Z0-9_]+$/)
      expect([0, 2, 3]).toContain(error.exitCode)
      expect(error.name).toBe(error.constructor.name)
    }
  })
})
