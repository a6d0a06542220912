import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { KubeObject } from '../../engine/kubernetes/client.js'
import { clusterOf } from '../../engine/kubernetes/cluster-info.js'
import { EXPIRES_ANNOTATION, RUN_ID_LABEL } from '../../engine/kubernetes/labels.js'
import type { KubernetesSandboxOptions } from '../../engine/sandboxes/kubernetes/schema.js'
import { createKubernetesProvider } from '../../engine/sandboxes/kubernetes/provider.js'
import type { SandboxStartContext } from '../../engine/api/sandbox.js'
import { apiserverWithStandInForwarding } from './support/clients.js'
import { startSimulatedKubelet, type SimulatedKubelet } from './support/kubelet.js'
import { startPortForwardStandIn, type PortForwardStandIn } from './support/port-forward-standin.js'
import {
  TIER_KUBECONFIG,
  TIER_NOTE,
  namespacesWithPrefix,
  tierClient,
  tierCore,
  uniqueSuffix,
} from './support/tier.js'

const prefix = `pv${uniqueSuffix()}`
const shared = `${prefix}-shared`
const logs: string[] = []

function ctx(name: string, signal = new AbortController().signal): SandboxStartContext {
  return {
    name,
    root: process.cwd(),
    configDir: process.cwd(),
    signal,
    allowHosts: [],
    log: (l) => logs.push(l),
  }
}

/** A loopback HTTP server playing a pod: says which service answered. */
async function podServer(service: string): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({ service, path: req.url, routing: req.headers.baggage ?? null }))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((r) => server.close(() => r())),
  }
}

