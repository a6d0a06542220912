/**
 * `vigil sandbox`: start the config's sandboxes the way `vigil run` would, print their service URLs, and
 * keep them up until Ctrl-C (or, with `--check`, stop them as soon as they are ready). For writing plans
 * against a live stack, and for checking in CI that the stack starts at all.
 */
import { loadConfig } from '../../../plans/config.js'
import { ConfigError } from '../../errors.js'
import { installSignalHandlers } from '../../lifecycle.js'
import { startSandboxes } from '../../sandboxes/index.js'
import type { Sandbox } from '../../api/sandbox.js'

export interface SandboxCommandOptions {
  config?: string
  base?: string
  patch?: string
  baseline: boolean
  check?: boolean
  json?: boolean
}

function describe(sandbox: Sandbox): { name: string; default: string; services: Record<string, string> } {
  const services = Object.fromEntries(Object.values(sandbox.services).map((s) => [s.name, s.url]))
  return { name: sandbox.name, default: sandbox.defaultService, services }
}

/** `vigil sandbox`: returns once the sandboxes are stopped again. */
export async function sandbox(options: SandboxCommandOptions): Promise<void> {
  const controller = new AbortController()
  let stopped: (() => void) | undefined
  const interrupted = new Promise<void>((resolve) => (stopped = resolve))
  installSignalHandlers(() => {
    controller.abort()
    stopped?.()
  })
  const loaded = await loadConfig(options.config).catch((error: unknown) => {
    // plans/ has its own error classes (it imports nothing of the engine): present them as ours.
    if ((error as { code?: unknown })?.code === 'VIGIL_CONFIG') {
      throw new ConfigError((error as Error).message, { cause: error })
    }
    throw error
  })
  const session = await startSandboxes({
    loaded,
    base: options.base,
    patch: options.patch,
    baseline: options.baseline,
    signal: controller.signal,
    log: (line) => process.stderr.write(`${line}\n`),
  })
  try {
    const sandboxes = [session.candidate, ...(session.baseline ? [session.baseline] : [])].map(describe)
    if (options.json)
      process.stdout.write(`${JSON.stringify({ sandboxes, timings: session.timings }, null, 2)}\n`)
    else {
      for (const s of sandboxes) {
        process.stdout.write(`${s.name}:\n`)
        for (const [name, url] of Object.entries(s.services)) {
          process.stdout.write(`  ${name.padEnd(16)} ${url}${name === s.default ? '  (default)' : ''}\n`)
        }
      }
    }
    if (!options.check) {
      process.stderr.write('Sandboxes are up; press Ctrl-C to stop them.\n')
      await interrupted
    }
  } finally {
    await session.stop()
  }
}
