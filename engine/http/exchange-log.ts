/**
 * What a client sent and got lately, for a check that must tell its own effects from those of the checks
 * running beside it (the event kind attributes a broker message to the request whose identifiers it carries).
 * Only what the client answered is kept, in a short ring; requests still in flight are counted, so that a
 * reader can wait until those sent before a moment have their answers.
 */
import type { HttpExchange } from './client.js'

/** How many answered exchanges are kept. */
const KEPT = 4096
/** Responses larger than this are not kept (identifiers live in small bodies; a large one would be held). */
const MAX_KEPT_BODY = 16 * 1024

export interface LoggedExchange {
  exchange: HttpExchange
  /** `performance.now()` when it was sent and when it was answered. */
  sentAt: number
  answeredAt: number
}

export class ExchangeLog {
  private readonly ring: LoggedExchange[] = []
  private next = 0
  private readonly flying = new Map<number, number>()
  private sequence = 0
  private waiters: Array<() => void> = []

  /** A request is being sent: call the returned function once it is answered (or has failed). */
  begin(): (answered?: HttpExchange) => void {
    const id = ++this.sequence
    const sentAt = performance.now()
    this.flying.set(id, sentAt)
    return (answered) => {
      if (!this.flying.delete(id)) return
      if (answered && answered.response.body.length <= MAX_KEPT_BODY) {
        const entry = { exchange: answered, sentAt, answeredAt: performance.now() }
        if (this.ring.length < KEPT) this.ring.push(entry)
        else this.ring[this.next] = entry
        this.next = (this.next + 1) % KEPT
      }
      const waiting = this.waiters
      this.waiters = []
      waiting.forEach((wake) => wake())
    }
  }

  /** True when no request is in flight. */
  idle(): boolean {
    return this.flying.size === 0
  }

  /** The exchanges answered at or after `since` (`performance.now()` time), oldest first as far as kept. */
  answeredSince(since: number): LoggedExchange[] {
    // The ring is in answering order from its next slot on (its oldest entry once it is full).
    const ordered = [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)]
    return ordered.filter((e) => e.answeredAt >= since)
  }

  /** True when every answered exchange since `since` is still kept (the ring has not wrapped past it). */
  covers(since: number): boolean {
    // Full, the ring's next slot holds its oldest entry: nothing answered since `since` was overwritten when
    // that entry is older.
    return this.ring.length < KEPT || this.ring[this.next]!.answeredAt < since
  }

  /**
   * Resolves true once every request sent before `before` has been answered or has failed, false when
   * `timeoutMs` passes first (or `signal` aborts).
   */
  async settled(before: number, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    const until = performance.now() + timeoutMs
    for (;;) {
      if (![...this.flying.values()].some((sentAt) => sentAt < before)) return true
      const left = until - performance.now()
      if (left <= 0 || signal?.aborted) return false
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        this.waiters.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
  }
}
