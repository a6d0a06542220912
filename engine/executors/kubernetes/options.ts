/** The `executor:` section of vigil.config.yaml for `kind: kubernetes`: how checks run as Jobs. */
import { validatorFor } from '../../../plans/ajv.js'
import { translateErrors } from '../../../plans/schema-errors.js'
import { parseDuration } from '../../../plans/duration.js'
import { ConfigError } from '../../errors.js'

/** The options as written in `executor:` (besides `kind`). */
export interface JobExecutorOptions {
  /** vigil's own image: it holds vigil and this repository's plans. Required. */
  image: string
  /** How vigil is started in the image. @default ['vigil'] */
  command?: string[]
  /** The config's folder inside the image (plan roots resolve against it). @default /workspace */
  workdir?: string
  /** `activeDeadlineSeconds` of each Job. @default the run's check timeout × checks + 60s */
  deadline?: string | number
  /** `ttlSecondsAfterFinished` of each Job, in case vigil dies before deleting it. @default 10m */
  ttl?: string | number
  /** Service account of the Jobs' pods. @default the namespace's default */
  serviceAccount?: string
  /** `imagePullPolicy`. @default IfNotPresent */
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never'
  /** Jobs running at once. @default 4 */
  parallelism?: number
}

export interface ResolvedJobOptions {
  image: string
  command: string[]
  workdir: string
  deadlineMs?: number
  ttlMs: number
  serviceAccount?: string
  imagePullPolicy: 'Always' | 'IfNotPresent' | 'Never'
  parallelism: number
}

const duration = {
  anyOf: [
    { type: 'number', minimum: 1 },
    { type: 'string', pattern: '^\\s*(\\d+(\\.\\d+)?(ms|s|m|h))+\\s*$' },
  ],
}

export const jobExecutorSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['kind', 'image'],
  properties: {
    kind: { const: 'kubernetes' },
    image: { type: 'string', minLength: 1 },
    command: { type: 'array', minItems: 1, items: { type: 'string' } },
    workdir: { type: 'string', pattern: '^/' },
    deadline: duration,
    ttl: duration,
    serviceAccount: { type: 'string' },
    imagePullPolicy: { enum: ['Always', 'IfNotPresent', 'Never'] },
    parallelism: { type: 'integer', minimum: 1, maximum: 100 },
  },
}

/** Validates the `executor` section; `where` is the config file, for messages. */
export function resolveJobOptions(raw: Record<string, unknown>, where: string): ResolvedJobOptions {
  const section: Record<string, unknown> = { ...raw, kind: 'kubernetes' }
  const validate = validatorFor(jobExecutorSchema)
  const valid: boolean = validate(section)
  if (!valid) {
    const lines = translateErrors(validate.errors ?? [], 'config', '/executor').map(
      (issue) => `${where} ${issue.message}`,
    )
    throw new ConfigError(
      lines.join('\n') +
        (section.image === undefined ? '\n(the kubernetes executor runs vigil from `executor.image`)' : ''),
    )
  }
  const o = section as unknown as JobExecutorOptions
  return {
    image: o.image,
    command: o.command ?? ['vigil'],
    workdir: o.workdir ?? '/workspace',
    ...(o.deadline !== undefined ? { deadlineMs: parseDuration(o.deadline) } : {}),
    ttlMs: parseDuration(o.ttl ?? '10m'),
    ...(o.serviceAccount ? { serviceAccount: o.serviceAccount } : {}),
    imagePullPolicy: o.imagePullPolicy ?? 'IfNotPresent',
    parallelism: o.parallelism ?? 4,
  }
}
