/**
 * A simulated k6-operator for the real-apiserver tier: the TestRun CRD (testruns.k6.io, a minimal
 * schema) is created for real, and this loop plays the operator's part — it reads each new TestRun's
 * script ConfigMap, creates its `parallelism` runner Jobs (owned by the TestRun, labelled as the operator
 * labels them), and once the Job controller has marked them finished sets the TestRun's stage.
 * Runner pods are ended by a simulated kubelet with the exit codes `decide` returns.
 */
import {
  ApiextensionsV1Api,
  BatchV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
} from '@kubernetes/client-node'

const group = 'k6.io'
const version = 'v1alpha1'
const plural = 'testruns'

export async function ensureTestRunCrd(kc: KubeConfig): Promise<void> {
  const api = kc.makeApiClient(ApiextensionsV1Api)
  const existing = await api
    .readCustomResourceDefinition({ name: `${plural}.${group}` })
    .catch(() => undefined)
  if (!existing) {
    await api.createCustomResourceDefinition({
      body: {
        metadata: { name: `${plural}.${group}` },
        spec: {
          group,
          scope: 'Namespaced',
          names: { plural, singular: 'testrun', kind: 'TestRun', listKind: 'TestRunList' },
          versions: [
            {
              name: version,
              served: true,
              storage: true,
              subresources: { status: {} },
              schema: {
                openAPIV3Schema: {
                  type: 'object',
                  properties: {
                    spec: {
                      type: 'object',
                      required: ['script', 'parallelism'],
                      properties: {
                        parallelism: { type: 'integer', minimum: 1 },
                        arguments: { type: 'string' },
                        script: {
                          type: 'object',
                          properties: {
                            configMap: {
                              type: 'object',
                              required: ['name'],
                              properties: { name: { type: 'string' }, file: { type: 'string' } },
                            },
                          },
                        },
                        runner: { type: 'object', x_kubernetes_preserve_unknown_fields: true },
                      },
                    },
                    status: { type: 'object', properties: { stage: { type: 'string' } } },
                  },
                },
              },
            },
          ],
        },
      },
    })
  }
  // Established before use: the apiserver serves a new CRD's resource a moment after creating it.
  for (let i = 0; i < 100; i++) {
    const crd = await api.readCustomResourceDefinition({ name: `${plural}.${group}` })
    if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error('the TestRun CRD did not become established')
}

export interface SeenTestRun {
  namespace: string
  name: string
  parallelism: number
  arguments: string
  script: string
}

export interface SimulatedOperator {
  readonly seen: SeenTestRun[]
  /** Exit code of a runner pod by Job name (for the simulated kubelet). */
  exitCode(job: string): number | undefined
  stop(): Promise<void>
}

export interface OperatorOptions {
  namespacePrefix: string
  /** Each runner's exit code (by index), or `error` to put the TestRun in stage error without runners. */
  decide(run: SeenTestRun): number[] | 'error'
}

export function startSimulatedOperator(kc: KubeConfig, options: OperatorOptions): SimulatedOperator {
  const custom = kc.makeApiClient(CustomObjectsApi)
  const core = kc.makeApiClient(CoreV1Api)
  const batch = kc.makeApiClient(BatchV1Api)
  const seen: SeenTestRun[] = []
  const exits = new Map<string, number>()
  const pending = new Map<string, { jobs: string[] }>()
  let stopped = false
  const setStage = async (namespace: string, name: string, stage: string): Promise<void> => {
    const object = (await custom.getNamespacedCustomObject({ group, version, namespace, plural, name })) as {
      status?: Record<string, unknown>
    }
    object.status = { stage }
    await custom.replaceNamespacedCustomObjectStatus({
      group,
      version,
      namespace,
      plural,
      name,
      body: object,
    })
  }
  const loop = (async () => {
    while (!stopped) {
      try {
        const list = (await custom.listClusterCustomObject({ group, version, plural })) as {
          items: Array<{
            metadata: { name: string; namespace: string; uid: string }
            spec: {
              parallelism: number
              arguments?: string
              script: { configMap: { name: string; file?: string } }
            }
            status?: { stage?: string }
          }>
        }
        for (const run of list.items) {
          const { namespace, name, uid } = run.metadata
          const key = `${namespace}/${name}`
          if (!namespace.startsWith(options.namespacePrefix)) continue
          if (!run.status?.stage) {
            const cm = await core.readNamespacedConfigMap({ namespace, name: run.spec.script.configMap.name })
            const info: SeenTestRun = {
              namespace,
              name,
              parallelism: run.spec.parallelism,
              arguments: run.spec.arguments ?? '',
              script: cm.data?.[run.spec.script.configMap.file ?? 'test.js'] ?? '',
            }
            seen.push(info)
            const decision = options.decide(info)
            if (decision === 'error') {
              await setStage(namespace, name, 'error')
              continue
            }
            const jobs: string[] = []
            for (let i = 0; i < run.spec.parallelism; i++) {
              const job = `${name}-${i + 1}`
              exits.set(job, decision[i] ?? 0)
              jobs.push(job)
              const labels = { app: 'k6', k6_cr: name, runner: 'true' }
              await batch.createNamespacedJob({
                namespace,
                body: {
                  metadata: {
                    name: job,
                    labels,
                    ownerReferences: [
                      { apiVersion: `${group}/${version}`, kind: 'TestRun', name, uid, controller: true },
                    ],
                  },
                  spec: {
                    backoffLimit: 0,
                    template: {
                      metadata: { labels },
                      spec: {
                        restartPolicy: 'Never',
                        containers: [
                          { name: 'k6', image: 'grafana/k6', command: ['k6', 'run', '/test/script.js'] },
                        ],
                      },
                    },
                  },
                },
              })
            }
            pending.set(key, { jobs })
            await setStage(namespace, name, 'started')
          } else if (run.status.stage === 'started' && pending.has(key)) {
            const jobs = await Promise.all(
              pending.get(key)!.jobs.map((job) => batch.readNamespacedJob({ namespace, name: job })),
            )
            const done = jobs.every((j) => (j.status?.succeeded ?? 0) + (j.status?.failed ?? 0) > 0)
            if (done) {
              pending.delete(key)
              await setStage(namespace, name, 'finished')
            }
          }
        }
      } catch {
        // Objects deleted under our feet: look again next round.
      }
      await new Promise((r) => setTimeout(r, 200))
    }
  })()
  return {
    seen,
    exitCode: (job) => exits.get(job),
    stop: async () => {
      stopped = true
      await loop
    },
  }
}
