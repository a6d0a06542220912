import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Namespace } from 'kubernetes-models/v1/Namespace'
import { Service } from 'kubernetes-models/v1/Service'
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap'
import { Secret } from 'kubernetes-models/v1/Secret'
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet'
import { Deployment } from 'kubernetes-models/apps/v1/Deployment'
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet'
import { Job } from 'kubernetes-models/batch/v1/Job'
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole'
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding'
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount'
import { readFileSync } from 'node:fs'
import { parseAllDocuments } from 'yaml'
import { describe, expect, it } from 'vitest'
import type { KubeObject } from '../../engine/kubernetes/client.js'
import {
  configMapObject,
  innerConfig,
  jobObject,
  secretObject,
  type RunObjectsInput,
} from '../../engine/executors/kubernetes/manifest.js'
import { testRunObjects } from '../../engine/kinds/load/kubernetes/k6-operator.js'
import { ManifestError } from '../../engine/kubernetes/errors.js'
import {
  namespaceObject,
  prepareObjects,
  readManifests,
} from '../../engine/sandboxes/kubernetes/manifests.js'
import { planSide } from '../../engine/sandboxes/kubernetes/sandbox-plan.js'
import type { KubernetesSandboxOptions } from '../../engine/sandboxes/kubernetes/schema.js'

/** Validates an object against the official OpenAPI schema of its kind (kubernetes-models). */
function validateOffline(object: KubeObject): void {
  const models: Record<string, new (data: never) => { validate(): void }> = {
    'v1/Namespace': Namespace,
    'v1/Service': Service,
    'v1/ConfigMap': ConfigMap,
    'v1/Secret': Secret,
    'apps/v1/Deployment': Deployment,
    'apps/v1/StatefulSet': StatefulSet,
    'apps/v1/DaemonSet': DaemonSet,
    'batch/v1/Job': Job,
    'v1/ServiceAccount': ServiceAccount,
    'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
    'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
  }
  const Model = models[`${object.apiVersion}/${object.kind}`]
  if (!Model) throw new Error(`no offline schema for ${object.apiVersion} ${object.kind}`)
  new Model(object as never).validate()
}

const where = () => 'vigil.config.yaml:3:3 '

const options: KubernetesSandboxOptions = {
  provider: 'kubernetes',
  default: 'orders',
  touched: ['orders'],
  services: {
    orders: {
      image: 'shop/orders:1',
      port: 8080,
      env: { LOG: 'info', RETRIES: 3 },
      replicas: 2,
      readyPath: '/health',
      candidate: { image: 'shop/orders:pr-42', env: { FEATURE: true } },
    },
    catalog: { image: 'shop/catalog:1', port: 8081, args: ['--fast'] },
  },
}

