/**
 * The size of a verdict with a warning repeated on every request (a header that changes each time): as
 * the check reported it, and as the verdict holds it once repeats are merged (engine/findings/repeats.ts),
 * in JSON and in Markdown; and the size of the sample shop's verdict for its field-rename change.
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { finishFindings } from '../../engine/executors/index.js'
import { Redactor } from '../../engine/http/redact.js'
import { runValidation } from '../../engine/run/run.js'
import type { Finding, Verdict } from '../../engine/verdict.js'
import { renderJson } from '../../reporters/json.js'
import { renderMarkdown } from '../../reporters/markdown.js'
import type { Bench } from './harness.js'

const REQUESTS = 2000
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

function headerWarning(i: number): Finding {
  const url = `http://127.0.0.1:40123/items/${i}`
  const body = JSON.stringify({ id: i, name: `item ${i}`, description: 'x'.repeat(1900) })
  return {
    messageId: 'header-changed',
    message: `Header etag changed from "W/\\"${i}a\\"" to "W/\\"${i}b\\"".`,
    severity: 'warning',
    pointer: 'header:etag',
    step: `GET /items/${i}`,
    expected: `W/"${i}a"`,
    actual: `W/"${i}b"`,
    evidence: {
      transport: 'http',
      sandbox: 'candidate',
      summary: [
        { label: 'request', value: `GET ${url} (candidate)` },
        { label: 'response', value: '200 in 3ms' },
        { label: 'baseline', value: '200 in 3ms' },
      ],
      request: { method: 'GET', url, headers: { accept: 'application/json' } },
      response: {
        status: 200,
        headers: { etag: `W/"${i}b"`, 'content-type': 'application/json' },
        durationMs: 3,
      },
      excerpt: { label: 'body', text: body },
      reproduce: `curl -sS -i ${url}`,
      details: { baseline: { status: 200, headers: { etag: `W/"${i}a"` }, body } },
    },
  }
}

function verdictOf(findings: Finding[]): Verdict {
  const checks = { total: 1, passed: 1, failed: 0, errored: 0, skipped: 0, warned: 0 }
  return {
    schemaVersion: 3,
    status: 'pass',
    exitCode: 0,
    startedAt: '2025-01-02T03:04:05.000Z',
    durationMs: 60_000,
    identity: { runId: 'bench', seed: 1 },
    plans: [
      {
        name: 'items-contract',
        title: 'Items keep their contract',
        file: 'plans/items.md',
        blocking: true,
        state: 'passed',
        durationMs: 60_000,
        checks: [
          {
            plan: 'items-contract',
            check: 'every item',
            kind: 'contract',
            location: { file: 'plans/items.md', line: 9 },
            state: 'passed',
            durationMs: 60_000,
            findings,
          },
        ],
      },
    ],
    errors: [],
    summary: { plans: { ...checks }, checks },
    timings: [],
  }
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`

export const bench: Bench = {
  name: 'report size',
  async run(log) {
    const reported = Array.from({ length: REQUESTS }, (_, i) => headerWarning(i))
    const finished = await finishFindings(reported, {
      plan: { name: 'items-contract' } as never,
      check: { name: 'every item' } as never,
      sandboxes: { candidate: { services: {}, logs: () => [] } as never },
      redactor: new Redactor(),
    })
    const before = verdictOf(reported)
    const after = verdictOf(finished)
    const size = (v: Verdict) => ({
      json: Buffer.byteLength(renderJson(v)),
      md: Buffer.byteLength(renderMarkdown(v)),
    })
    const b = size(before)
    const a = size(after)
    log(
      `${REQUESTS} requests, one header warning each: ${finished.length} finding(s) after merging (count ${finished[0]?.repeats?.count})`,
    )
    log(`JSON verdict: ${kb(b.json)} as reported, ${kb(a.json)} merged`)
    log(`Markdown summary: ${kb(b.md)} as reported, ${kb(a.md)} merged`)

    const shop = await runValidation({
      configPath: 'samples/shop/vigil.config.yaml',
      cwd: root,
      patch: 'samples/shop/changes/field-rename.patch',
      planNames: ['orders-contract', 'catalog-contract', 'checkout-flow', 'orders-adversarial'],
    })
    const s = size(shop)
    log(
      `sample shop, field-rename (4 plans, ${shop.summary.checks.total} checks): JSON ${kb(s.json)}, Markdown ${kb(s.md)}`,
    )
    return [
      {
        label: 'repeated warnings: JSON merged / as reported',
        value: a.json / b.json,
        unit: 'x',
        goal: '<= 0.01',
        met: a.json / b.json <= 0.01,
      },
      {
        label: 'repeated warnings: Markdown merged / as reported',
        value: a.md / b.md,
        unit: 'x',
        goal: '<= 0.05',
        met: a.md / b.md <= 0.05,
      },
      {
        label: 'sample shop field-rename: JSON verdict',
        value: s.json / 1024,
        unit: 'KB',
        goal: '<= 100 KB',
        met: s.json <= 100 * 1024,
      },
    ]
  },
}
