import { describe, expect, it } from 'vitest'
import type { KubeObject } from '../../engine/kubernetes/client.js'
import { collectGarbage } from '../../engine/kubernetes/gc.js'
import {
  daemonSetRollout,
  deploymentRollout,
  jobCompletion,
  statefulSetRollout,
  waitForRollout,
} from '../../engine/kubernetes/readiness.js'
import { MemoryKubeClient } from './support/memory-client.js'

function deployment(
  spec: Record<string, unknown>,
  status: Record<string, unknown>,
  generation = 2,
): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'orders', namespace: 'ns', generation },
    spec: { replicas: 2, ...spec },
    status,
  }
}

describe("kubectl's rollout rule", () => {
  it.each([
    [{}, { observedGeneration: 1 }, 'waiting for deployment "orders" spec update to be observed'],
    [
      {},
      {
        observedGeneration: 2,
        conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }],
      },
      'deployment "orders" exceeded its progress deadline',
    ],
    [
      {},
      { observedGeneration: 2, updatedReplicas: 1, replicas: 1 },
      'deployment "orders": 1 of 2 updated replicas are available',
    ],
    [
      {},
      { observedGeneration: 2, updatedReplicas: 2, replicas: 3, availableReplicas: 2 },
      'deployment "orders": 1 old replicas are pending termination',
    ],
    [
      {},
      { observedGeneration: 2, updatedReplicas: 2, replicas: 2, availableReplicas: 1 },
      'deployment "orders": 1 of 2 updated replicas are available',
    ],
  ])('not done: %#', (spec, status, reason) => {
    const state = deploymentRollout(deployment(spec, status))
    expect(state).toMatchObject({ done: false, reason })
  })

  it('done when observed, updated, no old replica left and all available (replicas default to 1)', () => {
    expect(
      deploymentRollout(
        deployment({}, { observedGeneration: 2, updatedReplicas: 2, replicas: 2, availableReplicas: 2 }),
      ),
    ).toEqual({ done: true })
    expect(
      deploymentRollout(
        deployment(
          { replicas: undefined },
          { observedGeneration: 2, updatedReplicas: 1, replicas: 1, availableReplicas: 1 },
        ),
      ),
    ).toEqual({ done: true })
  })

  const workload = (
    kind: string,
    spec: Record<string, unknown>,
    status: Record<string, unknown>,
  ): KubeObject => ({
    apiVersion: 'apps/v1',
    kind,
    metadata: { name: 'db', namespace: 'ns', generation: 3 },
    spec,
    status,
  })

  it.each([
    [{ replicas: 3 }, {}, 'waiting for statefulset "db" spec update to be observed'],
    [{ replicas: 3 }, { observedGeneration: 2 }, 'waiting for statefulset "db" spec update to be observed'],
    [{ replicas: 3 }, { observedGeneration: 3, readyReplicas: 2 }, 'statefulset "db": 2 of 3 pods are ready'],
    [
      { replicas: 3 },
      {
        observedGeneration: 3,
        readyReplicas: 3,
        updatedReplicas: 1,
        currentRevision: 'db-1',
        updateRevision: 'db-2',
      },
      'statefulset "db": rolling update to revision db-2 is not complete (1 of 3 pods updated)',
    ],
    [
      { replicas: 3, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } } },
      {
        observedGeneration: 3,
        readyReplicas: 3,
        updatedReplicas: 1,
        currentRevision: 'db-1',
        updateRevision: 'db-2',
      },
      'statefulset "db": 1 of 2 partitioned pods are updated',
    ],
  ])('statefulset not done: %#', (spec, status, reason) => {
    expect(statefulSetRollout(workload('StatefulSet', spec, status))).toEqual({ done: false, reason })
  })

  it('statefulset done: all ready at one revision, a partition reached, or OnDelete with all ready', () => {
    const ready = {
      observedGeneration: 3,
      readyReplicas: 2,
      updatedReplicas: 2,
      currentRevision: 'r',
      updateRevision: 'r',
    }
    expect(statefulSetRollout(workload('StatefulSet', { replicas: 2 }, ready))).toEqual({ done: true })
    expect(
      statefulSetRollout(
        workload(
          'StatefulSet',
          { replicas: 3, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } },
          {
            observedGeneration: 3,
            readyReplicas: 3,
            updatedReplicas: 1,
            currentRevision: 'a',
            updateRevision: 'b',
          },
        ),
      ),
    ).toEqual({ done: true })
    expect(
      statefulSetRollout(
        workload(
          'StatefulSet',
          { updateStrategy: { type: 'OnDelete' } },
          { observedGeneration: 3, readyReplicas: 1, currentRevision: 'a', updateRevision: 'b' },
        ),
      ),
    ).toEqual({ done: true })
  })

  it.each([
    [{ observedGeneration: 2 }, 'waiting for daemonset "db" spec update to be observed'],
    [
      { observedGeneration: 3, desiredNumberScheduled: 4, updatedNumberScheduled: 3, numberAvailable: 4 },
      'daemonset "db": 3 of 4 pods are updated',
    ],
    [
      { observedGeneration: 3, desiredNumberScheduled: 4, updatedNumberScheduled: 4, numberAvailable: 2 },
      'daemonset "db": 2 of 4 updated pods are available',
    ],
  ])('daemonset not done: %#', (status, reason) => {
    expect(daemonSetRollout(workload('DaemonSet', {}, status))).toEqual({ done: false, reason })
  })

  it('daemonset done when every scheduled pod is updated and available (none scheduled: nothing to wait for)', () => {
    const status = {
      observedGeneration: 3,
      desiredNumberScheduled: 2,
      updatedNumberScheduled: 2,
      numberAvailable: 2,
    }
    expect(daemonSetRollout(workload('DaemonSet', {}, status))).toEqual({ done: true })
    expect(daemonSetRollout(workload('DaemonSet', {}, { observedGeneration: 3 }))).toEqual({ done: true })
  })

  it('a Job is ready when complete, waits while running, and fails at once when it failed', () => {
    const job = (status: Record<string, unknown>, spec: Record<string, unknown> = {}): KubeObject => ({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'migrate', namespace: 'ns' },
      spec,
      status,
    })
    expect(jobCompletion(job({ conditions: [{ type: 'Complete', status: 'True' }], succeeded: 1 }))).toEqual({
      done: true,
    })
    expect(jobCompletion(job({ active: 1 }))).toEqual({
      done: false,
      reason: 'job "migrate": 0 of 1 completions',
    })
    expect(jobCompletion(job({ succeeded: 2 }, { completions: 3 }))).toEqual({
      done: false,
      reason: 'job "migrate": 2 of 3 completions',
    })
    expect(
      jobCompletion(
        job({
          conditions: [
            {
              type: 'Failed',
              status: 'True',
              reason: 'BackoffLimitExceeded',
              message: 'Job has reached the specified backoff limit',
            },
          ],
        }),
      ),
    ).toEqual({
      done: false,
      fatal: true,
      reason: 'job "migrate" failed (BackoffLimitExceeded: Job has reached the specified backoff limit)',
    })
  })

  it('a progress deadline fails at once, with the pods and events, without waiting for the timeout', async () => {
    const client = new MemoryKubeClient([
      deployment(
        {},
        {
          observedGeneration: 2,
          conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }],
        },
      ),
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'orders-1', namespace: 'ns' },
        status: {
          phase: 'Running',
          conditions: [{ type: 'Ready', status: 'False', reason: 'ContainersNotReady' }],
          containerStatuses: [
            {
              name: 'app',
              restartCount: 4,
              state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s' } },
            },
          ],
        },
      },
      {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: 'e1', namespace: 'ns' },
        type: 'Warning',
        reason: 'BackOff',
        message: 'Back-off restarting failed container',
        count: 7,
        involvedObject: { kind: 'Pod', name: 'orders-1' },
        lastTimestamp: '2026-01-01T00:00:00Z',
      } as KubeObject,
    ])
    const begin = Date.now()
    const error = await waitForRollout(client, {
      namespace: 'ns',
      workloads: [{ kind: 'Deployment', name: 'orders' }],
      timeoutMs: 60_000,
      what: 'candidate sandbox',
    }).catch((e: unknown) => e)
    expect(Date.now() - begin).toBeLessThan(30_000)
    expect(error).toMatchObject({
      code: 'VIGIL_K8S_ROLLOUT',
      message:
        'candidate sandbox: not ready within 60s in namespace ns: deployment "orders" exceeded its progress deadline',
      logTail: [
        'pod orders-1: Running; Ready=False (ContainersNotReady)',
        '  container app: waiting: CrashLoopBackOff back-off 40s (4 restarts)',
        'event Warning BackOff Pod/orders-1: Back-off restarting failed container (x7)',
      ],
    })
  })
})

