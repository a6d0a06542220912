/**
 * `{{…}}` placeholders in a service's command and env: `{{port}}`, `{{host}}`, `{{url}}` (the service's
 * own), `{{services.NAME.url|port|host}}` (another service: this makes NAME start first),
 * `{{deps.NAME.url|host|port|prefix}}` (a broker or database of the sandbox: this makes the service wait for it),
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
const DEP_REF = /^deps\.([A-Za-z0-9_-]+)\.(url|port|host|prefix)$/

export interface TemplateScope {
  /** This service's own port, URL and host. */
  self: { port: number; url: string; host: string }
  /** Every service's port, URL and host, by name. */
  services: Readonly<Record<string, { port: number; url: string; host: string }>>
  env: Readonly<Record<string, string | undefined>>
  /** The config's secrets by name, resolved. @default {} */
  secrets?: Readonly<Record<string, string>>
  /** The sandbox's dependencies by name. @default {} */
  deps?: Readonly<Record<string, { url: string; port: number; host: string; prefix: string }>>
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

/** Names of the dependencies a text refers to through `{{deps.NAME.…}}`. */
export function referencedDependencies(text: string): string[] {
  return placeholders(text).flatMap((expr) => DEP_REF.exec(expr)?.[1] ?? [])
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
    const dep = DEP_REF.exec(expr)
    if (dep) {
      const target = scope.deps?.[dep[1]!]
      if (!target) {
        const known = Object.keys(scope.deps ?? {}).sort()
        throw new TemplateError(
          `${whole} refers to an unknown dependency "${dep[1]}"; ${known.length ? `the sandbox has ${known.join(', ')}` : 'the sandbox declares no `dependencies:`'}`,
        )
      }
      return String(target[dep[2] as 'url' | 'port' | 'host' | 'prefix'])
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
      `unknown placeholder ${whole}; use {{port}}, {{url}}, {{host}}, {{services.NAME.url}}, {{services.NAME.port}}, {{deps.NAME.url}}, {{env.NAME}} or {{secrets.NAME}}`,
    )
  })
}
