/**
 * Runs a command (the CLI, usually) with register.mjs preloaded and returns what it printed and which
 * modules it loaded: the packages by name, and vigil's own modules as paths relative to the package root.
 */
import { runProcess } from '../cli.js'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const register = path.join(path.dirname(fileURLToPath(import.meta.url)), 'register.mjs')

export interface Traced {
  code: number | null
  stdout: string
  stderr: string
  /** Every resolved URL, in order. */
  urls: string[]
  /** Packages the process loaded a module of, imported or required: `ajv`, `@anthropic-ai/sdk`. */
  packages: Set<string>
}

/** The package a `file:` URL lies in (the innermost node_modules), if any. */
export function packageOf(url: string): string | undefined {
  const match = /.*\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)
  return match?.[1]
}

/** `command args…` with the trace preloaded into every node process it starts (NODE_OPTIONS). */
export async function traced(
  command: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<Traced> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-trace-'))
  const file = path.join(dir, 'modules.txt')
  try {
    const { code, stdout, stderr } = await runProcess(command, args, {
      cwd: options.cwd,
      env: {
        ...process.env,
        NO_COLOR: '1',
        ...options.env,
        NODE_OPTIONS: `--import=${register}`,
        VIGIL_MODULE_TRACE: file,
      },
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    })
    const urls = (await readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean)
    const packages = new Set(urls.map(packageOf).filter((p): p is string => p !== undefined))
    return { code, stdout, stderr, urls, packages }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
