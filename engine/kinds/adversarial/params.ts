/** The parameters of an `adversarial` block, as the plan writes them (validated by the kind's JSON Schema). */
import { parseDuration } from '../../../plans/duration.js'
import type { SetupEntry } from '../../api/setup.js'
import type { RequestInput } from '../../api/vocabulary.js'

/** The oracles a block can switch on; each judges every response (or the run) on its own. */
export const ORACLES = [
  'no-server-error',
  'rejects-invalid',
  'no-leak',
  'authz',
  'healthy',
  'injection-evidence',
  'differential',
  'redirect',
  'security-headers',
  'read-back',
  'timing',
  'rate-limit',
  'enumeration',
] as const
export type OracleName = (typeof ORACLES)[number]

/** Generated cases when the block does not say. */
export const DEFAULT_CASES = 200
/** Most generated cases a block may ask for. */
export const MAX_CASES = 5000
/** Largest `maxBodyBytes` a block may set. */
export const MAX_BODY_BYTES = 1024 * 1024

/** The longest wait for one answer, in ms: `caseTimeout`, else a twentieth of the check's time (1 to 10 s). */
export function caseTimeoutOf(params: AdversarialParams, checkTimeoutMs: number): number {
  return params.caseTimeout === undefined
    ? Math.max(1000, Math.min(10_000, checkTimeoutMs / 20))
    : Math.max(1, parseDuration(params.caseTimeout))
}

/**
 * A principal's credentials: a bearer token (`"{{secrets.alice}}"` sends `Authorization: Bearer …`), a
 * whole `Authorization` value (`"Basic {{secrets.x}}"`), or the headers to send.
 */
export type Credential = string | { headers: Record<string, string> }

/** How a principal logs in: a request whose answer sets a session cookie (kept) or holds a token. */
export interface PrincipalLogin {
  /** `POST /login`, or `{ method, path, json, headers }`. */
  request: RequestInput
  service?: string
  headers?: Record<string, string>
  /** @default 2XX */
  expect?: { status?: number | string | Array<number | string> }
  /** JSON pointer to a bearer token in the answer; without it, the cookies the answer sets are kept. */
  token?: string
}

/**
 * A principal: a credential, or an object with a token, headers or a login request (cookies kept), and
 * the roles it holds (`[admin]`, `[user]`); only principals with declared roles are judged by them.
 */
export type Principal =
  | string
  | {
      token?: string
      headers?: Record<string, string>
      login?: PrincipalLogin
      roles?: string[]
    }

/** A request the block attacks, when it does not come from an OpenAPI document. */
export interface AdversarialRequest {
  /** Names the target in findings. @default `METHOD /path` */
  name?: string
  /** @default GET */
  method?: string
  /** Path relative to the service, may hold `{{variables}}`. */
  path: string
  query?: Record<string, string | number | boolean>
  headers?: Record<string, string>
  /** A valid body, the base of every mutation. */
  json?: unknown
  /** JSON Schema of the body (inline, or a file relative to the plan, optionally `#/pointer`). */
  schema?: string | Record<string, unknown>
  /** The request needs the owner's credentials (and gets the authorization probes). @default true with principals */
  auth?: boolean
  service?: string
}

/** An explicit case written by `vigil adversary suggest` (or a person), run verbatim. */
export interface SuggestedCase {
  name: string
  /** The operation (operationId, or a request's name) the case targets. */
  operation: string
  request: {
    method: string
    /** Relative path, query string allowed. */
    path: string
    headers?: Record<string, string>
    json?: unknown
    /** A raw body, sent as is (for malformed JSON). */
    body?: string
    /** @default application/json when there is a body */
    contentType?: string
  }
  /** Whose credentials go with it. @default owner */
  auth?: 'owner' | 'other' | 'none'
  /** Allowed statuses: 400, "4XX", or a list. */
  expect: { status: number | string | Array<number | string> }
  /** Why the case may break the change (for the reviewer). */
  rationale?: string
}

