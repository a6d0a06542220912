import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { GcEntry } from '../../engine/kubernetes/gc.js'
import { namespaceObject, runLabels } from '../../engine/sandboxes/kubernetes/manifests.js'
import { startSimulatedKubelet, type SimulatedKubelet } from './support/kubelet.js'
import {
  TIER_KUBECONFIG,
  TIER_NOTE,
  namespacesWithPrefix,
  tierClient,
  tierCore,
  uniqueSuffix,
} from './support/tier.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const prefix = `cl${uniqueSuffix()}`

interface Spawned {
  child: ChildProcess
  stdout: () => string
  stderr: () => string
  exited: Promise<number | null>
}

function vigil(args: string[]): Spawned {
  const child = spawn(process.execPath, ['bin/vigil.js', ...args], {
    cwd: root,
    env: { ...process.env, NO_COLOR: '1' },
  })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()))
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()))
  const timer = setTimeout(() => child.kill('SIGKILL'), 90_000)
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve(code)
    }),
  )
  return { child, stdout: () => stdout, stderr: () => stderr, exited }
}

async function waitFor(what: () => boolean, label: string, spawned: Spawned): Promise<void> {
  const deadline = Date.now() + 60_000
  while (!what()) {
    if (Date.now() > deadline || spawned.child.exitCode !== null) {
      throw new Error(`${label} did not happen:\n${spawned.stdout()}\n${spawned.stderr()}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
}

describe.skipIf(!TIER_KUBECONFIG)(
  `vigil sandbox and vigil sandboxes gc ${TIER_NOTE}, pods made ready by a simulated kubelet`,
  () => {
    let dir: string
    let config: string
    let kubelet: SimulatedKubelet
    const api = TIER_KUBECONFIG ? tierClient() : undefined!

    beforeAll(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-k8s-cli-'))
      config = path.join(dir, 'vigil.config.yaml')
      await writeFile(
        config,
        [
          'sandbox:',
          '  provider: kubernetes',
          `  kubeconfig: ${TIER_KUBECONFIG}`,
          `  namespacePrefix: ${prefix}`,
          '  ttl: 1s',
          '  readyTimeout: 60s',
          '  services:',
          '    orders: { image: "shop/orders:1", port: 8080 }',
          '',
        ].join('\n'),
      )
      kubelet = startSimulatedKubelet(tierCore(), { namespacePrefix: prefix })
    })

    afterAll(async () => {
      await kubelet?.stop()
      for (const ns of await namespacesWithPrefix(prefix).catch(() => [])) {
        await api.delete({ apiVersion: 'v1', kind: 'Namespace', name: ns }, 'Foreground')
      }
      if (dir) await rm(dir, { recursive: true, force: true })
    })

    it('Ctrl-C on `vigil sandbox` deletes the run namespace before exiting 130', async () => {
      const run = vigil(['sandbox', '--config', config, '--no-baseline'])
      try {
        // stdout and stderr are two pipes: their data may reach this process in either order.
        const listed = /orders\s+http:\/\/127\.0\.0\.1:\d+ {2}\(default\)/
        await waitFor(
          () => run.stderr().includes('press Ctrl-C') && listed.test(run.stdout()),
          'the sandbox coming up with its URLs listed',
          run,
        )
        expect(await namespacesWithPrefix(prefix)).toHaveLength(1)
      } finally {
        // Also when an assertion above failed: the run must not outlive this test with its namespace.
        run.child.kill('SIGINT')
        await run.exited
      }
      expect(await run.exited).toBe(130)
      expect(run.stderr()).toMatch(
        new RegExp(`candidate sandbox: namespace ${prefix}-candidate-[0-9a-f]{8} deleted`),
      )
      expect(await namespacesWithPrefix(prefix)).toEqual([])
    })

    it('a killed run leaves its namespace; `vigil sandboxes gc` lists it with --dry-run, then deletes it and keeps unexpired ones', async () => {
      const run = vigil(['sandbox', '--config', config, '--no-baseline'])
      await waitFor(() => run.stderr().includes('press Ctrl-C'), 'the sandbox coming up', run)
      run.child.kill('SIGKILL')
      await run.exited
      const [left] = await namespacesWithPrefix(prefix)
      expect(left).toMatch(new RegExp(`^${prefix}-candidate-[0-9a-f]{8}$`))
      // A live run's namespace, expiring in an hour: gc must keep it.
      const live = `${prefix}-live`
      await api.create(
        namespaceObject(live, runLabels('live0001', 'candidate'), new Date(Date.now() + 3_600_000), 'test'),
      )
      await new Promise((r) => setTimeout(r, 1100))

      const dry = vigil(['sandboxes', 'gc', '--config', config, '--dry-run', '--json'])
      expect(await dry.exited).toBe(0)
      const planned = (JSON.parse(dry.stdout()) as { namespaces: GcEntry[] }).namespaces.filter((e) =>
        e.namespace.startsWith(prefix),
      )
      expect(planned.map((e) => [e.namespace, e.action])).toEqual([
        [left, 'would-delete'],
        [live, 'kept'],
      ])
      expect(await namespacesWithPrefix(prefix)).toEqual([left, live])

      const gc = vigil(['sandboxes', 'gc', '--kubeconfig', TIER_KUBECONFIG])
      expect(await gc.exited).toBe(0)
      expect(gc.stdout()).toMatch(new RegExp(`${left}\\s+run [0-9a-f]{8}\\s+expires \\S+\\s+deleted`))
      expect(gc.stdout()).toMatch(
        new RegExp(`${live}\\s+run live0001\\s+expires \\S+\\s+kept \\(not expired\\)`),
      )
      expect(await namespacesWithPrefix(prefix)).toEqual([live])
    })

    it('`vigil sandboxes gc` with a context the kubeconfig lacks is a usage error (exit 2)', async () => {
      const gc = vigil(['sandboxes', 'gc', '--kubeconfig', TIER_KUBECONFIG, '--context', 'nope'])
      expect(await gc.exited).toBe(2)
      expect(gc.stderr()).toContain('no context "nope"; it has vigil-tier')
    })
  },
)
