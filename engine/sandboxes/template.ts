/**
 * `{{…}}` placeholders in a service's command and env: `{{port}}`, `{{host}}`, `{{url}}` (the service's
 * own), `{{services.NAME.url|port|host}}` (another service: this makes NAME start first),
 * `{{env.NAME}}` (the environment vigil runs in) and `{{secrets.NAME}}` (the config's secrets, so a
 * service can be given the credentials the plans use without writing them twice).
 */
import { VigilError } from '../errors.js'
import { fillPlaceholders, placeholders } from '../template.js'

/** A placeholder of a service's command or env that names nothing known; the caller prefixes the location. */
export class TemplateError extends VigilError {
  constructor(message: string) {
    super('VIGIL_SANDBOX_TEMPLATE', message, { exitCode: 2 })
  }
}

const SERVICE_REF = /^services\.([A-Za-z0-9_.-]+?)\.(url|port|host)$/

export interface TemplateScope {
  /** This service's own port, URL and host. */
  self: { port: number; url: string; host: string }
  /** Every service's port, URL and host, by name. */
  services: Readonly<Record<string, { port: number; url: string; host: string }>>
  env: Readonly<Record<string, string | undefined>>
  /** The config's secrets by name, resolved. @default {} */
  secrets?: Readonly<Record<string, string>>
}

/** Names of the services a text refers to through `{{services.NAME.…}}`. */
export function referencedServices(text: string): string[] {
  const names: string[] = []
  for (const expr of placeholders(text)) {
    const ref = SERVICE_REF.exec(expr)
    if (ref) names.push(ref[1]!)
  }
  return names
}

/** Replaces every placeholder; unknown or unset names throw a TemplateError naming the placeholder. */
export function renderTemplate(text: string, scope: TemplateScope): string {
  return fillPlaceholders(text, (expr, whole) => {
    if (expr === 'port') return String(scope.self.port)
    if (expr === 'url') return scope.self.url
    if (expr === 'host') return scope.self.host
    const ref = SERVICE_REF.exec(expr)
    if (ref) {
      const target = scope.services[ref[1]!]
      if (!target) throw new TemplateError(`${whole} refers to an unknown service "${ref[1]}"`)
      return String(target[ref[2] as 'url' | 'port' | 'host'])
    }
    if (expr.startsWith('env.')) {
      const value = scope.env[expr.slice(4)]
      if (value === undefined)
        throw new TemplateError(`${whole}: environment variable ${expr.slice(4)} is not set`)
      return value
    }
    if (expr.startsWith('secrets.')) {
      const value = scope.secrets?.[expr.slice(8)]
      if (value === undefined)
        throw new TemplateError(
          `${whole}: no secret "${expr.slice(8)}" in the config's secrets, or its variable is not set`,
        )
      return value
    }
    throw new TemplateError(
      `unknown placeholder ${whole}; use {{port}}, {{url}}, {{host}}, {{services.NAME.url}}, {{services.NAME.port}}, {{env.NAME}} or {{secrets.NAME}}`,
    )
  })
}
