import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { V1Pod } from '@kubernetes/client-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { KubeObject } from '../../engine/kubernetes/client.js'
import { runValidation } from '../../engine/run/run.js'
import type { Verdict } from '../../engine/verdict.js'
import { startSimulatedKubelet, type SimulatedKubelet } from './support/kubelet.js'
import {
  TIER_KUBECONFIG,
  TIER_NOTE,
  namespacesWithPrefix,
  tierClient,
  tierCore,
  uniqueSuffix,
} from './support/tier.js'

const prefix = `jb${uniqueSuffix()}`

const plan = (name: string, checks: string[]) => `---
name: ${name}
title: ${name} works
selectionHint: The ${name} API answers its read requests; pick for changes to ${name}.
---

# ${name}
${checks
  .map(
    (check) => `
## ${check}
\`\`\`e2e
steps:
  - name: call
    request: GET /${name}
    expect: { status: 200 }
\`\`\`
`,
  )
  .join('')}`

/** The verdict the Job's vigil would write for one plan (what the simulated kubelet reports as its result). */
function innerVerdict(planName: string, checks: Array<[string, 'passed' | 'failed']>): Verdict {
  return {
    schemaVersion: 3,
    status: checks.some(([, s]) => s === 'failed') ? 'fail' : 'pass',
    exitCode: checks.some(([, s]) => s === 'failed') ? 1 : 0,
    startedAt: new Date(0).toISOString(),
    durationMs: 12,
    identity: { runId: 'inner', seed: 1 },
    plans: [
      {
        name: planName,
        title: 'inner title',
        file: `/workspace/plans/${planName}.md`,
        blocking: true,
        state: checks.some(([, s]) => s === 'failed') ? 'failed' : 'passed',
        durationMs: 12,
        checks: checks.map(([check, state]) => ({
          plan: planName,
          check,
          kind: 'e2e',
          location: { file: `/workspace/plans/${planName}.md`, line: 9 },
          state,
          durationMs: 5,
          findings:
            state === 'failed'
              ? [
                  {
                    message: 'Step "call": GET /orders expected status 200, got 500.',
                    severity: 'error' as const,
                  },
                ]
              : [],
        })),
      },
    ],
    errors: [],
    summary: {
      plans: { total: 1, passed: 0, failed: 0, errored: 0, skipped: 0, warned: 0 },
      checks: { total: 0, passed: 0, failed: 0, errored: 0, skipped: 0, warned: 0 },
    },
    timings: [],
  }
}

describe.skipIf(!TIER_KUBECONFIG)(
  `--executor kubernetes ${TIER_NOTE}: plans as Jobs, Job pods finished by a simulated kubelet`,
  () => {
    let dir: string
    let kubelet: SimulatedKubelet
    const seen: Array<{ job: KubeObject; config: string; pod: V1Pod }> = []
    const api = TIER_KUBECONFIG ? tierClient() : undefined!

    beforeAll(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-k8s-jobs-'))
      await mkdir(path.join(dir, 'plans'))
      await writeFile(
        path.join(dir, 'plans', 'orders.md'),
        plan('orders', ['lists orders', 'reads an order']),
      )
      await writeFile(path.join(dir, 'plans', 'catalog.md'), plan('catalog', ['lists products']))
      await writeFile(
        path.join(dir, 'vigil.config.yaml'),
        [
          'plans: [plans]',
          'secrets:',
          '  token: { env: VIGIL_TEST_TOKEN }',
          'executor:',
          '  kind: kubernetes',
          '  image: ghcr.io/acme/vigil:1.0',
          '  ttl: 5m',
          'sandbox:',
          '  provider: kubernetes',
          `  kubeconfig: ${TIER_KUBECONFIG}`,
          `  namespacePrefix: ${prefix}`,
          '  readyTimeout: 60s',
          '  services:',
          '    orders: { image: "shop/orders:1", port: 8080 }',
          '',
        ].join('\n'),
      )
      kubelet = startSimulatedKubelet(tierCore(), {
        namespacePrefix: prefix,
        jobPod: async (pod) => {
          const ns = pod.metadata!.namespace!
          const jobName = pod.metadata!.labels!['job-name']!
          const job = (await api.get({ apiVersion: 'batch/v1', kind: 'Job', namespace: ns, name: jobName }))!
          const volume = pod.spec!.volumes!.find((v) => v.configMap)!
          const cm = await api.get({
            apiVersion: 'v1',
            kind: 'ConfigMap',
            namespace: ns,
            name: volume.configMap!.name!,
          })
          seen.push({ job, config: cm?.data?.['vigil.config.yaml'] ?? '', pod })
          const args = pod.spec!.containers[0]!.command!
          const planName = args[args.indexOf('--plan') + 1]
          if (planName === 'orders') {
            const verdict = innerVerdict('orders', [
              ['lists orders', 'passed'],
              ['reads an order', 'failed'],
            ])
            return { exitCode: 1, message: JSON.stringify(verdict) }
          }
          // catalog: the container dies before vigil writes anything.
          return { exitCode: 137 }
        },
      })
    })

    afterAll(async () => {
      await kubelet?.stop()
      if (dir) await rm(dir, { recursive: true, force: true })
    })

    it('creates → ready → runs each plan as a Job → merges the Jobs’ verdicts → deletes everything, with no namespace left', async () => {
      const logs: string[] = []
      const verdict = await runValidation({
        configPath: path.join(dir, 'vigil.config.yaml'),
        cwd: dir,
        baseline: false,
        executor: 'kubernetes',
        env: { ...process.env, VIGIL_TEST_TOKEN: 'tok-123' },
        log: (l) => logs.push(l),
      })
      expect(verdict.errors).toEqual([])
      const plans = Object.fromEntries(verdict.plans.map((p) => [p.name, p]))
      expect(plans.orders!.state).toBe('failed')
      expect(plans.orders!.file).toBe('plans/orders.md')
      expect(plans.orders!.checks.map((c) => [c.check, c.state])).toEqual([
        ['lists orders', 'passed'],
        ['reads an order', 'failed'],
      ])
      expect(plans.orders!.checks[1]!.location.file).toBe('plans/orders.md')
      expect(plans.catalog!.state).toBe('errored')
      const error =
        plans.catalog!.checks[0]!.state === 'errored' ? plans.catalog!.checks[0]!.error : undefined
      expect(error?.code).toBe('VIGIL_K8S_JOB')
      expect(error?.message).toMatch(
        /in-cluster run: Job vigil-[0-9a-f]{8}-catalog failed without a verdict \(Failed \(BackoffLimitExceeded.*container exit 137 Error/,
      )

      // The Jobs as the cluster validated and stored them.
      expect(seen.map((s) => s.job.metadata.name).sort()).toEqual([
        expect.stringMatching(/^vigil-[0-9a-f]{8}-catalog$/),
        expect.stringMatching(/^vigil-[0-9a-f]{8}-orders$/),
      ])
      const orders = seen.find((s) => s.job.metadata.name.endsWith('-orders'))!
      expect(orders.job.spec).toMatchObject({ backoffLimit: 0, ttlSecondsAfterFinished: 300 })
      expect(orders.job.spec.activeDeadlineSeconds).toBeGreaterThan(60)
      expect(orders.job.metadata.labels).toMatchObject({
        'app.kubernetes.io/managed-by': 'vigil',
        'vigil.dev/plan': 'orders',
      })
      const container = orders.pod.spec!.containers[0]!
      expect(container.image).toBe('ghcr.io/acme/vigil:1.0')
      expect(container.command).toEqual(
        expect.arrayContaining([
          'vigil',
          'run',
          '--config',
          '/vigil/run/vigil.config.yaml',
          '--plan',
          'orders',
          '--no-baseline',
        ]),
      )
      // The secret reaches the Job through a Secret, never through the ConfigMap.
      expect(container.env).toContainEqual({
        name: 'VIGIL_SECRET_TOKEN',
        valueFrom: {
          secretKeyRef: { name: expect.stringMatching(/^vigil-secrets-/), key: 'VIGIL_SECRET_TOKEN' },
        },
      })
      expect(orders.config).not.toContain('tok-123')
      expect(orders.config).toMatch(
        new RegExp(`orders: http://orders\\.${prefix}-candidate-[0-9a-f]{8}\\.svc:8080`),
      )
      expect(orders.config).toContain('provider: url')
      expect(orders.config).toContain('- /workspace/plans')
      expect(await namespacesWithPrefix(prefix)).toEqual([])
    })
  },
)