describe('generated manifests validate against the official schemas offline (kubernetes-models)', () => {
  it('namespace, Deployments and Services of a candidate deploying every service', () => {
    const plan = planSide({ options, side: 'candidate', runId: '0a1b2c3d', manifests: {}, where })
    const all = [namespaceObject(plan.namespace!, plan.labels, new Date(0), 'host/1'), ...plan.objects]
    for (const object of all)
      expect(() => validateOffline(object), `${object.kind} ${object.metadata.name}`).not.toThrow()
    expect(all.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'Namespace/vigil-candidate-0a1b2c3d',
      'Deployment/catalog',
      'Service/catalog',
      'Deployment/orders',
      'Service/orders',
    ])
    const orders = plan.objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'orders')!
    const container = orders.spec.template.spec.containers[0]
    expect(container.image).toBe('shop/orders:pr-42')
    expect(container.env).toEqual([
      { name: 'FEATURE', value: 'true' },
      { name: 'LOG', value: 'info' },
      { name: 'RETRIES', value: '3' },
    ])
    expect(container.readinessProbe).toEqual({ httpGet: { path: '/health', port: 8080 }, periodSeconds: 2 })
    expect(orders.spec.replicas).toBe(2)
    // The untouched service keeps its own image, even on the candidate side.
    const catalog = plan.objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'catalog')!
    expect(catalog.spec.template.spec.containers[0].image).toBe('shop/catalog:1')
    expect(plan.workloads).toEqual([
      { kind: 'Deployment', name: 'catalog' },
      { kind: 'Deployment', name: 'orders' },
    ])
  })

  it('objects from manifest files are moved into the run namespace, labelled, overridden, and still valid', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-k8s-manifests-'))
    try {
      await writeFile(
        path.join(dir, 'orders.yaml'),
        `apiVersion: v1
kind: ConfigMap
metadata: { name: orders-config, namespace: prod }
data: { mode: strict }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: orders-api, namespace: prod, labels: { app: orders } }
spec:
  selector: { matchLabels: { app: orders } }
  template:
    metadata: { labels: { app: orders } }
    spec:
      containers:
        - { name: sidecar, image: envoy:1 }
        - { name: api, image: shop/orders:1, env: [{ name: FEATURE, value: "off" }] }
---
apiVersion: v1
kind: Service
metadata: { name: orders-svc }
spec: { selector: { app: orders }, ports: [{ port: 80, targetPort: 8080 }] }
`,
      )
      const manifests = { orders: await readManifests(['orders.yaml'], dir, '') }
      const fileOptions: KubernetesSandboxOptions = {
        provider: 'kubernetes',
        touched: ['orders'],
        services: {
          orders: { manifests: ['orders.yaml'], candidate: { container: 'api', env: { FEATURE: 'on' } } },
        },
      }
      const plan = planSide({ options: fileOptions, side: 'candidate', runId: 'ffff0000', manifests, where })
      for (const object of plan.objects) expect(() => validateOffline(object)).not.toThrow()
      expect(plan.objects.every((o) => o.metadata.namespace === 'vigil-candidate-ffff0000')).toBe(true)
      const deployment = plan.objects[1]!
      expect(deployment.spec.template.metadata.labels).toMatchObject({
        app: 'orders',
        'vigil.dev/service': 'orders',
        'vigil.dev/run-id': 'ffff0000',
      })
      expect(deployment.spec.template.spec.containers.map((c: { image: string }) => c.image)).toEqual([
        'envoy:1',
        'shop/orders:1',
      ])
      expect(deployment.spec.template.spec.containers[1].env).toEqual([{ name: 'FEATURE', value: 'on' }])
      expect(plan.endpoints.orders).toEqual({
        namespace: 'vigil-candidate-ffff0000',
        serviceName: 'orders-svc',
      })
      expect(plan.workloads).toEqual([{ kind: 'Deployment', name: 'orders-api' }])
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it("applies the candidate's override to the named container of each workload, and asks for a name when several workloads could take it", () => {
    const workload = (kind: string, name: string, containers: string[]): KubeObject => ({
      apiVersion: 'apps/v1',
      kind,
      metadata: { name },
      spec: {
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: { containers: containers.map((c) => ({ name: c, image: `${c}:1` })) },
        },
      },
    })
    const stack = [
      workload('Deployment', 'orders', ['proxy', 'api']),
      workload('StatefulSet', 'cache', ['redis']),
    ]
    const images = (objects: KubeObject[]) =>
      objects.map((o) => o.spec.template.spec.containers.map((c: { image: string }) => c.image))

    const named = prepareObjects(stack, 'ns', 'orders', {}, { container: 'api', image: 'api:pr-7' })
    expect(images(named)).toEqual([['proxy:1', 'api:pr-7'], ['redis:1']])
    // The input objects are left as they were.
    expect(images(stack)).toEqual([['proxy:1', 'api:1'], ['redis:1']])

    expect(() => prepareObjects(stack, 'ns', 'orders', {}, { image: 'api:pr-7' })).toThrow(
      "service orders: the candidate's image or env must name its container (candidate.container), as the service has several workloads: Deployment orders (proxy, api); StatefulSet cache (redis)",
    )
    expect(() => prepareObjects(stack, 'ns', 'orders', {}, { container: 'web', image: 'x' })).toThrow(
      'service orders: no container "web" to override; the workloads have Deployment orders (proxy, api); StatefulSet cache (redis)',
    )
    // One workload: its first container, as before.
    expect(images(prepareObjects(stack.slice(0, 1), 'ns', 'orders', {}, { image: 'p:2' }))).toEqual([
      ['p:2', 'api:1'],
    ])
  })

  it('waits for the StatefulSets, DaemonSets and Jobs of manifest files too, not for ConfigMaps', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-k8s-manifests-'))
    try {
      const pod = (app: string) =>
        `selector: { matchLabels: { app: ${app} } }\n  template:\n    metadata: { labels: { app: ${app} } }\n    spec: { containers: [{ name: ${app}, image: "${app}:1" }] }`
      await writeFile(
        path.join(dir, 'stack.yaml'),
        [
          `apiVersion: apps/v1\nkind: StatefulSet\nmetadata: { name: db }\nspec:\n  serviceName: db\n  ${pod('db')}`,
          `apiVersion: apps/v1\nkind: DaemonSet\nmetadata: { name: agent }\nspec:\n  ${pod('agent')}`,
          `apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: api }\nspec:\n  ${pod('api')}`,
          `apiVersion: batch/v1\nkind: Job\nmetadata: { name: migrate }\nspec:\n  template:\n    spec: { restartPolicy: Never, containers: [{ name: m, image: "m:1" }] }`,
          `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: settings }\ndata: { a: "1" }`,
        ].join('\n---\n'),
      )
      const manifests = { stack: await readManifests(['stack.yaml'], dir, '') }
      const plan = planSide({
        options: {
          provider: 'kubernetes',
          services: { stack: { manifests: ['stack.yaml'], serviceName: 'api' } },
        },
        side: 'baseline',
        runId: 'ffff0001',
        manifests,
        where,
      })
      for (const object of plan.objects) expect(() => validateOffline(object)).not.toThrow()
      expect(plan.workloads).toEqual([
        { kind: 'DaemonSet', name: 'agent' },
        { kind: 'Deployment', name: 'api' },
        { kind: 'Job', name: 'migrate' },
        { kind: 'StatefulSet', name: 'db' },
      ])
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('the Job executor’s ConfigMap, Secret and Job', () => {
    const input: RunObjectsInput = {
      runId: '12345678',
      namespace: 'vigil-candidate-12345678',
      options: {
        image: 'ghcr.io/acme/vigil:1',
        command: ['node', '/app/bin/vigil.js'],
        workdir: '/workspace',
        ttlMs: 600_000,
        imagePullPolicy: 'IfNotPresent',
        parallelism: 4,
      },
      secrets: { alice: 'alice-token' },
      env: { REGION: 'eu' },
      config: innerConfig({
        plans: ['plans'],
        workdir: '/workspace',
        concurrency: 4,
        checkTimeoutMs: 60_000,
        timeoutMs: 600_000,
        env: ['REGION'],
        secretNames: ['alice'],
        redactHeaders: [],
        allowHosts: [],
        candidate: { default: 'orders', services: { orders: 'http://orders.ns.svc:8080' }, headers: {} },
      }),
    }
    const job = jobObject({ ...input, plan: 'Checkout Flow', seed: 7, baseline: false, deadlineSeconds: 120 })
    for (const object of [configMapObject(input), secretObject(input), job]) {
      expect(() => validateOffline(object), object.kind).not.toThrow()
    }
    expect(job.metadata.name).toBe('vigil-12345678-checkout-flow')
    expect(job.spec).toMatchObject({
      backoffLimit: 0,
      activeDeadlineSeconds: 120,
      ttlSecondsAfterFinished: 600,
    })
    expect(configMapObject(input).data!['vigil.config.yaml']).not.toContain('alice-token')
    expect(configMapObject(input).data!['vigil.config.yaml']).toContain('alice:\n    env: VIGIL_SECRET_ALICE')
  })

  it('the k6-operator ConfigMap is valid and the TestRun points at it', () => {
    const { configMap, testRun } = testRunObjects({
      client: undefined as never,
      namespace: 'ns',
      name: 'plans/load.md#orders under load',
      runId: 'abcd0123',
      script: 'export default function () {}',
      parallelism: 3,
      arguments: '-e VIGIL_BASE_URL=http://orders.ns.svc:8080',
      timeoutMs: 1000,
    })
    expect(() => validateOffline(configMap)).not.toThrow()
    expect(configMap.metadata.name.length).toBeLessThanOrEqual(52)
    expect(testRun).toMatchObject({
      apiVersion: 'k6.io/v1alpha1',
      kind: 'TestRun',
      spec: { parallelism: 3, script: { configMap: { name: configMap.metadata.name, file: 'script.js' } } },
    })
  })

  it('the shipped RBAC manifest', () => {
    const file = new URL('../../engine/kubernetes/manifests/rbac.yaml', import.meta.url)
    const objects = parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS() as KubeObject)
    expect(objects.map((o) => o.kind)).toEqual([
      'Namespace',
      'ServiceAccount',
      'ClusterRole',
      'ClusterRoleBinding',
    ])
    for (const object of objects) expect(() => validateOffline(object), object.kind).not.toThrow()
  })

  it('an invalid object is caught offline (the check is not vacuous)', () => {
    const plan = planSide({ options, side: 'candidate', runId: '0a1b2c3d', manifests: {}, where })
    const broken = structuredClone(plan.objects[0]!)
    broken.spec.replicas = 'two'
    expect(() => validateOffline(broken)).toThrow(/replicas must be integer/)
  })
})

