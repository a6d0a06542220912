/**
 * The HTTP client's network-level error, apart from the client itself so that code which only recognises
 * it (the steps' runners, their schemas' modules) does not load undici.
 */
import type { EvidenceWindow, RecordedRequest } from '../verdict.js'
import { VigilError } from '../errors.js'

/** Network-level failure (refused, reset, timeout): no HTTP response exists. */
export class HttpNetworkError extends VigilError {
  constructor(
    message: string,
    readonly request: RecordedRequest,
    readonly curl: string,
    options?: { cause?: unknown },
    /** When it was sent and given up on. */
    readonly window?: EvidenceWindow,
  ) {
    super('VIGIL_HTTP_NETWORK', message, { ...options, exitCode: 3 })
  }
}
