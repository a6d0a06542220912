/** KindTester's sides: running targets of any transport, factories, shared targets, real sandboxes. */
import { afterAll } from 'vitest'
import type { Sandbox } from '../../../engine/api/sandbox.js'
import { isAllowedHost } from '../../../engine/clients/hosts.js'
import { createSandbox } from '../../../engine/sandboxes/index.js'

/** Running services of one sandbox side: name → URL on loopback, whatever the scheme. */
export interface Target {
  services: Record<string, string>
  /** @default the first service */
  default?: string
  /** Headers the sandbox attaches to every request. @default {} */
  headers?: Record<string, string>
  /** Called after the case when the tester started the target itself (from a factory). */
  close?(): Promise<void> | void
}

/**
 * A side: a running target, a factory starting one per case (closed after it), a factory made by
 * `shared()` (started once, closed after the file), or a real Sandbox (or a function returning one,
 * for a sandbox a hook starts; the test stops it).
 */
export type Side<T extends Target = Target> = T | Sandbox | (() => T | Sandbox | Promise<T | Sandbox>)

const SHARED = Symbol('shared target')

/**
 * A target started on first use and closed after the test file, for cases that do not disturb each
 * other's server. Call it at the top level of a test file (it registers an afterAll hook).
 */
export function shared<T extends Target>(start: () => Promise<T>): () => Promise<T> {
  let started: Promise<T> | undefined
  afterAll(async () => {
    if (started) await (await started).close?.()
  })
  return Object.assign(() => (started ??= start()), { [SHARED]: true })
}

export interface StartedSide<T extends Target> {
  sandbox: Sandbox
  target: T
}

/**
 * The sandbox of one side, named `name`. A target a factory started is pushed onto `started` for the
 * caller to close; a target must be on loopback.
 */
export async function startSide<T extends Target>(
  name: string,
  spec: Side<T> | undefined,
  started: T[],
): Promise<StartedSide<T> | undefined> {
  if (spec === undefined) return undefined
  const made = typeof spec === 'function' ? await spec() : spec
  if (isSandbox(made)) return { sandbox: made, target: sandboxTarget(made) as T }
  if (typeof spec === 'function' && !(SHARED in spec)) started.push(made)
  for (const [service, url] of Object.entries(made.services)) {
    if (!isAllowedHost(new URL(url), []))
      throw new Error(`KindTester: ${name} service ${service} at ${url} is not on loopback`)
  }
  const sandbox = createSandbox({
    name,
    services: made.services,
    defaultService: made.default ?? Object.keys(made.services)[0]!,
    headers: made.headers ?? {},
  })
  return { sandbox, target: made }
}

function isSandbox(value: unknown): value is Sandbox {
  return typeof value === 'object' && value !== null && typeof (value as Sandbox).url === 'function'
}

function sandboxTarget(sandbox: Sandbox): Target {
  return { services: Object.fromEntries(Object.entries(sandbox.services).map(([k, v]) => [k, v.url])) }
}
