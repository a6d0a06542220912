/**
 * Crash attribution. When a request gets no answer at all (not a timeout), the service is asked whether it
 * is still there; if nothing listens any more it died, and the case in flight that started first is named
 * as the one that killed it (with those in flight beside it). Nothing more is sent into a dead service: the
 * requests after it are counted, not each reported as its own "no response".
 */
import type { CheckContext } from '../../api/kind.js'
import { serviceUrl, type Sandbox } from '../../api/sandbox.js'
import { HttpNetworkError } from '../../http/client.js'
import type { Case } from './cases.js'
import type { AdversarialParams } from './params.js'
import { timedOut, type Outcome } from './session.js'

export interface Crash {
  /** The service's name ('' for the block's default). */
  service: string
  /** The case that was in flight first when it died, and its outcome. */
  by: Outcome
  /** Other cases that were in flight then. */
  alongside: Case[]
  /** Requests not sent (or whose refusal was dropped) after it died. */
  skipped: number
}

interface Flight {
  c: Case
  at: number
  outcome?: Outcome
}

const serviceOf = (c: Case) => c.target.service ?? ''

export class Deaths {
  private next = 0
  private readonly flights = new Map<number, Flight>()
  private readonly dead = new Map<string, Crash>()
  private readonly checks = new Map<string, Promise<boolean>>()

  constructor(
    private readonly ctx: CheckContext<AdversarialParams, 'http'>,
    private readonly sandbox: Sandbox,
    private readonly pingTimeoutMs: number,
  ) {}

  /** True (and counted) when the case's service died: do not send it. */
  skip(c: Case): boolean {
    const crash = this.dead.get(serviceOf(c))
    if (crash) crash.skipped++
    return crash !== undefined
  }

  started(c: Case): number {
    const token = this.next++
    this.flights.set(token, { c, at: performance.now() })
    return token
  }

  /** Records a request's end; true when its outcome is only a symptom of a known death (drop it). */
  async settled(token: number, outcome: Outcome): Promise<boolean> {
    const flight = this.flights.get(token)!
    flight.outcome = outcome
    if (outcome.exchange || timedOut(outcome) || !outcome.error) {
      this.flights.delete(token)
      return false
    }
    const service = serviceOf(outcome.case)
    const known = this.dead.get(service)
    if (!known && !(await this.gone(service))) {
      this.flights.delete(token)
      return false
    }
    const crash = this.dead.get(service) ?? this.declare(service)
    const symptom = crash.by !== outcome
    if (symptom) crash.skipped++
    this.flights.delete(token)
    return symptom
  }

  crashes(): Crash[] {
    return [...this.dead.values()]
  }

  /** The service no longer takes connections (a second, shared check per service). */
  private gone(service: string): Promise<boolean> {
    let check = this.checks.get(service)
    if (!check) {
      check = this.ctx.clients.http
        .request({
          method: 'GET',
          url: serviceUrl(this.sandbox, service || this.ctx.params.service, '/'),
          headers: { ...this.sandbox.headers },
          timeoutMs: this.pingTimeoutMs,
          signal: this.ctx.signal,
        })
        .then(
          () => false,
          (error: unknown) => {
            if (!(error instanceof HttpNetworkError) || this.ctx.signal.aborted) throw error
            return !/TIMEOUT|timed? ?out/i.test(error.message)
          },
        )
        .finally(() => this.checks.delete(service))
      this.checks.set(service, check)
    }
    return check
  }

  private declare(service: string): Crash {
    const broken = [...this.flights.values()]
      .filter((f) => serviceOf(f.c) === service && f.outcome && !f.outcome.exchange)
      .sort((a, b) => a.at - b.at)
    const [first, ...rest] = broken
    const crash: Crash = {
      service,
      by: first!.outcome!,
      // Those cut off mid-answer were in flight with it; a refused connection came after the death.
      alongside: rest.filter((f) => !/ECONNREFUSED/.test(f.outcome!.error?.message ?? '')).map((f) => f.c),
      skipped: 0,
    }
    this.dead.set(service, crash)
    return crash
  }
}
