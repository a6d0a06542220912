/**
 * `kubernetes` provider: per run, an ephemeral namespace (labelled with the run id, annotated with its
 * expiry) holding the workloads the change touches — everything else is reached in a shared baseline
 * namespace, or, with `routing`, through the shared namespace with a routing header a mesh uses to send
 * requests to the forks. Ready by kubectl's rollout rule; reached by port-forward or cluster DNS; the
 * namespace is always deleted (foreground propagation, awaited), also on Ctrl-C.
 */
import { randomBytes } from 'node:crypto'
import os from 'node:os'
import path from 'node:path'
import { parseDuration } from '../../../plans/duration.js'
import { InfrastructureError } from '../../errors.js'
import {
  KubeApiError,
  connectCluster,
  describeRef,
  type KubeClient,
  type KubeConnectOptions,
  type KubeObject,
} from '../../kubernetes/client.js'
import { attachCluster } from '../../kubernetes/cluster-info.js'
import { KubernetesApiError } from '../../kubernetes/errors.js'
import { deleteNamespace } from '../../kubernetes/gc.js'
import { namespaceObject, readManifests } from './manifests.js'
import { forwardService, type ServiceForward } from '../../kubernetes/port-forward.js'
import { waitForRollout, workloadName } from '../../kubernetes/readiness.js'
import { planSide, type SidePlan } from './sandbox-plan.js'
import { kubernetesSchema, type KubernetesSandboxOptions } from './schema.js'
import { onShutdown } from '../../lifecycle.js'
import { chooseDefaultService, createSandbox } from '../sandbox.js'
import { defineSandboxProvider, type SandboxProvider, type SandboxStartContext } from '../../api/sandbox.js'

export interface KubernetesProviderDeps {
  /** Opens the cluster client. @default the @kubernetes/client-node implementation */
  connect?(options: KubeConnectOptions): KubeClient | Promise<KubeClient>
  /** True when vigil runs inside a cluster (`access: auto` then uses cluster DNS). @default KUBERNETES_SERVICE_HOST is set */
  inCluster?(): boolean
}

export function createKubernetesProvider(
  deps: KubernetesProviderDeps = {},
): SandboxProvider<KubernetesSandboxOptions> {
  return defineSandboxProvider<KubernetesSandboxOptions>({
    schema: kubernetesSchema,
    dependencies: {
      refused:
        'a kubernetes sandbox runs its brokers and databases as services of its manifests (add them under services:), not as dependencies vigil starts on this machine',
    },
    async start(options, ctx) {
      const where = (keyPath: Array<string | number>): string => ctx.where?.(keyPath) ?? ''
      const names = Object.keys(options.services).sort()
      const defaultService = chooseDefaultService(options.default, names, where)
      const manifests: Record<string, KubeObject[]> = {}
      for (const name of names) {
        const files = options.services[name]!.manifests
        if (files)
          manifests[name] = await readManifests(files, ctx.root, where(['services', name, 'manifests']))
      }
      const runId = randomBytes(4).toString('hex')
      const plan = planSide({ options, side: ctx.name, runId, manifests, where })
      const kubeconfig = options.kubeconfig ? path.resolve(ctx.configDir, options.kubeconfig) : undefined
      const client = await (deps.connect ?? connectCluster)({ kubeconfig, context: options.context })
      const inCluster = deps.inCluster?.() ?? Boolean(process.env.KUBERNETES_SERVICE_HOST)
      const access =
        !options.access || options.access === 'auto'
          ? inCluster
            ? 'cluster-dns'
            : 'port-forward'
          : options.access
      const teardownMs = parseDuration(options.teardownTimeout ?? '2m')

      const forwards: ServiceForward[] = []
      // The namespace's create request: once sent, the namespace may exist even if the answer is lost.
      let creation: Promise<unknown> | undefined
      let tearing: Promise<void> | undefined
      // Aborted by the caller, or by a teardown that starts while the sandbox is still starting.
      const stopping = new AbortController()
      const signal = AbortSignal.any([ctx.signal, stopping.signal])
      const teardown = (): Promise<void> =>
        (tearing ??= (async () => {
          stopping.abort()
          await Promise.allSettled(forwards.map((f) => f.close()))
          if (!creation || !plan.namespace) return
          await creation.catch(() => undefined)
          const begin = performance.now()
          const gone = await deleteNamespace(client, plan.namespace, teardownMs).catch((error: unknown) => {
            ctx.log(
              `${ctx.name} sandbox: deleting namespace ${plan.namespace} failed: ${(error as Error).message}`,
            )
            return false
          })
          ctx.log(
            gone
              ? `${ctx.name} sandbox: namespace ${plan.namespace} deleted (${Math.round(performance.now() - begin)}ms)`
              : `${ctx.name} sandbox: namespace ${plan.namespace} still exists after ${teardownMs}ms; \`vigil sandboxes gc\` removes it once expired`,
          )
        })())
      // Ctrl-C during start-up: the session does not know this sandbox yet, so it tears itself down.
      const unregister = onShutdown(teardown)
      try {
        if (plan.namespace) {
          await deploy(client, plan, options, { ...ctx, signal }, (request) => (creation = request))
        }
        const inClusterUrls: Record<string, string> = {}
        const urls: Record<string, string> = {}
        for (const name of names) {
          const endpoint = plan.endpoints[name]!
          const port = await servicePort(
            client,
            endpoint.namespace,
            endpoint.serviceName,
            endpoint.port,
            ctx.name,
          )
          inClusterUrls[name] = `http://${endpoint.serviceName}.${endpoint.namespace}.svc:${port}`
          if (access === 'cluster-dns') urls[name] = inClusterUrls[name]!
          else {
            const forward = await forwardService(client, {
              namespace: endpoint.namespace,
              service: endpoint.serviceName,
              port,
              log: ctx.log,
            })
            forwards.push(forward)
            urls[name] = forward.url
          }
        }
        throwIfCancelled({ ...ctx, signal })
        ctx.log(
          `${ctx.name} sandbox: ${plan.namespace ? `namespace ${plan.namespace} (${plan.deployed.join(', ')})` : `shared namespace ${options.baselineNamespace}`}` +
            `${plan.routingKey ? `, routing key ${plan.routingKey}` : ''}; ${names.map((n) => `${n}=${urls[n]}`).join(', ')}`,
        )
        const sandbox = createSandbox({
          name: ctx.name,
          services: urls,
          defaultService,
          headers: plan.headers,
          stop: async () => {
            await teardown()
            unregister()
          },
        })
        attachCluster(sandbox, {
          client,
          namespace: plan.namespace ?? options.baselineNamespace!,
          inClusterUrls,
        })
        return sandbox
      } catch (error) {
        await teardown()
        unregister()
        throw asVigilError(error, ctx)
      }
    },
  })
}

