/**
 * The built CLI (`bin/vigil.js`) as a user runs it: a child process with its own working folder and
 * environment, its output collected, killed when it overruns (an overrun is then a failure with code null).
 */
import { spawn } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
export const vigilBin = path.join(repoRoot, 'bin/vigil.js')

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

export interface CliOptions {
  /** @default the repository root */
  cwd?: string
  /** The whole environment of the child. @default process.env */
  env?: NodeJS.ProcessEnv
  /** Written to its standard input, which is then closed. @default nothing (closed at once) */
  stdin?: string
  /** @default 60 s */
  timeoutMs?: number
}

/** Runs any command the same way: output collected, stdin written then closed, killed when it overruns. */
export function runProcess(
  command: string,
  args: readonly string[],
  options: CliOptions & { cwd: string; env: NodeJS.ProcessEnv },
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
    child.stdin.end(options.stdin ?? '')
  })
}

/** Runs `vigil <args>`; NO_COLOR is always set, so output is plain text. */
export function runVigil(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  return runProcess(process.execPath, [vigilBin, ...args], {
    ...options,
    cwd: options.cwd ?? repoRoot,
    env: { ...(options.env ?? process.env), NO_COLOR: '1' },
  })
}
