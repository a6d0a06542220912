/** Plan objects and diffs built by hand for selector tests (the loader is tested in test/plans). */
import type { Plan } from '../../plans/types.js'
import type { SelectorOptions } from '../../selectors/types.js'
import { toolReply } from '../support/messages-api.js'
import type { MessagesRequestBody, ScriptedReply } from '../support/messages-api.js'

export function plan(name: string, fields: Partial<Omit<Plan, 'name'>> = {}): Plan {
  return {
    name,
    title: fields.title ?? name.replace(/-/g, ' '),
    selectionHint: fields.selectionHint ?? '',
    paths: fields.paths ?? [],
    tags: fields.tags ?? [],
    always: fields.always ?? false,
    blocking: fields.blocking ?? true,
    vars: {},
    file: `plans/${name}.md`,
    dir: 'plans',
    checks: [],
    frontmatter: {},
    ...fields,
  }
}

/** A small shop-like catalog. */
export const catalog: Plan[] = [
  plan('catalog-contract', {
    title: 'Catalog responses match the OpenAPI description',
    selectionHint: 'Product listing and product lookup responses of the catalog service, prices and SKUs.',
    paths: ['catalog/**', 'openapi/catalog.yaml'],
    tags: ['catalog', 'contract'],
  }),
  plan('checkout-load', {
    title: 'Checkout holds its latency under load',
    selectionHint:
      'Latency and error rate of order creation under load; pick for performance, caching, pools.',
    tags: ['load', 'performance'],
  }),
  plan('orders-contract', {
    title: 'Orders responses match the OpenAPI description',
    selectionHint: 'Order creation and order lookup payloads: totals, items, currency, status codes.',
    paths: ['orders/**'],
    tags: ['orders', 'contract'],
  }),
  plan('smoke', { title: 'Every service answers its health check', always: true }),
]

export const options: SelectorOptions = {
  threshold: 0.2,
  model: 'claude-test',
  timeoutMs: 5_000,
  maxRetries: 2,
  deadlineMs: 20_000,
  diffBudgetTokens: 12_000,
  batchSize: 150,
  concurrency: 4,
  maxTokens: 1024,
}

/** A git diff modifying one file with one hunk. */
export function modify(file: string, removed: string[], added: string[], context = ['  // context']): string {
  const body = [...context.map((l) => ` ${l}`), ...removed.map((l) => `-${l}`), ...added.map((l) => `+${l}`)]
  return (
    `diff --git a/${file} b/${file}\nindex 1111111..2222222 100644\n--- a/${file}\n+++ b/${file}\n` +
    `@@ -1,${context.length + removed.length} +1,${context.length + added.length} @@\n${body.join('\n')}\n`
  )
}

/** The plan names of the catalog block a `select_plans` request carries (its second system block). */
export function catalogOf(request: MessagesRequestBody | undefined): string[] {
  const system = request?.system as Array<{ text: string }> | undefined
  const lines = (system?.[1]?.text ?? '').split('\n').slice(1, -1)
  return lines.map((line) => (JSON.parse(line) as { name: string }).name)
}

/**
 * A complete answer, whatever batch it is asked about: the plans named in `picks` (when in the batch's
 * catalog) are selected with their reason, every other plan of the batch is rejected.
 */
export function answer(picks: Record<string, string> = {}): ScriptedReply {
  return (request) => {
    const names = catalogOf(request)
    return toolReply({
      selected: names.filter((n) => n in picks).map((name) => ({ name, reason: picks[name]! })),
      rejected: names
        .filter((n) => !(n in picks))
        .map((name) => ({ name, reason: 'the change cannot affect it' })),
    })
  }
}
