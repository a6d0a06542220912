/**
 * `url` provider: services that already run somewhere. Only loopback hosts, or hosts listed in the
 * config's `allowHosts`, may be used, since checks send load and adversarial traffic there.
 */
import type { JsonSchema } from '../../../plans/types.js'
import { defaultServiceSchema } from '../schema-parts.js'
import { ConfigError } from '../../errors.js'
import { isAllowedHost } from '../../clients/hosts.js'
import { chooseDefaultService, createSandbox } from '../sandbox.js'
import { defineSandboxProvider } from '../../api/sandbox.js'

const httpUrl = {
  type: 'string',
  pattern: '^https?://',
  description: 'Base URL, e.g. http://127.0.0.1:8080',
  'x-pattern': 'must be an http:// or https:// URL',
}

export const urlSchema: JsonSchema = {
  $id: 'https://vigil.dev/schema/sandbox-url.json',
  title: 'url sandbox',
  description: 'Services that already run; only loopback or allowHosts hosts.',
  type: 'object',
  additionalProperties: false,
  required: ['provider', 'services'],
  properties: {
    provider: { const: 'url' },
    default: defaultServiceSchema,
    services: {
      type: 'object',
      minProperties: 1,
      propertyNames: { pattern: '^[A-Za-z0-9][A-Za-z0-9_-]*$' },
      additionalProperties: {
        oneOf: [
          httpUrl,
          { type: 'object', additionalProperties: false, required: ['url'], properties: { url: httpUrl } },
        ],
      },
    },
    headers: {
      type: 'object',
      description: 'Headers sent with every request to this sandbox (e.g. a routing key).',
      additionalProperties: { type: 'string' },
    },
  },
}

export interface UrlSandboxOptions {
  provider: 'url'
  /** @default the only service (required when there are several) */
  default?: string
  services: Record<string, string | { url: string }>
  headers?: Record<string, string>
}

export default defineSandboxProvider<UrlSandboxOptions>({
  schema: urlSchema,
  async start(options, ctx) {
    const where = (keyPath: string[]): string => ctx.where?.(keyPath) ?? ''
    const names = Object.keys(options.services).sort()
    const services: Record<string, string> = {}
    for (const name of names) {
      const entry = options.services[name]!
      const raw = typeof entry === 'string' ? entry : entry.url
      const key = `sandbox.services.${name}`
      let url: URL
      try {
        url = new URL(raw)
      } catch {
        throw new ConfigError(`${where(['services', name])}${key}: ${JSON.stringify(raw)} is not a valid URL`)
      }
      if (!isAllowedHost(url, ctx.allowHosts)) {
        throw new ConfigError(
          `${where(['services', name])}${key}: host ${url.host} is neither loopback nor in allowHosts; ` +
            `checks send load and adversarial traffic to sandboxes, so add it to \`allowHosts\` only if that is safe`,
        )
      }
      if (url.search || url.hash) {
        throw new ConfigError(`${where(['services', name])}${key}: a base URL has no query or fragment`)
      }
      services[name] = url.href.replace(/\/+$/, '')
    }
    const defaultService = chooseDefaultService(options.default, names, where)
    ctx.log(`${ctx.name} sandbox: ${names.map((n) => `${n}=${services[n]}`).join(', ')}`)
    // What ran is not vigil's to know: the identity records where each service was reached.
    const build = Object.fromEntries(names.map((n) => [n, { url: services[n]! }]))
    return createSandbox({ name: ctx.name, services, defaultService, headers: options.headers, build })
  },
})
