import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { onShutdown, shutdown } from '../../engine/lifecycle.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const CHILD = fileURLToPath(new URL('../fixtures/sandboxes/lifecycle-child.ts', import.meta.url))

interface Outcome {
  code: number | null
  lines: string[]
  stderr: string
}

/** Runs the child; once it printed `ready`, sends each signal (the next one after `gapMs`). Bounded. */
function run(mode: string, signals: NodeJS.Signals[] = [], gapMs = 200): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, mode], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    let sent = false
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`child did not finish in time: ${stdout} ${stderr}`))
    }, 20_000)
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
      if (!sent && stdout.includes('ready')) {
        sent = true
        signals.forEach((signal, i) => setTimeout(() => child.kill(signal), i * gapMs))
      }
    })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    child.once('close', (code) => {
      clearTimeout(timer)
      resolve({ code, lines: stdout.trim().split('\n'), stderr })
    })
  })
}

describe('lifecycle in a real process', () => {
  it('runs exit hooks on a normal exit', async () => {
    expect(await run('exit')).toMatchObject({ code: 0, lines: ['ready', 'exit-hook'] })
  })

  it('runs exit hooks last-registered first (what started later stops first)', async () => {
    expect(await run('order')).toMatchObject({ code: 0, lines: ['ready', 'exit-hook-2', 'exit-hook'] })
  })

  it('runs exit hooks when an uncaught exception kills the process, keeping its exit code', async () => {
    const outcome = await run('uncaught')
    expect(outcome.code).toBe(1)
    expect(outcome.lines).toEqual(['ready', 'exit-hook'])
    expect(outcome.stderr).toContain('Error: boom')
  })

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
    ['SIGQUIT', 131],
  ] as const)('on %s: waits for the interrupted run, runs the cleanups, exits %i', async (signal, code) => {
    const outcome = await run('promise', [signal])
    expect(outcome.code).toBe(code)
    expect(outcome.lines).toEqual(['ready', 'interrupted', 'cleanup', 'exit-hook'])
  })

  it('keeps the signal exit code when the interrupted run ends on its own with another one', async () => {
    const outcome = await run('natural', ['SIGTERM'])
    expect(outcome.code).toBe(143)
    expect(outcome.lines).toEqual(['ready', 'reported', 'exit-hook'])
  })

  it('forces the cleanups and the exit after the grace period', async () => {
    const outcome = await run('stuck', ['SIGINT'])
    expect(outcome.code).toBe(130)
    expect(outcome.lines).toEqual(['ready', 'interrupted', 'cleanup', 'exit-hook'])
  })

  it('exits at once on a second signal, still running the exit hooks', async () => {
    const outcome = await run('hung', ['SIGINT', 'SIGINT'])
    expect(outcome.code).toBe(130)
    expect(outcome.lines).toEqual(['ready', 'interrupted', 'exit-hook'])
  })
})

describe('shutdown()', () => {
  it('runs each registered cleanup once, survives failures, and skips unregistered ones', async () => {
    const calls: string[] = []
    onShutdown(() => {
      calls.push('a')
    })
    onShutdown(async () => {
      calls.push('b')
      throw new Error('cleanup failed')
    })
    const unregister = onShutdown(() => {
      calls.push('c')
    })
    unregister()
    await Promise.all([shutdown(), shutdown()])
    await shutdown()
    expect(calls.sort()).toEqual(['a', 'b'])
  })
})