describe.skipIf(!TIER_KUBECONFIG)(
  `kubernetes provider ${TIER_NOTE}, pods made ready by a simulated kubelet`,
  () => {
    let kubelet: SimulatedKubelet
    let standIn: PortForwardStandIn
    const pods: Array<{ close(): Promise<void> }> = []
    const api = TIER_KUBECONFIG ? tierClient() : undefined!
    let provider: ReturnType<typeof createKubernetesProvider>

    beforeAll(async () => {
      kubelet = startSimulatedKubelet(tierCore(), {
        namespacePrefix: prefix,
        failServices: ['broken'],
        // Job pods end at once: a migration named fail-… exits 1, any other exits 0.
        jobPod: async (pod) =>
          pod.metadata?.labels?.['job-name']?.startsWith('fail-')
            ? { exitCode: 1, message: 'migration 7 failed: relation "orders" already exists' }
            : { exitCode: 0 },
      })
      standIn = await startPortForwardStandIn()
      for (const service of ['orders', 'catalog', 'db']) {
        const pod = await podServer(service)
        pods.push(pod)
        standIn.route(`${service}-`, pod.port)
      }
      provider = createKubernetesProvider({ connect: () => apiserverWithStandInForwarding(api, standIn) })
      // The shared baseline namespace: the services run there already (deployed once, as a team would).
      await api.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: shared } })
      for (const [service, port] of [
        ['orders', 8080],
        ['catalog', 8081],
      ] as const) {
        const labels = { 'app.kubernetes.io/managed-by': 'vigil', 'vigil.dev/service': service }
        await api.create({
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: service, namespace: shared, labels },
          spec: {
            selector: { matchLabels: labels },
            template: {
              metadata: { labels },
              spec: { containers: [{ name: service, image: `shop/${service}:1` }] },
            },
          },
        })
        await api.create({
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name: service, namespace: shared },
          spec: { selector: labels, ports: [{ port, targetPort: port }] },
        })
      }
    })

    afterAll(async () => {
      await kubelet?.stop()
      await standIn?.close()
      await Promise.all(pods.map((p) => p.close()))
      await api?.delete({ apiVersion: 'v1', kind: 'Namespace', name: shared }, 'Foreground')
    })

    const options = (extra: Partial<KubernetesSandboxOptions> = {}): KubernetesSandboxOptions => ({
      provider: 'kubernetes',
      kubeconfig: TIER_KUBECONFIG,
      namespacePrefix: prefix,
      default: 'orders',
      baselineNamespace: shared,
      touched: ['orders'],
      readyTimeout: '60s',
      services: {
        orders: {
          image: 'shop/orders:1',
          port: 8080,
          env: { LOG: 'info' },
          candidate: { image: 'shop/orders:pr-42', env: { FEATURE: 'on' } },
        },
        catalog: { image: 'shop/catalog:1', port: 8081 },
      },
      ...extra,
    })

    it('creates a labelled, expiring namespace with only the touched service, serves requests through port-forward (WebSocket stand-in), and deletes the namespace on stop', async () => {
      const sandbox = await provider.start(options(), ctx('candidate'))
      const info = clusterOf(sandbox)!
      const ns = info.namespace
      try {
        expect(ns).toMatch(new RegExp(`^${prefix}-candidate-[0-9a-f]{8}$`))
        const namespace = (await api.get({ apiVersion: 'v1', kind: 'Namespace', name: ns }))!
        expect(namespace.metadata.labels?.[RUN_ID_LABEL]).toMatch(/^[0-9a-f]{8}$/)
        const expires = Date.parse(namespace.metadata.annotations?.[EXPIRES_ANNOTATION] ?? '')
        expect(expires - Date.now()).toBeGreaterThan(60 * 60_000)
        // Only the touched service is deployed, with the candidate's image and env.
        const deployments = await api.list('apps/v1', 'Deployment', { namespace: ns })
        expect(deployments.map((d) => d.metadata.name)).toEqual(['orders'])
        const container = deployments[0]!.spec.template.spec.containers[0]
        expect(container.image).toBe('shop/orders:pr-42')
        expect(container.env).toEqual([
          { name: 'FEATURE', value: 'on' },
          { name: 'LOG', value: 'info' },
        ])
        // Ready by the rollout rule, computed by the real controllers from the simulated kubelet's pod status.
        expect(deployments[0]!.status).toMatchObject({ availableReplicas: 1, updatedReplicas: 1 })
        expect(info.inClusterUrls).toEqual({
          orders: `http://orders.${ns}.svc:8080`,
          catalog: `http://catalog.${shared}.svc:8081`,
        })
        const orders = await (await fetch(`${sandbox.url()}/orders/1`)).json()
        expect(orders).toEqual({ service: 'orders', path: '/orders/1', routing: null })
        const catalog = await (await fetch(`${sandbox.url('catalog')}/products`)).json()
        expect(catalog).toMatchObject({ service: 'catalog', path: '/products' })
        expect(standIn.tunnels).toEqual(
          expect.arrayContaining([
            expect.stringMatching(new RegExp(`^${ns}/orders-[a-z0-9-]+:8080$`)),
            expect.stringMatching(new RegExp(`^${shared}/catalog-[a-z0-9-]+:8081$`)),
          ]),
        )
      } finally {
        await sandbox.stop()
      }
      expect(await api.get({ apiVersion: 'v1', kind: 'Namespace', name: ns })).toBeUndefined()
      expect(await namespacesWithPrefix(`${prefix}-candidate`)).toEqual([])
    })

    it('deploys nothing for the baseline and reaches the shared namespace', async () => {
      const sandbox = await provider.start(options(), ctx('baseline'))
      try {
        expect(clusterOf(sandbox)!.namespace).toBe(shared)
        expect(clusterOf(sandbox)!.inClusterUrls.orders).toBe(`http://orders.${shared}.svc:8080`)
        expect(await namespacesWithPrefix(`${prefix}-baseline`)).toEqual([])
      } finally {
        await sandbox.stop()
      }
      const left = await api.get({ apiVersion: 'v1', kind: 'Namespace', name: shared })
      expect(left?.metadata.name).toBe(shared)
    })

    it('with routing, forks the touched service into the run namespace and sends every request to the shared namespace with the routing header', async () => {
      const sandbox = await provider.start(
        options({ routing: { header: 'baggage' }, touched: ['catalog'] }),
        ctx('candidate'),
      )
      const info = clusterOf(sandbox)!
      try {
        const key = sandbox.headers.baggage?.replace('sd-routing-key=', '')
        expect(key).toMatch(new RegExp(`^${prefix}-[0-9a-f]{8}$`))
        const forks = await api.list<KubeObject>('apps/v1', 'Deployment', { namespace: info.namespace })
        expect(forks.map((d) => [d.metadata.name, d.metadata.labels?.['vigil.dev/routing-key']])).toEqual([
          ['catalog', key],
        ])
        expect(info.inClusterUrls.catalog).toBe(`http://catalog.${shared}.svc:8081`)
      } finally {
        await sandbox.stop()
      }
      expect(await namespacesWithPrefix(`${prefix}-candidate`)).toEqual([])
    })

    it('a Deployment that never becomes ready is an infrastructure error carrying its pods and events, and its namespace is deleted', async () => {
      const broken = options({
        touched: ['broken'],
        readyTimeout: '4s',
        default: 'broken',
        services: { ...options().services, broken: { image: 'shop/broken:nope', port: 9000 } },
      })
      const error = (await provider.start(broken, ctx('candidate')).catch((e: unknown) => e)) as {
        code: string
        exitCode: number
        message: string
        logTail: string[]
      }
      expect(error).toMatchObject({ code: 'VIGIL_K8S_ROLLOUT', exitCode: 3 })
      expect(error.message).toMatch(
        /candidate sandbox: not ready within 4s in namespace .*: deployment "broken": 0 of 1 updated replicas are available/,
      )
      const tail = error.logTail.join('\n')
      expect(tail).toMatch(/pod broken-[a-z0-9-]+: Pending; Ready=False \(ContainersNotReady/)
      expect(tail).toContain(
        'container broken: waiting: ImagePullBackOff Back-off pulling image "shop/broken:nope"',
      )
      expect(tail).toMatch(
        /event Warning Failed Pod\/broken-[a-z0-9-]+: Failed to pull image "shop\/broken:nope"/,
      )
      // Events written by the real controllers, too.
      expect(tail).toMatch(/event Normal ScalingReplicaSet Deployment\/broken: Scaled up replica set broken-/)
      expect(tail).toMatch(/event Normal SuccessfulCreate ReplicaSet\/broken-[a-z0-9]+: Created pod: broken-/)
      expect(await namespacesWithPrefix(`${prefix}-candidate`)).toEqual([])
    })

    it('waits for a StatefulSet of a manifest file by its rollout rule, computed by the real StatefulSet controller', async () => {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-k8s-sts-'))
      const file = path.join(dir, 'db.yaml')
      await writeFile(
        file,
        `apiVersion: apps/v1
kind: StatefulSet
metadata: { name: db }
spec:
  serviceName: db
  selector: { matchLabels: { app: db } }
  template:
    metadata: { labels: { app: db } }
    spec: { containers: [{ name: db, image: "shop/db:1" }] }
---
apiVersion: v1
kind: Service
metadata: { name: db }
spec: { selector: { app: db }, ports: [{ port: 5432, targetPort: 5432 }] }
`,
      )
      try {
        const sandbox = await provider.start(
          {
            provider: 'kubernetes',
            kubeconfig: TIER_KUBECONFIG,
            namespacePrefix: prefix,
            readyTimeout: '60s',
            services: { db: { manifests: [file] } },
          },
          ctx('candidate'),
        )
        try {
          const ns = clusterOf(sandbox)!.namespace
          expect(logs).toContain(`candidate sandbox: waiting for statefulset/db in namespace ${ns}`)
          const set = (await api.get({
            apiVersion: 'apps/v1',
            kind: 'StatefulSet',
            namespace: ns,
            name: 'db',
          }))!
          expect(set.status).toMatchObject({ readyReplicas: 1, currentRevision: set.status.updateRevision })
          expect(await (await fetch(`${sandbox.url()}/ping`)).json()).toMatchObject({
            service: 'db',
            path: '/ping',
          })
        } finally {
          await sandbox.stop()
        }
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
      expect(await namespacesWithPrefix(`${prefix}-candidate`)).toEqual([])
    })

    it('waits for a migration Job of a manifest file to complete, and fails at once when it fails, with its pod', async () => {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-k8s-job-'))
      const manifest = (job: string) => `apiVersion: batch/v1
kind: Job
metadata: { name: ${job} }
spec:
  backoffLimit: 0
  template:
    spec: { restartPolicy: Never, containers: [{ name: migrate, image: "shop/migrate:1" }] }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: orders }
spec:
  selector: { matchLabels: { app: orders } }
  template:
    metadata: { labels: { app: orders } }
    spec: { containers: [{ name: orders, image: "shop/orders:1" }] }
---
apiVersion: v1
kind: Service
metadata: { name: orders }
spec: { selector: { app: orders }, ports: [{ port: 8080, targetPort: 8080 }] }
`
      await writeFile(path.join(dir, 'good.yaml'), manifest('migrate'))
      await writeFile(path.join(dir, 'bad.yaml'), manifest('fail-migrate'))
      const withManifest = (file: string): KubernetesSandboxOptions => ({
        provider: 'kubernetes',
        kubeconfig: TIER_KUBECONFIG,
        namespacePrefix: prefix,
        readyTimeout: '60s',
        services: { orders: { manifests: [path.join(dir, file)] } },
      })
      try {
        const sandbox = await provider.start(withManifest('good.yaml'), ctx('candidate'))
        try {
          const ns = clusterOf(sandbox)!.namespace
          expect(logs).toContain(
            `candidate sandbox: waiting for deployment/orders, job/migrate in namespace ${ns}`,
          )
          const job = (await api.get({
            apiVersion: 'batch/v1',
            kind: 'Job',
            namespace: ns,
            name: 'migrate',
          }))!
          expect(job.status).toMatchObject({ succeeded: 1 })
          expect(await (await fetch(`${sandbox.url()}/orders`)).json()).toMatchObject({ service: 'orders' })
        } finally {
          await sandbox.stop()
        }

        const begin = Date.now()
        const error = (await provider
          .start(withManifest('bad.yaml'), ctx('candidate'))
          .catch((e: unknown) => e)) as {
          code: string
          message: string
          logTail: string[]
        }
        // The failed Job ends the wait at once, long before the 60 s deadline.
        expect(Date.now() - begin).toBeLessThan(45_000)
        expect(error).toMatchObject({ code: 'VIGIL_K8S_ROLLOUT' })
        expect(error.message).toMatch(
          /candidate sandbox: not ready within 60s in namespace .*: job "fail-migrate" failed \(/,
        )
        expect(error.logTail.join('\n')).toMatch(
          /pod fail-migrate-[a-z0-9]+: Failed[\s\S]*container migrate: terminated: Error exit 1 migration 7 failed/,
        )
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
      expect(await namespacesWithPrefix(`${prefix}-candidate`)).toEqual([])
    })

    it('a service missing from the shared namespace is an infrastructure error, and the run namespace is deleted', async () => {
      const missing = options({
        services: { ...options().services, search: { image: 'shop/search:1', port: 8082 } },
      })
      const error = await provider.start(missing, ctx('candidate')).catch((e: unknown) => e)
      expect(error).toMatchObject({
        code: 'VIGIL_K8S_SERVICE',
        exitCode: 3,
        message: `candidate sandbox: Service ${shared}/search does not exist`,
      })
      expect(await namespacesWithPrefix(`${prefix}-candidate`)).toEqual([])
    })
  },
)
