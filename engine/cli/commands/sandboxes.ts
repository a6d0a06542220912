/**
 * `vigil sandboxes gc`: deletes the run namespaces that killed runs left on the cluster (labelled by vigil
 * with a run id, expiry annotation in the past). The cluster is the one `--kubeconfig`/`--context` name,
 * else the config's kubernetes sandbox's, else the default kubeconfig's.
 */
import path from 'node:path'
import type { Command } from 'commander'
import { loadConfig } from '../../../plans/config.js'
import { ConfigError, InfrastructureError } from '../../errors.js'
import { KubeApiError } from '../../kubernetes/client.js'
import { collectGarbage, type GcEntry } from '../../kubernetes/gc.js'
import { connectCluster, type KubeConnectOptions } from '../../kubernetes/client.js'

export interface SandboxesGcOptions {
  config?: string
  kubeconfig?: string
  context?: string
  dryRun?: boolean
  json?: boolean
}

/** The cluster to clean: explicit flags win over the config's `sandbox` section. */
async function clusterOptions(options: SandboxesGcOptions): Promise<KubeConnectOptions> {
  const out: KubeConnectOptions = {}
  if (options.config) {
    const loaded = await loadConfig(options.config).catch((error: unknown) => {
      if ((error as { code?: unknown })?.code === 'VIGIL_CONFIG')
        throw new ConfigError((error as Error).message, { cause: error })
      throw error
    })
    const sandbox = loaded.config.sandbox as
      { provider?: unknown; kubeconfig?: unknown; context?: unknown } | undefined
    if (sandbox?.provider !== 'kubernetes') {
      throw new ConfigError(
        `${options.config}: sandbox.provider is not kubernetes; pass --kubeconfig/--context instead`,
      )
    }
    if (typeof sandbox.kubeconfig === 'string') out.kubeconfig = path.resolve(loaded.dir, sandbox.kubeconfig)
    if (typeof sandbox.context === 'string') out.context = sandbox.context
  }
  if (options.kubeconfig) out.kubeconfig = path.resolve(options.kubeconfig)
  if (options.context) out.context = options.context
  return out
}

const VERBS: Record<GcEntry['action'], string> = {
  deleted: 'deleted',
  'would-delete': 'would delete (dry run)',
  kept: 'kept (not expired)',
  terminating: 'already terminating',
  timeout: 'still terminating after the deadline',
}

export async function sandboxesGc(options: SandboxesGcOptions): Promise<number> {
  const client = await connectCluster(await clusterOptions(options))
  let entries: GcEntry[]
  try {
    entries = await collectGarbage(client, { dryRun: options.dryRun })
  } catch (error) {
    if (error instanceof KubeApiError) {
      throw new InfrastructureError(`sandboxes gc: ${client.context}: ${error.message}`, [], {
        code: 'VIGIL_K8S_API',
        cause: error,
      })
    }
    throw error
  }
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ context: client.context, namespaces: entries }, null, 2)}\n`)
  } else if (entries.length === 0) {
    process.stdout.write(`no vigil namespaces in ${client.context}\n`)
  } else {
    for (const e of entries) {
      const expiry = e.expiresAt ? `expires ${e.expiresAt}` : 'no valid expiry'
      process.stdout.write(`${e.namespace.padEnd(36)} run ${e.runId || '?'}  ${expiry}  ${VERBS[e.action]}\n`)
    }
  }
  return entries.some((e) => e.action === 'timeout') ? 3 : 0
}

export function registerSandboxes(program: Command): void {
  const sandboxes = program.command('sandboxes').description('Manage sandboxes that runs left behind')
  sandboxes
    .command('gc')
    .description('Delete expired run namespaces that killed runs left on the cluster')
    .option('-c, --config <file>', "use the cluster of this config's kubernetes sandbox")
    .option('--kubeconfig <file>', 'kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or in-cluster)')
    .option('--context <name>', 'kubeconfig context (default: the current one)')
    .option('--dry-run', 'only list what would be deleted')
    .option('--json', 'print the namespaces and what happened to them as JSON')
    .action(async (options: SandboxesGcOptions) => {
      process.exitCode = await sandboxesGc(options)
    })
}
