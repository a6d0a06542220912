/**
 * How the selection retries Messages API requests, within one deadline for the whole selection.
 *
 * vigil retries itself (the SDK client is built with `maxRetries: 0`) because the SDK honours any
 * `Retry-After` up to a minute and has no overall deadline: a 45 s wait asked by a rate limiter would
 * hold a CI job for minutes before the floor even starts. Here each wait is capped at
 * {@link MAX_RETRY_WAIT_MS}, a wait that would pass the deadline is not started, and 401 and 403 are
 * never retried (a bad key does not get better), whatever `x-should-retry` says.
 */
import Anthropic from '@anthropic-ai/sdk'
import { SelectorError } from './errors.js'

/** The longest vigil waits between two attempts, whatever the API asks. */
export const MAX_RETRY_WAIT_MS = 10_000

/** One deadline shared by every request of a selection. */
export interface Deadline {
  /** The budget, for messages. */
  ms: number
  /** Aborts when the deadline passes. */
  signal: AbortSignal
  /** Milliseconds left. */
  remaining(): number
}

export function startDeadline(ms: number): Deadline & { clear(): void } {
  const controller = new AbortController()
  const end = performance.now() + ms
  const timer = setTimeout(() => controller.abort(new Error(`deadline of ${ms} ms`)), ms)
  timer.unref?.()
  return {
    ms,
    signal: controller.signal,
    remaining: () => Math.max(0, end - performance.now()),
    clear: () => clearTimeout(timer),
  }
}

/** Why the attempts stopped. */
export type GiveUpReason =
  /** The deadline passed during an attempt or a wait. */
  | 'deadline'
  /** The next wait would pass the deadline. */
  | 'no-time'
  /** The caller's signal aborted. */
  | 'aborted'
  /** The error is not worth retrying (401, 403, 400, an unreadable body…). */
  | 'final'
  /** `maxRetries` retries were made. */
  | 'exhausted'

/** Thrown by {@link withRetries}: the attempts stopped, with the last real failure. */
export class GaveUp extends SelectorError {
  constructor(
    readonly reason: GiveUpReason,
    readonly attempts: number,
    /** The last failure that was not the deadline's or the caller's abort; undefined if there was none. */
    readonly last: unknown,
    readonly deadlineMs: number,
    /** The wait that did not fit (`no-time`). */
    readonly waitMs?: number,
  ) {
    super('VIGIL_LLM_GAVE_UP', `gave up (${reason}) after ${attempts} attempt(s)`, {
      cause: last,
      exitCode: 3,
    })
  }
}

export interface RetryPolicy {
  maxRetries: number
  deadline: Deadline
  /** Aborts every attempt: the deadline's, the caller's and the sibling requests' signals combined. */
  signal: AbortSignal
  /** The caller's own signal (Ctrl-C), to tell its abort from the deadline's. */
  callerSignal?: AbortSignal
}

/** Runs `attempt` until it succeeds or the policy says stop; throws {@link GaveUp}. */
export async function withRetries<T>(
  attempt: (signal: AbortSignal) => Promise<T>,
  policy: RetryPolicy,
): Promise<T> {
  const { deadline, signal } = policy
  let last: unknown
  for (let attempts = 1; ; attempts++) {
    try {
      return await attempt(signal)
    } catch (error) {
      const stop = (reason: GiveUpReason, waitMs?: number) =>
        new GaveUp(reason, attempts, last, deadline.ms, waitMs)
      if (deadline.signal.aborted) throw stop('deadline')
      if (policy.callerSignal?.aborted || error instanceof Anthropic.APIUserAbortError) throw stop('aborted')
      last = error
      if (!retryable(error)) throw stop('final')
      if (attempts > policy.maxRetries) throw stop('exhausted')
      const wait = retryWait(error, attempts)
      if (wait >= deadline.remaining()) throw stop('no-time', wait)
      try {
        await sleep(wait, signal)
      } catch {
        throw stop(deadline.signal.aborted ? 'deadline' : 'aborted')
      }
    }
  }
}

/** 408, 409, 429, 5xx and network failures; never 401 or 403; otherwise as `x-should-retry` says. */
export function retryable(error: unknown): boolean {
  if (error instanceof Anthropic.APIUserAbortError) return false
  if (error instanceof Anthropic.APIConnectionError) return true
  if (!(error instanceof Anthropic.APIError) || error.status === undefined) return false
  if (error.status === 401 || error.status === 403) return false
  const header = error.headers?.get('x-should-retry')
  if (header === 'true') return true
  if (header === 'false') return false
  return error.status === 408 || error.status === 409 || error.status === 429 || error.status >= 500
}

/**
 * The wait before attempt `attempts + 1`: what `retry-after-ms` or `retry-after` (seconds or an HTTP date)
 * asks, else exponential backoff from 0.5 s with jitter; never more than {@link MAX_RETRY_WAIT_MS}.
 */
export function retryWait(error: unknown, attempts: number): number {
  const asked = askedWait(error instanceof Anthropic.APIError ? error.headers : undefined)
  const backoff = Math.min(500 * 2 ** (attempts - 1), 8_000) * (1 - Math.random() * 0.25)
  return Math.min(asked ?? backoff, MAX_RETRY_WAIT_MS)
}

/** The wait the server asked for, in ms, when it asked for a positive one. */
export function askedWait(headers: Headers | undefined): number | undefined {
  const ms = Number.parseFloat(headers?.get('retry-after-ms') ?? '')
  if (ms > 0) return ms
  const header = headers?.get('retry-after')
  if (!header) return undefined
  const seconds = Number(header)
  const wait = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - Date.now()
  return wait > 0 ? wait : undefined
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error)
    const done = () => {
      clearTimeout(timer)
      reject(signal.reason as Error)
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', done)
      resolve()
    }, ms)
    signal.addEventListener('abort', done, { once: true })
  })
}