describe('gc decisions', () => {
  const ns = (
    name: string,
    annotations: Record<string, string>,
    extra: Partial<KubeObject['metadata']> = {},
  ): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name,
      labels: {
        'vigil.dev/run-id': name.slice(-4),
        'app.kubernetes.io/managed-by': 'vigil',
        'vigil.dev/side': 'candidate',
      },
      annotations,
      ...extra,
    },
  })

  it('deletes expired and unreadable-expiry namespaces (foreground), keeps the rest, skips terminating ones, sorted by name', async () => {
    const now = new Date('2026-06-01T12:00:00Z')
    const client = new MemoryKubeClient([
      ns('vigil-candidate-bbbb', { 'vigil.dev/expires-at': '2026-06-01T11:00:00Z' }),
      ns('vigil-candidate-aaaa', { 'vigil.dev/expires-at': '2026-06-01T13:00:00Z' }),
      ns('vigil-candidate-cccc', { 'vigil.dev/expires-at': 'soon' }),
      ns('vigil-candidate-dddd', {}, { deletionTimestamp: '2026-06-01T11:59:00Z' }),
      {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: 'prod', annotations: { 'vigil.dev/expires-at': '2000-01-01T00:00:00Z' } },
      },
    ])
    const dry = await collectGarbage(client, { now, dryRun: true })
    expect(dry.map((e) => [e.namespace, e.action])).toEqual([
      ['vigil-candidate-aaaa', 'kept'],
      ['vigil-candidate-bbbb', 'would-delete'],
      ['vigil-candidate-cccc', 'would-delete'],
      ['vigil-candidate-dddd', 'terminating'],
    ])
    expect(client.deleted).toEqual([])
    const done = await collectGarbage(client, { now })
    expect(done.filter((e) => e.action === 'deleted').map((e) => e.namespace)).toEqual([
      'vigil-candidate-bbbb',
      'vigil-candidate-cccc',
    ])
    expect(client.deleted.map((d) => [d.ref.name, d.propagation])).toEqual([
      ['vigil-candidate-bbbb', 'Foreground'],
      ['vigil-candidate-cccc', 'Foreground'],
    ])
    expect(client.objects.map((o) => o.metadata.name).sort()).toEqual([
      'prod',
      'vigil-candidate-aaaa',
      'vigil-candidate-dddd',
    ])
  })
})
