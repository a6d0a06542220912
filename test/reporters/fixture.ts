/** A fixed verdict with every case the reporters must render, and helpers to build variants of it. */
import type { CheckResult, PlanResult, Verdict } from '../../engine/verdict.js'

const loc = (file: string, line: number) => ({ file, line, column: 1 })

export const passedCheck: CheckResult = {
  plan: 'catalog-browse',
  check: 'product matches its schema',
  kind: 'contract',
  location: loc('plans/catalog-browse.md', 12),
  state: 'passed',
  durationMs: 42,
  findings: [
    {
      messageId: 'noise',
      message: 'Field /updatedAt differs between two baseline calls; ignored as noise.',
      severity: 'info',
      pointer: '/updatedAt',
    },
  ],
}

export const failedCheck: CheckResult = {
  plan: 'checkout-order',
  check: 'create order',
  kind: 'e2e',
  location: loc('plans/checkout-order.md', 20),
  state: 'failed',
  durationMs: 1234,
  findings: [
    {
      messageId: 'status',
      message: 'Expected status 201, got 500.',
      severity: 'error',
      step: 'create order',
      expected: 201,
      actual: 500,
      evidence: {
        transport: 'http',
        sandbox: 'candidate',
        summary: [
          { label: 'request', value: 'POST http://127.0.0.1:4001/orders (candidate)' },
          { label: 'response', value: '500 in 12ms' },
        ],
        request: {
          method: 'POST',
          url: 'http://127.0.0.1:4001/orders',
          headers: { authorization: 'Bearer [REDACTED]', 'content-type': 'application/json' },
          body: '{"items":[{"sku":"tea","quantity":2}]}',
        },
        response: {
          status: 500,
          headers: { 'content-type': 'application/json' },
          durationMs: 12,
        },
        excerpt: {
          label: 'body',
          text: '{"error":"TypeError: cannot read \'price\' of undefined"}\nat <anonymous> & more | piped',
        },
        reproduce:
          "curl -sS -i -X POST http://127.0.0.1:4001/orders -H 'authorization: Bearer [REDACTED]' --data-binary '{\"items\":[]}'",
      },
    },
    {
      messageId: 'field-removed',
      message: 'Field /totalCents was removed (breaking).',
      severity: 'error',
      pointer: '/totalCents',
      expected: { type: 'integer' },
      step: 'read it back',
    },
    { message: 'Response took 900ms; the baseline took 40ms.', severity: 'warning', step: 'read it back' },
  ],
}

export const erroredCheck: CheckResult = {
  plan: 'payments-load',
  check: 'authorise p95',
  kind: 'load',
  location: loc('plans/payments-load.md', 8),
  state: 'errored',
  durationMs: 310,
  error: {
    name: 'HttpNetworkError',
    code: 'ECONNREFUSED',
    message: 'connect ECONNREFUSED 127.0.0.1:4003 <payments>',
    stack:
      'HttpNetworkError: connect ECONNREFUSED\n    at connect (engine/http/client.ts:10:5)\n    at run (engine/checks/load.ts:40:3)',
    logTail: ['payments listening on 4003', 'FATAL: out of memory \u0007 bell', 'exited with code 134'],
  },
  findings: [],
}

export const skippedCheck: CheckResult = {
  plan: 'payments-load',
  check: 'refund regression',
  kind: 'load',
  location: loc('plans/payments-load.md', 30),
  state: 'skipped',
  note: 'requires a baseline; the run has none (--no-baseline)',
}

export const warnedCheck: CheckResult = {
  plan: 'search-ranking',
  check: 'top result is exact match',
  kind: 'contract',
  location: loc('plans/search-ranking.md', 15),
  state: 'failed',
  durationMs: 88,
  findings: [
    {
      messageId: 'equals',
      message: 'Expected /results/0/sku to equal "tea", got "green-tea".',
      severity: 'error',
      pointer: '/results/0/sku',
      expected: 'tea',
      actual: 'green-tea',
    },
  ],
}

const plan = (p: Omit<PlanResult, 'file'> & { file?: string }): PlanResult => ({
  file: `plans/${p.name}.md`,
  ...p,
})

