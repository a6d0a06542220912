/**
 * `vigil sandboxes gc`: removes what runs that could not clean up (killed with SIGKILL, a crashed machine)
 * left behind, whatever their provider:
 * - local: from the run state files in the system temp folder, the service process groups, temporary
 *   trees and git worktrees of runs whose vigil process is gone (live runs are never touched);
 * - Kubernetes: the run namespaces (labelled by vigil with a run id) whose expiry annotation has passed,
 *   on the cluster `--kubeconfig`/`--context` name, else the config's kubernetes sandbox's, else the
 *   default kubeconfig's when there is one.
 */
import { existsSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { loadConfig } from '../../../plans/config.js'
import { ConfigError, InfrastructureError, isKnownError } from '../../errors.js'
import { KubeApiError } from '../../kubernetes/client.js'
import { collectGarbage, type GcEntry } from '../../kubernetes/gc.js'
import { connectCluster, type KubeConnectOptions } from '../../kubernetes/client.js'
import { collectLocalGarbage, type LeftoverAction, type RunLeftovers } from '../../sandboxes/leftovers.js'
import { stateDir } from '../../processes/run-state.js'

export interface SandboxesGcOptions {
  config?: string
  kubeconfig?: string
  context?: string
  dryRun?: boolean
  json?: boolean
}

/** The cluster to clean, or why there is none: explicit flags win over the config's `sandbox` section. */
async function clusterOptions(
  options: SandboxesGcOptions,
): Promise<{ connect: KubeConnectOptions } | { skipped: string }> {
  const out: KubeConnectOptions = {}
  let named = Boolean(options.kubeconfig || options.context)
  if (options.config) {
    const loaded = await loadConfig(options.config).catch((error: unknown) => {
      if ((error as { code?: unknown })?.code === 'VIGIL_CONFIG')
        throw new ConfigError((error as Error).message, { cause: error })
      throw error
    })
    const sandbox = loaded.config.sandbox as
      { provider?: unknown; kubeconfig?: unknown; context?: unknown } | undefined
    if (sandbox?.provider === 'kubernetes') {
      named = true
      if (typeof sandbox.kubeconfig === 'string')
        out.kubeconfig = path.resolve(loaded.dir, sandbox.kubeconfig)
      if (typeof sandbox.context === 'string') out.context = sandbox.context
    } else if (!named) {
      return { skipped: `${options.config}: the sandbox provider is not kubernetes` }
    }
  }
  if (options.kubeconfig) out.kubeconfig = path.resolve(options.kubeconfig)
  if (options.context) out.context = options.context
  if (!named && !defaultKubeconfigExists()) {
    return { skipped: 'no kubeconfig ($KUBECONFIG, ~/.kube/config or in-cluster)' }
  }
  return { connect: out }
}

/** Whether client-node's `loadFromDefault` would find a cluster rather than fall back to localhost. */
function defaultKubeconfigExists(): boolean {
  const env = process.env.KUBECONFIG
  if (env) return env.split(path.delimiter).some((file) => file && existsSync(file))
  if (existsSync(path.join(os.homedir(), '.kube', 'config'))) return true
  return (
    Boolean(process.env.KUBERNETES_SERVICE_HOST) &&
    existsSync('/var/run/secrets/kubernetes.io/serviceaccount/token')
  )
}

const NAMESPACE_VERBS: Record<GcEntry['action'], string> = {
  deleted: 'deleted',
  'would-delete': 'would delete (dry run)',
  kept: 'kept (not expired)',
  terminating: 'already terminating',
  timeout: 'still terminating after the deadline',
}

const LEFTOVER_VERBS: Record<LeftoverAction, string> = {
  live: 'kept (its run is alive)',
  removed: 'removed',
  'would-remove': 'would remove (dry run)',
  gone: 'already gone',
  'not-ours': 'kept (the pid now belongs to another process)',
  unverified: 'kept (cannot be verified as this run’s)',
  failed: 'still there after the attempt',
}

interface KubernetesOutcome {
  context?: string
  namespaces?: GcEntry[]
  skipped?: string
  error?: { message: string; exitCode: number }
}

async function kubernetesGc(options: SandboxesGcOptions): Promise<KubernetesOutcome> {
  try {
    const target = await clusterOptions(options)
    if ('skipped' in target) return { skipped: target.skipped }
    const client = await connectCluster(target.connect)
    try {
      return { context: client.context, namespaces: await collectGarbage(client, { dryRun: options.dryRun }) }
    } catch (error) {
      if (error instanceof KubeApiError) {
        throw new InfrastructureError(`sandboxes gc: ${client.context}: ${error.message}`, [], {
          code: 'VIGIL_K8S_API',
          cause: error,
        })
      }
      throw error
    }
  } catch (error) {
    // Reported after the local part, which must not be lost because a cluster is unreachable.
    if (!isKnownError(error)) throw error
    return { error: { message: error.message, exitCode: error.exitCode } }
  }
}

function renderRuns(runs: readonly RunLeftovers[]): string {
  if (runs.length === 0) return `no vigil run left anything behind (state: ${stateDir()})\n`
  const lines: string[] = []
  for (const run of runs) {
    const who = `${run.owner.alive ? 'live' : 'ended'}, pid ${run.owner.pid}, started ${run.startedAt}`
    lines.push(`run ${run.id}  (${who})${run.items.length === 0 ? '  nothing left' : ''}`)
    for (const item of run.items)
      lines.push(`  ${item.kind.padEnd(8)} ${item.what.padEnd(40)} ${LEFTOVER_VERBS[item.action]}`)
  }
  return `${lines.join('\n')}\n`
}

/** `vigil sandboxes gc`; the exit code. */
export async function sandboxesGc(options: SandboxesGcOptions): Promise<number> {
  const runs = await collectLocalGarbage({ dryRun: options.dryRun })
  const cluster = await kubernetesGc(options)
  if (options.json) {
    const { context, namespaces, skipped, error } = cluster
    const kubernetes = skipped ? { skipped } : error ? { error: error.message } : undefined
    process.stdout.write(
      `${JSON.stringify({ runs, ...(context ? { context } : {}), namespaces: namespaces ?? [], ...(kubernetes ? { kubernetes } : {}) }, null, 2)}\n`,
    )
  } else {
    process.stdout.write(renderRuns(runs))
    if (cluster.skipped) process.stdout.write(`kubernetes: skipped: ${cluster.skipped}\n`)
    else if (cluster.namespaces?.length === 0)
      process.stdout.write(`no vigil namespaces in ${cluster.context}\n`)
    for (const e of cluster.namespaces ?? []) {
      const expiry = e.expiresAt ? `expires ${e.expiresAt}` : 'no valid expiry'
      process.stdout.write(
        `${e.namespace.padEnd(36)} run ${e.runId || '?'}  ${expiry}  ${NAMESPACE_VERBS[e.action]}\n`,
      )
    }
  }
  if (cluster.error) {
    process.stderr.write(`vigil: ${cluster.error.message}\n`)
    return cluster.error.exitCode
  }
  const failed =
    runs.some((r) => r.items.some((i) => i.action === 'failed')) ||
    (cluster.namespaces ?? []).some((e) => e.action === 'timeout')
  return failed ? 3 : 0
}
