/** A dependency's start context for tests and benchmarks that start a server directly (no sandbox session). */
import type { DependencyStartContext } from '../../engine/api/dependency.js'

export function dependencyContext(overrides: Partial<DependencyStartContext> = {}): DependencyStartContext {
  return {
    sandbox: 'test',
    name: 'db',
    roots: { candidate: process.cwd(), baseline: process.cwd() },
    runId: 'test',
    signal: new AbortController().signal,
    allowHosts: [],
    log: () => {},
    where: () => '',
    // No session: a shared resource is the caller's to stop.
    shared: (_key, start) => start().then((r) => r.value),
    ...overrides,
  }
}
