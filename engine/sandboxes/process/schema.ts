/** JSON Schema of the `process` provider's options in `vigil.config.yaml`. */
import type { JsonSchema } from '../../../plans/types.js'
import { defaultServiceSchema, durationSchema } from '../schema-parts.js'
import type { VersionProbe } from '../version.js'

const command = {
  description: 'The command, split like a shell would (quotes work; pipes and && do not), or an argv array.',
  oneOf: [
    { type: 'string', minLength: 1 },
    { type: 'array', minItems: 1, items: { type: 'string' } },
  ],
}

const service = {
  oneOf: [
    { ...command.oneOf[0], description: 'Shorthand for `{ command }`.' },
    {
      type: 'object',
      additionalProperties: false,
      required: ['command'],
      properties: {
        command,
        cwd: { type: 'string', description: 'Working directory, relative to the sandbox root. @default .' },
        env: {
          type: 'object',
          description: 'Extra environment; values may use {{port}}, {{services.NAME.url}}, {{env.NAME}}.',
          additionalProperties: { type: ['string', 'number', 'boolean'] },
        },
        port: {
          type: 'integer',
          minimum: 1,
          maximum: 65535,
          description: 'A fixed port instead of a free one (it must be free). @default a free loopback port',
        },
        ready: {
          type: 'object',
          description: 'Readiness probe. @default { tcp: true, timeout: 30s }',
          additionalProperties: false,
          properties: {
            http: { type: 'string', description: 'Path probed with GET; ready on 200–399.' },
            tcp: { type: 'boolean', description: 'Ready when the port accepts connections.' },
            status: {
              type: 'integer',
              minimum: 100,
              maximum: 599,
              description: 'Exact status the HTTP probe expects.',
            },
            timeout: { ...durationSchema, description: 'Deadline for readiness. @default 30s' },
          },
        },
        watch: {
          type: 'array',
          minItems: 1,
          items: { type: 'string', minLength: 1 },
          description:
            "Globs of the files this service is built from, relative to the config's folder (`orders/**`, `lib/**`): a warm session (`vigil dev`) restarts the service when one of them changes. @default every file under its cwd",
        },
        dependsOn: {
          type: 'array',
          items: { type: 'string' },
          description:
            'Services that must be ready first, besides those referenced by {{services.NAME.url}}.',
        },
        stopTimeout: {
          ...durationSchema,
          description: 'Grace between SIGTERM and SIGKILL. @default the sandbox stopTimeout',
        },
        prepare: {
          description:
            "A command run in the service's cwd before it starts, once per side, with the service's environment and VIGIL_SIDE (copy a fixture, build); its failure stops the run with its output.",
          oneOf: [
            ...command.oneOf,
            {
              type: 'object',
              additionalProperties: false,
              required: ['command'],
              properties: {
                command,
                timeout: { ...durationSchema, description: 'Deadline of the command. @default 2m' },
              },
            },
          ],
        },
        version: {
          description:
            'How the service tells its version, recorded in the verdict: an HTTP path (`/version`, the first line of the answer), `{ http, pointer }` (a JSON pointer into the answer) or `{ command }` (run in its cwd; the first line printed).',
          oneOf: [
            { type: 'string', pattern: '^/' },
            {
              type: 'object',
              additionalProperties: false,
              required: ['http'],
              properties: {
                http: { type: 'string', pattern: '^/' },
                pointer: { type: 'string', pattern: '^(/.*)?$' },
              },
            },
            { type: 'object', additionalProperties: false, required: ['command'], properties: { command } },
          ],
        },
      },
    },
  ],
}

export const processSchema: JsonSchema = {
  $id: 'https://vigil.dev/schema/sandbox-process.json',
  title: 'process sandbox',
  description: 'A stack of local processes on free loopback ports, like a compose file without containers.',
  type: 'object',
  additionalProperties: false,
  required: ['provider', 'services'],
  properties: {
    provider: { const: 'process' },
    default: defaultServiceSchema,
    services: {
      type: 'object',
      minProperties: 1,
      propertyNames: { pattern: '^[A-Za-z0-9][A-Za-z0-9_-]*$' },
      additionalProperties: service,
    },
    headers: {
      type: 'object',
      description: 'Headers sent with every request to this sandbox.',
      additionalProperties: { type: 'string' },
    },
    stopTimeout: { ...durationSchema, description: 'Grace between SIGTERM and SIGKILL. @default 5s' },
    logLines: { type: 'integer', minimum: 50, description: 'Log lines kept per service. @default 1000' },
  },
}

/** The options as validated by `processSchema`. */
export interface ProcessSandboxOptions {
  provider: 'process'
  /** @default the only service (required when there are several) */
  default?: string
  services: Record<string, string | ProcessServiceOptions>
  headers?: Record<string, string>
  /** @default 5s */
  stopTimeout?: string | number
  /** @default 1000 */
  logLines?: number
}

export interface ProcessServiceOptions {
  command: string | string[]
  /** @default . */
  cwd?: string
  env?: Record<string, string | number | boolean>
  /** @default a free loopback port */
  port?: number
  /** @default { tcp: true, timeout: 30s } */
  ready?: { http?: string; tcp?: boolean; status?: number; timeout?: string | number }
  dependsOn?: string[]
  /** Globs of the service's files, relative to the config's folder. @default every file under `cwd` */
  watch?: string[]
  stopTimeout?: string | number
  /** A command run in the service's cwd before it starts, per side. */
  prepare?: string | string[] | { command: string | string[]; timeout?: string | number }
  /** How the service tells its version. */
  version?: VersionProbe
}
