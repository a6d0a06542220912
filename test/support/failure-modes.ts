/**
 * Process sandboxes of the failure-mode fixtures (test/fixtures/failure-modes/): a candidate and a
 * baseline of the same services, each side with its own holes, started once per test file and stopped
 * after it.
 */
import { rmSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll } from 'vitest'
import { stringify } from 'yaml'
import { startSandboxes, type SandboxSession } from '../../engine/sandboxes/index.js'
import { tempDir, writeConfig } from '../engine/sandboxes/helpers.js'

export const FAILURE_MODES = fileURLToPath(new URL('../fixtures/failure-modes/', import.meta.url))

export interface FixtureService {
  /** The fixture file, e.g. `checkout.js`. */
  file: string
  env?: Record<string, string>
}

/**
 * Starts the services on both sides (once, on first use): `candidate` and `baseline` give each side's
 * env per service over the common one. Registers an afterAll hook that stops them.
 */
export function failureModeSandboxes(
  services: Record<string, FixtureService>,
  sides: {
    default: string
    candidate?: Record<string, Record<string, string>>
    baseline?: Record<string, Record<string, string>>
  },
): () => Promise<SandboxSession> {
  let started: Promise<SandboxSession> | undefined
  let dir: string | undefined
  afterAll(async () => {
    if (started) await (await started).stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })
  const section = (overrides: Record<string, Record<string, string>> | undefined) => ({
    services: Object.fromEntries(
      Object.entries(services).map(([name, s]) => [
        name,
        {
          command: [process.execPath, path.join(FAILURE_MODES, s.file)],
          env: { ...s.env, ...overrides?.[name] },
          ready: { http: '/health', timeout: '20s' },
          stopTimeout: '2s',
        },
      ]),
    ),
  })
  return () =>
    (started ??= (async () => {
      dir = tempDir('vigil-failure-modes-')
      const loaded = writeConfig(
        dir,
        stringify({
          sandbox: { provider: 'process', default: sides.default, ...section(sides.candidate) },
          baseline: section(sides.baseline),
        }),
      )
      return startSandboxes({ loaded, signal: new AbortController().signal, log: () => {}, cwd: dir })
    })())
}
