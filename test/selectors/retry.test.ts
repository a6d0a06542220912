/** The retry policy's arithmetic: which errors are retried and how long to wait. */
import Anthropic from '@anthropic-ai/sdk'
import { describe, expect, it } from 'vitest'
import { MAX_RETRY_WAIT_MS, askedWait, retryWait, retryable } from '../../selectors/retry.js'

const status = (code: number, headers: Record<string, string> = {}) =>
  Anthropic.APIError.generate(
    code,
    { type: 'error', error: { type: 'x', message: 'm' } },
    undefined,
    new Headers(headers),
  )

describe('retry policy', () => {
  it('reads the wait from retry-after-ms, retry-after seconds or an HTTP date, capped at 10 s', () => {
    const h = (headers: Record<string, string>) => new Headers(headers)
    expect(askedWait(h({ 'retry-after-ms': '250', 'retry-after': '9' }))).toBe(250)
    expect(askedWait(h({ 'retry-after': '45' }))).toBe(45_000)
    expect(askedWait(h({ 'retry-after': '0' }))).toBeUndefined()
    expect(askedWait(h({ 'retry-after': 'soon' }))).toBeUndefined()
    const inAMinute = new Date(Date.now() + 60_000).toUTCString()
    expect(askedWait(h({ 'retry-after': inAMinute }))).toBeGreaterThan(50_000)
    expect(askedWait(undefined)).toBeUndefined()
    // Backoff without a header: 0.5 s, 1 s, 2 s… with up to 25 % jitter, never above the cap.
    expect(retryWait(new Error('x'), 1)).toBeGreaterThan(370)
    expect(retryWait(new Error('x'), 1)).toBeLessThanOrEqual(500)
    expect(retryWait(new Error('x'), 10)).toBeLessThanOrEqual(MAX_RETRY_WAIT_MS)
    expect(retryable(new Error('x'))).toBe(false)
  })

  it('retries 408, 409, 429, 5xx and network failures; never 401 or 403; obeys x-should-retry otherwise', () => {
    for (const code of [408, 409, 429, 500, 502, 503, 529])
      expect(retryable(status(code)), `${code}`).toBe(true)
    for (const code of [400, 401, 403, 404, 413, 422]) expect(retryable(status(code)), `${code}`).toBe(false)
    expect(retryable(status(401, { 'x-should-retry': 'true' }))).toBe(false)
    expect(retryable(status(403, { 'x-should-retry': 'true' }))).toBe(false)
    expect(retryable(status(400, { 'x-should-retry': 'true' }))).toBe(true)
    expect(retryable(status(503, { 'x-should-retry': 'false' }))).toBe(false)
    expect(retryable(new Anthropic.APIConnectionError({ message: 'refused' }))).toBe(true)
    expect(retryable(new Anthropic.APIConnectionTimeoutError())).toBe(true)
    expect(retryable(new Anthropic.APIUserAbortError())).toBe(false)
    expect(retryable(new SyntaxError('Unexpected end of JSON input'))).toBe(false)
  })

  it('caps any wait the server asks for at 10 s', () => {
    expect(MAX_RETRY_WAIT_MS).toBe(10_000)
    expect(retryWait(status(429, { 'retry-after': '45' }), 1)).toBe(10_000)
    expect(retryWait(status(429, { 'retry-after-ms': '3000' }), 1)).toBe(3000)
  })
})