export default createKubernetesProvider()

async function deploy(
  client: KubeClient,
  plan: SidePlan,
  options: KubernetesSandboxOptions,
  ctx: SandboxStartContext,
  onCreating: (request: Promise<unknown>) => void,
): Promise<void> {
  const namespace = plan.namespace!
  const ttlMs = parseDuration(options.ttl ?? '2h')
  const owner = `${os.hostname()}/${process.pid}`
  const request = client.create(namespaceObject(namespace, plan.labels, new Date(Date.now() + ttlMs), owner))
  onCreating(request)
  await request
  // In file order: ConfigMaps and Secrets before the workloads that mount them, as kubectl apply -f does.
  for (const object of plan.objects) {
    throwIfCancelled(ctx)
    await client.create(object).catch((error: unknown) => {
      throw new KubernetesApiError(
        `${ctx.name} sandbox: ${describeRef(object)}: ${(error as Error).message}`,
        { cause: error },
      )
    })
  }
  if (plan.workloads.length === 0) return
  ctx.log(
    `${ctx.name} sandbox: waiting for ${plan.workloads.map(workloadName).join(', ')} in namespace ${namespace}`,
  )
  await waitForRollout(client, {
    namespace,
    workloads: plan.workloads,
    timeoutMs: parseDuration(options.readyTimeout ?? '3m'),
    signal: ctx.signal,
    what: `${ctx.name} sandbox`,
  })
}

/** The Service's port (the configured one, which it must have, else its first); it must exist. */
async function servicePort(
  client: KubeClient,
  namespace: string,
  name: string,
  wanted: number | undefined,
  side: string,
): Promise<number> {
  const service = await client.get({ apiVersion: 'v1', kind: 'Service', namespace, name })
  const fail = (why: string): never => {
    throw new InfrastructureError(`${side} sandbox: Service ${namespace}/${name} ${why}`, [], {
      code: 'VIGIL_K8S_SERVICE',
    })
  }
  if (!service) return fail('does not exist')
  const ports = ((service.spec?.ports ?? []) as Array<{ port: number }>).map((p) => p.port)
  if (wanted !== undefined && !ports.includes(wanted)) {
    return fail(`has no port ${wanted}; it has ${ports.join(', ') || 'none'}`)
  }
  return wanted ?? ports[0] ?? fail('has no port')
}

function throwIfCancelled(ctx: SandboxStartContext): void {
  if (ctx.signal.aborted) {
    throw new InfrastructureError(`${ctx.name} sandbox: start was cancelled`, [], {
      code: 'VIGIL_CANCELLED',
      cause: ctx.signal.reason,
    })
  }
}

function asVigilError(error: unknown, ctx: SandboxStartContext): unknown {
  // A failed API call says which sandbox it was for; any other known error already says enough.
  if (error instanceof KubeApiError)
    return new KubernetesApiError(`${ctx.name} sandbox: ${error.message}`, { cause: error })
  return error
}
