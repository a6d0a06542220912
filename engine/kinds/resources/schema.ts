/** The resources block: its parameter types, its JSON Schema, and sizes such as `300MB`. */
import type { JsonSchema } from '../../../plans/types.js'
import { requestSchema, stringMapSchema, type RequestInput } from '../../api/vocabulary.js'

export interface ResourceLimits {
  /** Peak resident memory, e.g. `300MB`. */
  rss?: string | number
  /** Peak open file descriptors. */
  fds?: number
  /** Peak threads. */
  threads?: number
  /** CPU time the traffic cost, e.g. `5s`. */
  cpu?: string | number
}

export interface ResourcesParams {
  /** @default the sandbox's default service */
  service?: string
  /** The request repeated; `{{index}}` is its number. */
  request: RequestInput
  headers?: Record<string, string>
  /** @default 2000 */
  requests?: number
  /** Requests in flight at once. @default 4 */
  concurrency?: number
  /** Absolute limits on the candidate. */
  limits?: ResourceLimits
  /** Candidate over baseline under the same traffic: peak RSS, CPU time, peak descriptors and threads. */
  relative?: { rss?: number; cpu?: number; fds?: number; threads?: number }
  /**
   * Largest RSS growth per 1000 requests (the leak slope), e.g. `2MB`: beyond the baseline's slope under the
   * same traffic when the run has a baseline, absolute without one.
   */
  leak?: string | number
}

const size = {
  anyOf: [
    { type: 'number', minimum: 0 },
    { type: 'string', pattern: '^\\s*\\d+(\\.\\d+)?\\s*(B|KB|MB|GB|KiB|MiB|GiB)\\s*$' },
  ],
  description: 'bytes, or a size such as 300MB, 512KiB',
}
const duration = { type: ['string', 'number'], description: 'A duration like 500ms, 2s, or milliseconds' }
const ratio = { type: 'number', exclusiveMinimum: 0 }

export const resourcesSchema: JsonSchema = {
  title: 'resources check',
  description:
    'RSS, CPU time, file descriptors and threads of a service under repeated requests: absolute limits, limits relative to the baseline, and a leak slope.',
  type: 'object',
  required: ['request'],
  additionalProperties: false,
  anyOf: [{ required: ['limits'] }, { required: ['relative'] }, { required: ['leak'] }],
  properties: {
    service: { type: 'string', minLength: 1 },
    request: requestSchema,
    headers: stringMapSchema,
    requests: { type: 'integer', minimum: 100, maximum: 1_000_000 },
    concurrency: { type: 'integer', minimum: 1, maximum: 256 },
    limits: {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      properties: {
        rss: size,
        fds: { type: 'integer', minimum: 1 },
        threads: { type: 'integer', minimum: 1 },
        cpu: duration,
      },
    },
    relative: {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      properties: { rss: ratio, cpu: ratio, fds: ratio, threads: ratio },
    },
    leak: size,
  },
}

const UNITS: Record<string, number> = {
  B: 1,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  KIB: 1024,
  MIB: 1024 ** 2,
  GIB: 1024 ** 3,
}

/** `300MB` → 300000000; a number is bytes. */
export function parseSize(value: string | number): number {
  if (typeof value === 'number') return value
  const match = /^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]+)\s*$/.exec(value)
  const unit = match ? UNITS[match[2]!.toUpperCase()] : undefined
  if (!match || unit === undefined) throw new Error(`"${value}" is not a size such as 300MB`)
  return Number(match[1]) * unit
}

/** 12582912 → `12.6 MB`. */
export function formatSize(bytes: number): string {
  const abs = Math.abs(bytes)
  if (abs >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`
  if (abs >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`
  if (abs >= 1e3) return `${(bytes / 1e3).toFixed(1)} KB`
  return `${Math.round(bytes)} B`
}
