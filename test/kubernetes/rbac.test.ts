import { readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseAllDocuments } from 'yaml'
import type { KubeObject } from '../../engine/kubernetes/client.js'
import { collectGarbage } from '../../engine/kubernetes/gc.js'
import { connect } from '../../engine/kubernetes/node-client.js'
import { createKubernetesProvider } from '../../engine/sandboxes/kubernetes/provider.js'
import { startSimulatedKubelet, type SimulatedKubelet } from './support/kubelet.js'
import {
  TIER_KUBECONFIG,
  TIER_NOTE,
  namespacesWithPrefix,
  tierClient,
  tierCore,
  tierKubeConfig,
  uniqueSuffix,
} from './support/tier.js'

const RBAC = fileURLToPath(new URL('../../engine/kubernetes/manifests/rbac.yaml', import.meta.url))
const prefix = `rb${uniqueSuffix()}`

/** The shipped RBAC objects, renamed for this test so that parallel and repeated runs never collide. */
function rbacObjects(): KubeObject[] {
  const rename = (name: string) => `${prefix}-${name}`
  return parseAllDocuments(readFileSync(RBAC, 'utf8')).map((doc) => {
    const o = doc.toJS() as KubeObject & {
      subjects?: Array<{ name: string; namespace: string }>
      roleRef?: { name: string }
    }
    o.metadata.name = rename(o.metadata.name)
    if (o.metadata.namespace) o.metadata.namespace = rename(o.metadata.namespace)
    for (const subject of o.subjects ?? []) {
      subject.namespace = rename(subject.namespace)
      subject.name = rename(subject.name)
    }
    if (o.roleRef) o.roleRef.name = rename(o.roleRef.name)
    return o
  })
}

describe.skipIf(!TIER_KUBECONFIG)(
  `the shipped RBAC (engine/kubernetes/manifests/rbac.yaml) ${TIER_NOTE}`,
  () => {
    const api = TIER_KUBECONFIG ? tierClient() : undefined!
    let dir: string
    let saKubeconfig: string
    let kubelet: SimulatedKubelet
    const objects = TIER_KUBECONFIG ? rbacObjects() : []

    beforeAll(async () => {
      for (const o of objects) await api.create(o)
      // The token controller (controller-manager) gives the service account its token secret.
      const namespace = `${prefix}-vigil`
      let token = ''
      for (let i = 0; i < 150 && !token; i++) {
        const secrets = await api.list('v1', 'Secret', { namespace })
        const secret = secrets.find(
          (s) =>
            (s as { type?: string }).type === 'kubernetes.io/service-account-token' &&
            s.metadata.annotations?.['kubernetes.io/service-account.name'] === `${prefix}-vigil`,
        )
        token = secret?.data?.token ? Buffer.from(secret.data.token, 'base64').toString('utf8') : ''
        if (!token) await new Promise((r) => setTimeout(r, 200))
      }
      expect(token).not.toBe('')
      dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-k8s-rbac-'))
      saKubeconfig = path.join(dir, 'kubeconfig')
      const server = tierKubeConfig().getCurrentCluster()!.server
      await writeFile(
        saKubeconfig,
        `apiVersion: v1
kind: Config
clusters: [{ name: tier, cluster: { server: "${server}", insecure-skip-tls-verify: true } }]
users: [{ name: vigil, user: { token: "${token}" } }]
contexts: [{ name: vigil, context: { cluster: tier, user: vigil } }]
current-context: vigil
`,
        { mode: 0o600 },
      )
      kubelet = startSimulatedKubelet(tierCore(), { namespacePrefix: prefix })
    })

    afterAll(async () => {
      await kubelet?.stop()
      for (const o of [...objects].reverse()) {
        await api.delete({
          apiVersion: o.apiVersion,
          kind: o.kind,
          name: o.metadata.name,
          namespace: o.metadata.namespace,
        })
      }
      if (dir) await rm(dir, { recursive: true, force: true })
    })

    it('is enough for a sandbox’s whole life (create, deploy, readiness evidence, teardown) and for gc', async () => {
      const provider = createKubernetesProvider({ inCluster: () => true })
      const sandbox = await provider.start(
        {
          provider: 'kubernetes',
          kubeconfig: saKubeconfig,
          namespacePrefix: prefix,
          readyTimeout: '60s',
          services: { orders: { image: 'shop/orders:1', port: 8080 } },
        },
        {
          name: 'candidate',
          root: process.cwd(),
          configDir: process.cwd(),
          signal: new AbortController().signal,
          allowHosts: [],
          log: () => {},
        },
      )
      expect(sandbox.url()).toMatch(
        new RegExp(`^http://orders\\.${prefix}-candidate-[0-9a-f]{8}\\.svc:8080$`),
      )
      await sandbox.stop()
      expect(await namespacesWithPrefix(`${prefix}-candidate`)).toEqual([])
      await expect(
        collectGarbage(connect({ kubeconfig: saKubeconfig }), { dryRun: true }),
      ).resolves.toBeInstanceOf(Array)
    })

    it('grants nothing beyond that: reading secrets in kube-system is forbidden', async () => {
      const client = connect({ kubeconfig: saKubeconfig })
      await expect(client.list('v1', 'Secret', { namespace: 'kube-system' })).rejects.toMatchObject({
        status: 403,
      })
      await expect(
        client.create({
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'ClusterRole',
          metadata: { name: `${prefix}-escalate` },
          rules: [],
        } as KubeObject),
      ).rejects.toMatchObject({ status: 403 })
    })
  },
)