/**
 * How to bring a sandbox back to a clean state between phases: a request to the service (its status must
 * be one of `expect.status`, default 2XX) or a command (exit code 0; it gets the side's `BASE_URL`,
 * `VIGIL_<SERVICE>_URL` and `VIGIL_SIDE`). @default none
 */
export type ResetParam =
  | {
      request: RequestInput
      service?: string
      headers?: Record<string, string>
      expect?: { status?: number | string | Array<number | string> }
      /** @default 30s */
      timeout?: string | number
    }
  | {
      /** Command line (split like argv, no shell) or argv. */
      run: string | string[]
      service?: string
      /** Relative to the plan's folder. @default the plan's folder */
      cwd?: string
      env?: Record<string, string>
      /** @default 30s */
      timeout?: string | number
    }

export interface AdversarialParams {
  /** @default the sandbox's default service */
  service?: string
  /** An OpenAPI 3.x document, relative to the plan file. */
  openapi?: string
  /** operationIds to attack. @default every operation of the document */
  operations?: string[]
  requests?: AdversarialRequest[]
  /** Values of OpenAPI parameters for the valid request each case starts from, e.g. `{ orderId: "{{orderId}}" }`. */
  params?: Record<string, unknown>
  /** Headers sent with every request. @default {} */
  headers?: Record<string, string>
  /**
   * Named principals. `owner` sends every case (unless the operation needs a role it lacks: then the first
   * principal holding one does); `other` is used against the owner's resources (foreign-credentials
   * probe); every principal with declared `roles` is tried on each operation needing roles it lacks.
   */
  principals?: Record<string, Principal>
  /**
   * operationId (or request name) → the roles that may call it; overrides the OpenAPI security scopes.
   * A principal holding any one of them may. @default the scopes of the operation's security requirements
   */
  roles?: Record<string, string[]>
  /** Requests run as the owner before the cases (per sandbox); their captures are variables. */
  setup?: SetupEntry[]
  /** Generated cases. @default 200 (at most 5000) */
  cases?: number
  /** Wall time for the cases, e.g. `30s`. @default 60s (and never past the check's timeout) */
  timeBudget?: string | number
  /** Requests in flight at once. @default 4 */
  concurrency?: number
  /** @default every oracle */
  oracles?: OracleName[]
  /** Only failures the baseline does not have count (needs a baseline). @default false */
  newOnly?: boolean
  /** The health request checked before and after the run, or false. @default `GET /health` when the document has it */
  health?: string | false
  /** How missing security headers on HTML and weak cookies count. @default warning */
  securityHeaders?: 'warning' | 'error'
  /**
   * Longest wait for one answer, e.g. `2s`; a case that hangs past it is counted as timed out (and is a
   * no-server-error finding). @default a twentieth of the check's timeout, between 1s and 10s
   */
  caseTimeout?: string | number
  /**
   * The rate-limit probe: failed attempts sent to authentication and one-time-code operations (by default
   * POST operations whose id or path says login, sign-in, token, otp, mfa, verify …), or false.
   * @default { attempts: 20, severity: warning }
   */
  rateLimit?: false | { attempts?: number; operations?: string[]; severity?: 'warning' | 'error' }
  /** Overrides the run's seed for this check. */
  seed?: number
  /** Largest body an oversized case sends, in bytes. @default 1048576 (1 MiB, also the maximum) */
  maxBodyBytes?: number
  /** Statuses accepted when another principal asks for the owner's resource. @default [401, 403, 404] */
  foreignStatus?: number[]
  /** Explicit cases, run verbatim after the generated ones. */
  suggested?: SuggestedCase[]
  /** Called on each side after every phase (generated cases, probes, suggested cases); setup runs again after it. */
  reset?: ResetParam
  /**
   * `sandbox`: the cases go to fresh copies of the services they target, started for this check alone and
   * stopped after it, so the state they leave harms no other check. @default none
   */
  isolation?: 'none' | 'sandbox'
}
