/**
 * Runs k6 for one segment: writes the generated script (or uses the plan's own), runs `k6 run` with a
 * bounded timeout, and reads its `--out json` points (percentiles) and its summary (k6's own threshold
 * verdicts). Exit code 99 means "thresholds failed", which vigil evaluates itself: it is not an error.
 */
import { spawn } from 'node:child_process'
import { constants } from 'node:fs'
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { LoadTarget } from '../builtin.js'
import { K6NotFoundError, K6RunError } from '../errors.js'
import type { LoadMetrics } from '../metrics.js'
import type { Samples } from '../samples.js'
import type { LoadSpec } from '../spec.js'
import { parseK6Ndjson } from './ndjson.js'
import { generateK6Script } from './script.js'
import { parseK6Summary } from './summary.js'

export const K6_INSTALL_HINT =
  'install k6 (https://grafana.com/docs/k6/latest/set-up/install-k6/: Debian/Ubuntu from the k6 apt repository, macOS `brew install k6`, or a release binary on PATH), or set `k6.path` in the plan'

/** k6 exits with this code when thresholds failed. */
export const K6_THRESHOLDS_FAILED = 99

/** IPv4 and IPv6 ranges that are not loopback: k6 refuses them when the target is loopback. */
const NON_LOOPBACK = [
  '0.0.0.0/2',
  '64.0.0.0/3',
  '96.0.0.0/4',
  '112.0.0.0/5',
  '120.0.0.0/6',
  '124.0.0.0/7',
  '126.0.0.0/8',
  '128.0.0.0/1',
  '2000::/3',
  'fc00::/7',
  'fe80::/10',
]

async function isExecutable(file: string): Promise<boolean> {
  return access(file, constants.X_OK).then(
    () => true,
    () => false,
  )
}

/** The k6 binary to run: `configured` (a path or a name on PATH), else `k6` on PATH; undefined when none. */
export async function findK6(
  configured?: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | undefined> {
  const name = configured ?? 'k6'
  if (name.includes('/') || name.includes(path.sep))
    return (await isExecutable(name)) ? path.resolve(name) : undefined
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue
    const candidate = path.join(dir, name)
    if (await isExecutable(candidate)) return candidate
  }
  return undefined
}

export interface K6SegmentOptions {
  /** The k6 binary (from findK6). */
  k6: string
  durationMs: number
  signal: AbortSignal
  /** Extra milliseconds k6 may take beyond the duration (start-up, graceful stop) before it is killed. @default 20000 */
  graceMs?: number
}

export interface K6SegmentResult {
  /** Every request, from `--out json`. */
  samples?: Samples
  /** k6's own summary (handleSummary, else --summary-export). */
  summary?: LoadMetrics
  exitCode: number
  /** Last lines k6 printed, for errors. */
  logTail: string[]
}

function isLoopback(url: string): boolean {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '')
  return host === 'localhost' || host === '::1' || /^127\./.test(host)
}

async function readOptional(file: string): Promise<string | undefined> {
  return readFile(file, 'utf8').catch(() => undefined)
}

/** Runs one k6 segment against a target. Throws K6RunError when k6 fails or leaves no result. */
export async function runK6Segment(
  spec: LoadSpec,
  target: LoadTarget,
  options: K6SegmentOptions,
): Promise<K6SegmentResult> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-k6-'))
  try {
    let script = spec.script
    if (!script) {
      script = path.join(dir, 'script.js')
      // The script holds the requests' headers (credentials): private to this user, removed afterwards.
      await writeFile(
        script,
        generateK6Script(spec, { durationMs: options.durationMs, sandboxHeaders: target.headers }),
        {
          mode: 0o600,
        },
      )
    }
    const points = path.join(dir, 'points.json')
    const summaryPath = path.join(dir, 'summary.json')
    const exportPath = path.join(dir, 'summary-export.json')
    const args = ['run', '--quiet', '--no-color', '--no-usage-report', `--out`, `json=${points}`]
    args.push(
      `--summary-export=${exportPath}`,
      '-e',
      `VIGIL_BASE_URL=${target.baseUrl}`,
      '-e',
      `VIGIL_SUMMARY_PATH=${summaryPath}`,
    )
    args.push('-e', `VIGIL_SIDE=${target.side}`)
    if (isLoopback(target.baseUrl)) args.push('--blacklist-ip', NON_LOOPBACK.join(','))
    args.push(script)
    const { exitCode, logTail } = await spawnBounded(options.k6, args, {
      cwd: path.dirname(script),
      timeoutMs: options.durationMs + (options.graceMs ?? 20_000),
      signal: options.signal,
    })
    if (exitCode !== 0 && exitCode !== K6_THRESHOLDS_FAILED) {
      throw new K6RunError(
        `k6 exited with code ${exitCode} against ${target.side} ${target.baseUrl}`,
        logTail,
      )
    }
    const result: K6SegmentResult = { exitCode, logTail }
    const ndjson = await readOptional(points)
    if (ndjson) result.samples = parseK6Ndjson(ndjson)
    const summary = (await readOptional(summaryPath)) ?? (await readOptional(exportPath))
    if (summary) result.summary = parseK6Summary(summary)
    if (!result.samples && !result.summary)
      throw new K6RunError('k6 finished but wrote neither points nor a summary', logTail)
    if (result.samples && result.summary?.durationMs) result.samples.elapsedMs = result.summary.durationMs
    else if (result.samples && !spec.script) result.samples.elapsedMs = options.durationMs
    return result
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

interface SpawnOptions {
  cwd: string
  timeoutMs: number
  signal: AbortSignal
}

/** Spawns without a shell, keeps the last 50 output lines, kills after the timeout or on abort. */
function spawnBounded(
  command: string,
  args: string[],
  options: SpawnOptions,
): Promise<{ exitCode: number; logTail: string[] }> {
  return new Promise((resolve, reject) => {
    const tail: string[] = []
    const keep = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) tail.push(line)
      if (tail.length > 50) tail.splice(0, tail.length - 50)
    }
    const child = spawn(command, args, {
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, K6_NO_USAGE_REPORT: 'true' },
    })
    child.stdout.on('data', keep)
    child.stderr.on('data', keep)
    let killedFor: string | undefined
    const kill = (why: string) => {
      killedFor ??= why
      child.kill('SIGTERM')
      setTimeout(() => child.kill('SIGKILL'), 2000).unref()
    }
    const timer = setTimeout(
      () => kill(`did not finish within ${Math.round(options.timeoutMs / 1000)}s`),
      options.timeoutMs,
    )
    const onAbort = () => kill('was cancelled')
    options.signal.addEventListener('abort', onAbort, { once: true })
    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      options.signal.removeEventListener('abort', onAbort)
      reject(
        error.code === 'ENOENT'
          ? new K6NotFoundError(`k6 not found at ${command}: ${K6_INSTALL_HINT}`, { cause: error })
          : error,
      )
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      options.signal.removeEventListener('abort', onAbort)
      if (killedFor) return reject(new K6RunError(`k6 ${killedFor}`, tail))
      resolve({ exitCode: code ?? (signal ? 128 : 1), logTail: tail })
    })
  })
}
