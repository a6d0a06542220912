import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it, vi } from 'vitest'
import { KubeApiError, type KubeObject } from '../../engine/kubernetes/client.js'
import type { KubernetesSandboxOptions } from '../../engine/sandboxes/kubernetes/schema.js'
import { shutdown } from '../../engine/lifecycle.js'
import { validateSandboxConfig } from '../../engine/sandboxes/index.js'
import { createKubernetesProvider } from '../../engine/sandboxes/kubernetes/provider.js'
import type { SandboxStartContext } from '../../engine/api/sandbox.js'
import { MemoryKubeClient } from './support/memory-client.js'

/** The narrow interface over memory; Deployments become available at once unless `stuck`. */
function cluster(options: { stuck?: boolean; reject?: string } = {}): MemoryKubeClient {
  const client = new MemoryKubeClient([
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'catalog', namespace: 'shop' },
      spec: { ports: [{ port: 8081 }] },
    },
  ])
  const create = client.create.bind(client)
  client.create = async <T extends KubeObject>(object: T): Promise<T> => {
    if (object.kind === options.reject)
      throw new KubeApiError(`create ${object.kind}: 422 Invalid spec.replicas`, 422, 'Invalid')
    const stored = structuredClone(object)
    if (object.kind === 'Deployment' && !options.stuck) {
      stored.metadata.generation = 1
      stored.status = { observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 1 }
    }
    return create(stored)
  }
  return client
}

const options: KubernetesSandboxOptions = {
  provider: 'kubernetes',
  default: 'orders',
  baselineNamespace: 'shop',
  touched: ['orders'],
  access: 'cluster-dns',
  readyTimeout: '30s',
  services: {
    orders: { image: 'shop/orders:1', port: 8080 },
    catalog: { image: 'shop/catalog:1', port: 8081 },
  },
  headers: { 'x-team': 'checkout' },
}

function ctx(signal = new AbortController().signal, logs: string[] = []): SandboxStartContext {
  return {
    name: 'candidate',
    root: process.cwd(),
    configDir: process.cwd(),
    signal,
    allowHosts: [],
    log: (l) => logs.push(l),
  }
}

const runNamespaces = (client: MemoryKubeClient) =>
  client.objects.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name)

describe('kubernetes provider against the narrow client interface (in memory)', () => {
  it('creates the namespace first, then the objects, reaches services by cluster DNS, and deletes the namespace (Foreground) on stop', async () => {
    const client = cluster()
    const logs: string[] = []
    const sandbox = await createKubernetesProvider({ connect: () => client }).start(
      options,
      ctx(undefined, logs),
    )
    const [ns] = runNamespaces(client)
    expect(client.objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'Service/catalog',
      `Namespace/${ns}`,
      'Deployment/orders',
      'Service/orders',
    ])
    expect(sandbox.services).toEqual({
      catalog: { name: 'catalog', url: 'http://catalog.shop.svc:8081' },
      orders: { name: 'orders', url: `http://orders.${ns}.svc:8080` },
    })
    expect(sandbox.headers).toEqual({ 'x-team': 'checkout' })
    await sandbox.stop()
    await sandbox.stop()
    expect(runNamespaces(client)).toEqual([])
    expect(client.deleted.map((d) => [d.ref.kind, d.ref.name, d.propagation])).toEqual([
      ['Namespace', ns, 'Foreground'],
    ])
    expect(logs.at(-1)).toMatch(new RegExp(`candidate sandbox: namespace ${ns} deleted \\(\\d+ms\\)`))
  })

  it('an object the API server rejects is an infrastructure error naming it, and the namespace is deleted', async () => {
    const client = cluster({ reject: 'Service' })
    const error = await createKubernetesProvider({ connect: () => client })
      .start(options, ctx())
      .catch((e: unknown) => e)
    expect(error).toMatchObject({
      code: 'VIGIL_K8S_API',
      exitCode: 3,
      message: expect.stringMatching(
        /^candidate sandbox: Service vigil-candidate-[0-9a-f]{8}\/orders: create Service: 422 Invalid/,
      ),
    })
    expect(runNamespaces(client)).toEqual([])
  })

  it('cancelling while the rollout is awaited ends the start and deletes the namespace', async () => {
    const client = cluster({ stuck: true })
    const controller = new AbortController()
    const started = createKubernetesProvider({ connect: () => client }).start(options, ctx(controller.signal))
    while (runNamespaces(client).length === 0) await new Promise((r) => setTimeout(r, 10))
    controller.abort()
    await expect(started).rejects.toMatchObject({
      code: 'VIGIL_CANCELLED',
      message: expect.stringContaining('cancelled'),
    })
    expect(runNamespaces(client)).toEqual([])
  })

  it('Ctrl-C (the shutdown cleanups) while the namespace is being created still deletes it once it exists', async () => {
    const client = cluster({ stuck: true })
    // The namespace's create request stays in flight until the test lets the "server" answer it.
    let answer!: () => void
    const answered = new Promise<void>((resolve) => (answer = resolve))
    let sent = false
    const create = client.create.bind(client)
    client.create = async <T extends KubeObject>(object: T): Promise<T> => {
      if (object.kind !== 'Namespace') return create(object)
      sent = true
      await answered
      return create(object)
    }
    const started = createKubernetesProvider({ connect: () => client })
      .start({ ...options, readyTimeout: '3s' }, ctx())
      .catch((e: unknown) => e)
    await vi.waitFor(() => expect(sent).toBe(true))
    // Ctrl-C now: the teardown must wait for the request, then delete the namespace it created.
    const teardown = shutdown()
    answer()
    await teardown
    expect(runNamespaces(client)).toEqual([])
    // Nothing is created after the teardown began, and the start ends at once as cancelled.
    expect(await started).toMatchObject({ code: 'VIGIL_CANCELLED' })
    expect(client.objects.filter((o) => o.metadata.namespace?.startsWith('vigil-'))).toEqual([])
  })
})

describe('kubernetes sandbox config', () => {
  it('is validated by the provider schema with the file location, before anything is created', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-k8s-config-'))
    try {
      const file = path.join(dir, 'vigil.config.yaml')
      const text = [
        'sandbox:',
        '  provider: kubernetes',
        '  acess: port-forward',
        '  services:',
        '    orders: { image: "shop/orders:1", port: 80000 }',
        '',
      ].join('\n')
      await writeFile(file, text)
      const sandbox = {
        provider: 'kubernetes',
        acess: 'port-forward',
        services: { orders: { image: 'shop/orders:1', port: 80000 } },
      }
      let message = ''
      try {
        validateSandboxConfig({ file, dir, config: { sandbox } })
      } catch (error) {
        message = (error as Error).message
      }
      expect(message).toMatch(
        /vigil\.config\.yaml:5:\d+ sandbox\.services\.orders\.port must be <= 65535, got 80000/,
      )
      expect(message).toMatch(
        /vigil\.config\.yaml:3:3 unknown property "acess" in sandbox; expected one of .*access.* \(did you mean "access"\?\)/,
      )
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
