import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runTestRun } from '../../engine/kinds/load/kubernetes/k6-operator.js'
import { runValidation } from '../../engine/run/run.js'
import type { CheckResult } from '../../engine/verdict.js'
import {
  ensureTestRunCrd,
  startSimulatedOperator,
  type SimulatedOperator,
} from './support/k6-operator-sim.js'
import { startSimulatedKubelet, type SimulatedKubelet } from './support/kubelet.js'
import {
  TIER_KUBECONFIG,
  TIER_NOTE,
  namespacesWithPrefix,
  tierCore,
  tierClient,
  tierKubeConfig,
  uniqueSuffix,
} from './support/tier.js'

const prefix = `k6${uniqueSuffix()}`

const load = (name: string, path: string, parallelism: number) => `
## ${name}
\`\`\`load
service: orders
request: GET ${path}
rate: 50/s
duration: 5s
thresholds: { http_req_duration: ["p(95)<200"] }
engine: k6-operator
k6Operator: { parallelism: ${parallelism} }
\`\`\`
`

describe.skipIf(!TIER_KUBECONFIG)(
  `load checks with engine: k6-operator ${TIER_NOTE}, with the TestRun CRD and a simulated operator and kubelet`,
  () => {
    let dir: string
    let operator: SimulatedOperator
    let kubelets: SimulatedKubelet[] = []

    beforeAll(async () => {
      const kc = tierKubeConfig()
      await ensureTestRunCrd(kc)
      operator = startSimulatedOperator(kc, {
        namespacePrefix: prefix,
        decide: (run) =>
          run.script.includes('"/error"')
            ? 'error'
            : Array.from({ length: run.parallelism }, (_, i) =>
                run.script.includes('"/slow"') && i === 1 ? 99 : 0,
              ),
      })
      kubelets = [
        startSimulatedKubelet(tierCore(), { namespacePrefix: prefix }),
        startSimulatedKubelet(tierCore(), {
          namespacePrefix: prefix,
          labelSelector: 'runner=true',
          jobPod: async (pod) => ({ exitCode: operator.exitCode(pod.metadata!.labels!['job-name']!) ?? 1 }),
        }),
      ]
      dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-k8s-k6-'))
      await mkdir(path.join(dir, 'plans'))
      await writeFile(
        path.join(dir, 'plans', 'orders-load.md'),
        `---
name: orders-load
title: Orders under load
selectionHint: Order API latency under load; pick for changes to the orders service or its database.
timeout: 60s
---

# Orders under load
${load('fast path holds', '/pass', 2)}${load('slow path breaks a threshold', '/slow', 2)}${load('operator error', '/error', 1)}`,
      )
      await writeFile(
        path.join(dir, 'vigil.config.yaml'),
        [
          'plans: [plans]',
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
    })

    afterAll(async () => {
      await Promise.all(kubelets.map((k) => k.stop()))
      await operator?.stop()
      if (dir) await rm(dir, { recursive: true, force: true })
    })

    it('passes when every runner passes, fails when a runner exits 99 although the stage is finished, errors on stage error; cleans up', async () => {
      const verdict = await runValidation({
        configPath: path.join(dir, 'vigil.config.yaml'),
        cwd: dir,
        baseline: false,
      })
      expect(verdict.errors).toEqual([])
      const checks = Object.fromEntries(verdict.plans[0]!.checks.map((c) => [c.check, c])) as Record<
        string,
        CheckResult
      >
      const pass = checks['fast path holds']!
      expect(pass.state).toBe('passed')
      expect(pass.state === 'passed' && pass.findings[0]?.message).toMatch(
        /^k6-operator: TestRun vigil-k6-[0-9a-f]{8}-[a-z0-9-]+ finished; 2 of 2 runners passed the thresholds\.$/,
      )
      const slow = checks['slow path breaks a threshold']!
      expect(slow.state).toBe('failed')
      expect(slow.state === 'failed' && slow.findings[0]?.message).toMatch(
        /^k6 thresholds failed on the k6-operator runners \(http_req_duration p\(95\)<200\): \S+-1: passed \(exit 0\); \S+-2: thresholds-failed \(exit 99\)\.$/,
      )
      const error = checks['operator error']!
      expect(error.state).toBe('errored')
      expect(error.state === 'errored' && error.error.message).toMatch(/ended in stage error: no runner Job$/)

      // What the operator was given: the generated script and the service's in-cluster URL.
      expect(operator.seen).toHaveLength(3)
      // Measurements may start in any order (the executor's measure gate): find the check by its parallelism.
      const first = operator.seen.find((s) => s.parallelism === 2)!
      expect(first).toBeDefined()
      expect(first.arguments).toMatch(
        new RegExp(
          `^-e VIGIL_BASE_URL=http://orders\\.${prefix}-candidate-[0-9a-f]{8}\\.svc:8080 -e VIGIL_SIDE=candidate$`,
        ),
      )
      expect(first.script).toContain('"executor": "constant-arrival-rate"')
      expect(first.script).toContain('"p(95)<200"')
      expect(await namespacesWithPrefix(prefix)).toEqual([])
    })

    it('deletes its TestRun and script ConfigMap afterwards; the runner Jobs go with the TestRun (garbage collector)', async () => {
      const api = tierClient()
      const namespace = `${prefix}-direct`
      await api.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } })
      try {
        const result = await runTestRun({
          client: api,
          namespace,
          name: 'direct',
          runId: '00c0ffee',
          script: 'export const options = {}\nexport default function () { http.get("/pass") }',
          parallelism: 3,
          timeoutMs: 60_000,
          pollIntervalMs: 200,
        })
        expect(result).toMatchObject({ stage: 'finished', passed: true, thresholdsFailed: false })
        expect(result.runners.map((r) => r.outcome)).toEqual(['passed', 'passed', 'passed'])
        expect(await api.list('k6.io/v1alpha1', 'TestRun', { namespace })).toEqual([])
        expect(
          await api.list('v1', 'ConfigMap', { namespace, labelSelector: 'vigil.dev/run-id=00c0ffee' }),
        ).toEqual([])
        const deadline = Date.now() + 30_000
        while ((await api.list('batch/v1', 'Job', { namespace })).length > 0 && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 200))
        }
        expect(await api.list('batch/v1', 'Job', { namespace })).toEqual([])
      } finally {
        await api.delete({ apiVersion: 'v1', kind: 'Namespace', name: namespace }, 'Foreground')
      }
    })
  },
)
