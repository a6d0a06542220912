/** Sandbox providers: one file each, keyed by the name `sandbox.provider` uses in `vigil.config.yaml`. */
import { resolveSandboxConfig, type SandboxConfigSource } from './config.js'
import kubernetes from './kubernetes/provider.js'
import processProvider from './process/provider.js'
import { startSession, type SandboxSession, type StartSandboxesOptions } from './session.js'
import type { SandboxProvider } from '../api/sandbox.js'
import url from './url/provider.js'
import { dependencyKinds } from '../dependencies/index.js'

export const sandboxProviders = { url, process: processProvider, kubernetes } satisfies Record<
  string,
  SandboxProvider<never>
>
export type SandboxProviderName = keyof typeof sandboxProviders

/**
 * Starts the run's sandboxes: the candidate (from the working tree, or a patched copy with `patch`) and,
 * unless `baseline: false`, the baseline (from a worktree of `base`, else the working tree again).
 * On failure everything started is stopped and an InfrastructureError (or ConfigError) is thrown.
 */
export function startSandboxes(options: StartSandboxesOptions): Promise<SandboxSession> {
  return startSession(options, sandboxProviders, dependencyKinds)
}

/** Validates the config's `sandbox` and `baseline` sections; throws a ConfigError with `file:line:col`. */
export function validateSandboxConfig(loaded: SandboxConfigSource): void {
  resolveSandboxConfig(loaded, 'candidate', sandboxProviders, dependencyKinds)
  if (loaded.config.baseline !== undefined)
    resolveSandboxConfig(loaded, 'baseline', sandboxProviders, dependencyKinds)
}

export { createSandbox, UnknownServiceError } from './sandbox.js'
export { deadDependencies, unansweredDependencies, type DependencyTrouble } from './dependencies.js'
export { overrideKeys, resolveCommit, workingTreeState } from './sides.js'
export type { SandboxSession, StartSandboxesOptions } from './session.js'
export type { SandboxConfigSource } from './config.js'
export type { ProcessSandboxOptions, ProcessServiceOptions } from './process/schema.js'
export type { UrlSandboxOptions } from './url/provider.js'
export type { Sandbox, SandboxProvider, SandboxStartContext, ServiceEndpoint } from '../api/sandbox.js'
export { defineSandboxProvider } from '../api/sandbox.js'
