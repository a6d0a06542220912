/** What every dependency kind shares: schema fragments, a given server's URL, names on a shared server. */
import { ConfigError } from '../errors.js'
import { isAllowedHost } from '../clients/hosts.js'
import { durationSchema } from '../sandboxes/schema-parts.js'
import type { DependencyStartContext } from '../api/dependency.js'

/** Schema properties every dependency kind accepts. */
export function commonProperties(kind: string, schemes: readonly string[]): Record<string, unknown> {
  return {
    kind: { const: kind },
    url: {
      type: 'string',
      pattern: `^(${schemes.join('|')})://`,
      errorMessage: `must be a URL starting with ${schemes.map((s) => `${s}://`).join(' or ')}`,
      description:
        'A running server to use instead of starting one; each sandbox is kept apart on it (see the README).',
    },
    binary: { type: 'string', minLength: 1, description: 'The server binary. @default found on PATH' },
    timeout: { ...durationSchema, description: 'Deadline for the server to be ready. @default 30s' },
  }
}

/** Options every dependency kind accepts. */
export interface CommonOptions {
  kind: string
  url?: string
  binary?: string
  timeout?: string | number
}

/** The `url:` of a shared server, checked: a loopback host, or one of `allowHosts`. */
export function sharedUrl(options: CommonOptions, ctx: DependencyStartContext, defaultPort: number): URL {
  const url = new URL(options.url!)
  if (!isAllowedHost(url, ctx.allowHosts)) {
    throw new ConfigError(
      `${ctx.where(['url'])}dependencies.${ctx.name}.url: host ${url.hostname} is not loopback; list it in allowHosts of vigil.config.yaml to use it`,
    )
  }
  if (!url.port) url.port = String(defaultPort)
  return url
}

/**
 * A name unique to this run and side on a shared server, made of `[a-z0-9]` and `separator`:
 * `vigil_1a2b3c4d_candidate`. Two runs, or two sides of one run, never share one.
 */
export function sandboxScope(ctx: DependencyStartContext, separator: string): string {
  const run =
    ctx.runId
      .replace(/[^A-Za-z0-9]/g, '')
      .slice(0, 12)
      .toLowerCase() || 'run'
  return ['vigil', run, ctx.sandbox].join(separator)
}

/** A stopper that runs once and never throws. */
export function once(stop: () => Promise<void>): () => Promise<void> {
  let stopping: Promise<void> | undefined
  return () => (stopping ??= stop().catch(() => undefined))
}