/** Plans are deliberately not in name order: renderers sort them. */
export const verdict: Verdict = {
  schemaVersion: 3,
  status: 'error',
  exitCode: 2,
  startedAt: '2025-01-02T03:04:05.000Z',
  durationMs: 5123,
  identity: { runId: 'run-20250102-0001', commit: 'abc1234', base: 'main', requester: 'ci', seed: 42 },
  selection: {
    selector: 'hybrid',
    model: 'claude-sonnet-4-5',
    degraded: true,
    degradedReason: 'LLM timed out; the rules selector decided',
    diffHash: 'sha256:ffee',
    plans: [
      { name: 'catalog-browse', source: 'paths', reason: 'diff touches services/catalog/**' },
      { name: 'checkout-order', source: 'llm', reason: 'changes the | order total calculation' },
      { name: 'payments-load', source: 'rules', reason: 'payments changed' },
      { name: 'search-ranking', source: 'always', reason: 'always runs' },
    ],
  },
  plans: [
    plan({
      name: 'payments-load',
      title: 'Payments under load',
      blocking: true,
      state: 'errored',
      durationMs: 400,
      checks: [erroredCheck, skippedCheck],
    }),
    plan({
      name: 'checkout-order',
      title: 'Checkout creates an order',
      blocking: true,
      state: 'failed',
      durationMs: 1300,
      checks: [failedCheck],
    }),
    plan({
      name: 'catalog-browse',
      title: 'Catalog browsing',
      blocking: true,
      state: 'passed',
      durationMs: 60,
      checks: [passedCheck],
    }),
    plan({
      name: 'search-ranking',
      title: 'Search ranking',
      blocking: false,
      state: 'warned',
      durationMs: 90,
      checks: [warnedCheck],
    }),
  ],
  errors: [
    {
      code: 'VIGIL_PLAN_INVALID',
      message: 'contract: unknown property "expec"; expected one of request, expect, compare',
      location: { file: 'plans/broken.md', line: 14, column: 3 },
    },
    {
      code: 'VIGIL_SANDBOX',
      message: 'service payments exited before it was ready',
      logTail: ['starting payments', 'Error: EADDRINUSE'],
    },
  ],
  summary: {
    plans: { total: 4, passed: 1, failed: 1, errored: 1, skipped: 0, warned: 1 },
    checks: { total: 5, passed: 1, failed: 1, errored: 1, skipped: 1, warned: 1 },
  },
  timings: [
    { phase: 'selection', durationMs: 120 },
    { phase: 'sandbox:candidate', durationMs: 2100 },
    { phase: 'sandbox:baseline', durationMs: 1900 },
    { phase: 'plan:checkout-order', durationMs: 1300 },
  ],
  resources: {
    intervalMs: 250,
    services: [
      {
        side: 'candidate',
        service: 'orders',
        peak: { rss: 81_200_000, fds: 31, threads: 11 },
        cpuMs: 2400,
        samples: [
          { atMs: 0, rss: 60_100_000, cpuMs: 900, fds: 22, threads: 11 },
          { atMs: 250, rss: 81_200_000, cpuMs: 3300, fds: 31, threads: 11 },
        ],
      },
      {
        side: 'baseline',
        service: 'orders',
        peak: { rss: 58_000_000, fds: 24, threads: 11 },
        cpuMs: 1100,
        samples: [{ atMs: 0, rss: 58_000_000, cpuMs: 800, fds: 24, threads: 11 }],
      },
      {
        side: 'candidate',
        service: 'catalog',
        peak: { rss: 45_000_000, fds: 19, threads: 7 },
        cpuMs: 300,
        samples: [{ atMs: 0, rss: 45_000_000, cpuMs: 500, fds: 19, threads: 7 }],
      },
      {
        side: 'candidate',
        service: 'orders',
        copy: { plan: 'checkout-order', check: 'create order' },
        peak: { rss: 70_500_000, fds: 27, threads: 11 },
        cpuMs: 1200,
        samples: [
          { atMs: 500, rss: 52_000_000, cpuMs: 300, fds: 20, threads: 11 },
          { atMs: 750, rss: 70_500_000, cpuMs: 1500, fds: 27, threads: 11 },
        ],
      },
      {
        side: 'baseline',
        service: 'orders',
        copy: { plan: 'checkout-order', check: 'create order' },
        peak: { rss: 55_000_000, fds: 23, threads: 11 },
        cpuMs: 900,
        samples: [
          { atMs: 1000, rss: 50_000_000, cpuMs: 300, fds: 20, threads: 11 },
          { atMs: 1250, rss: 55_000_000, cpuMs: 1200, fds: 23, threads: 11 },
        ],
      },
      {
        side: 'candidate',
        service: 'orders',
        copy: { plan: 'checkout-order', check: 'create order', nth: 2 },
        peak: { rss: 49_000_000, fds: 21, threads: 11 },
        cpuMs: 400,
        samples: [{ atMs: 1500, rss: 49_000_000, cpuMs: 700, fds: 21, threads: 11 }],
      },
    ],
  },
}

/** A deep copy frozen all the way down, so a renderer that mutates its input throws. */
export function frozen<T>(value: T): T {
  const copy = structuredClone(value)
  const freeze = (v: unknown): void => {
    if (v && typeof v === 'object') {
      Object.freeze(v)
      for (const child of Object.values(v)) freeze(child)
    }
  }
  freeze(copy)
  return copy
}