describe('manifest files that are not manifests', () => {
  it('YAML nested 7,000 levels deep is an error at file:line:col, not a stack overflow or an abort', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-k8s-manifests-'))
    try {
      for (const [name, body] of [
        ['dashes.yaml', `${'- '.repeat(7000)}x\n`],
        ['flow.yaml', `kind: ConfigMap\n---\ndata: ${'{a: '.repeat(7000)}1${'}'.repeat(7000)}\n`],
      ] as const) {
        await writeFile(path.join(dir, name), body)
        const error = await readManifests([name], dir, '').catch((e: unknown) => e)
        expect(error).toBeInstanceOf(ManifestError)
        const at = name === 'dashes.yaml' ? '1:201' : '3:403'
        expect((error as Error).message).toBe(`${name}:${at}: nested deeper than 100 levels`)
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('what each side deploys', () => {
  it('with a shared baseline, the candidate deploys only the touched services and reaches the rest in the shared namespace', () => {
    const shared = { ...options, baselineNamespace: 'shop' }
    const candidate = planSide({
      options: shared,
      side: 'candidate',
      runId: 'aaaa0001',
      manifests: {},
      where,
    })
    expect(candidate.deployed).toEqual(['orders'])
    expect(candidate.endpoints).toEqual({
      catalog: { namespace: 'shop', serviceName: 'catalog', port: 8081 },
      orders: { namespace: 'vigil-candidate-aaaa0001', serviceName: 'orders', port: 8080 },
    })
    const baseline = planSide({ options: shared, side: 'baseline', runId: 'aaaa0001', manifests: {}, where })
    expect(baseline.namespace).toBeUndefined()
    expect(baseline.objects).toEqual([])
    expect(baseline.endpoints.orders!.namespace).toBe('shop')
  })

  it('with routing, the fork is labelled with the key and requests carry it (custom header value)', () => {
    const routed = {
      ...options,
      baselineNamespace: 'shop',
      routing: { header: 'x-route', value: 'key={{key}};v=1' },
    }
    const plan = planSide({ options: routed, side: 'candidate', runId: 'bbbb0002', manifests: {}, where })
    expect(plan.headers).toEqual({ 'x-route': 'key=vigil-bbbb0002;v=1' })
    expect(plan.objects.every((o) => o.metadata.labels?.['vigil.dev/routing-key'] === 'vigil-bbbb0002')).toBe(
      true,
    )
    expect(plan.endpoints.orders!.namespace).toBe('shop')
  })

  it.each([
    [
      { touched: ['payments'] },
      'vigil.config.yaml:3:3 sandbox.touched: unknown service "payments"; expected one of catalog, orders',
    ],
    [{ routing: { header: 'baggage' } }, 'sandbox.routing: needs `baselineNamespace`'],
    [
      { services: { orders: { port: 80 } } },
      'sandbox.services.orders: needs `manifests` or `image` + `port`',
    ],
    [{ services: { orders: { image: 'x' } } }, 'sandbox.services.orders: a generated service needs `port`'],
    [
      { services: { orders: { image: 'x', port: 1, manifests: ['a.yaml'] } } },
      '`manifests` and `image` exclude each other',
    ],
  ] as Array<[Partial<KubernetesSandboxOptions>, string]>)('config problem %#: %s', (extra, message) => {
    const bad = { ...options, ...extra } as KubernetesSandboxOptions
    expect(() => planSide({ options: bad, side: 'candidate', runId: 'x', manifests: {}, where })).toThrow(
      message,
    )
  })
})
