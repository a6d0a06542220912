import { spawn } from 'node:child_process'
import http from 'node:http'
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RUN_DIR, innerConfig, jobObject } from '../../engine/executors/kubernetes/manifest.js'
import { extractVerdict } from '../../engine/executors/kubernetes/result.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

const plan = (name: string, status: number) => `---
name: ${name}
title: ${name}
selectionHint: The orders API lists orders; pick for any change to the orders service.
---

# ${name}

## lists orders
\`\`\`e2e
steps:
  - name: list
    request: GET /orders
    expect: { status: ${status} }
\`\`\`
`

describe("the Job's container command, run as a real child process outside a cluster", () => {
  let dir: string
  let server: http.Server

  beforeAll(async () => {
    server = http.createServer((_req, res) => res.end('[]'))
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-k8s-job-command-'))
    await mkdir(path.join(dir, 'plans'))
    await writeFile(path.join(dir, 'plans', 'lists.md'), plan('lists', 200))
    await writeFile(path.join(dir, 'plans', 'creates.md'), plan('creates', 201))
    await writeFile(
      path.join(dir, 'vigil.config.yaml'),
      innerConfig({
        plans: ['plans'],
        workdir: dir,
        concurrency: 2,
        checkTimeoutMs: 10_000,
        timeoutMs: 30_000,
        env: [],
        secretNames: [],
        redactHeaders: [],
        allowHosts: [],
        candidate: {
          default: 'orders',
          services: { orders: `http://127.0.0.1:${(server.address() as AddressInfo).port}` },
          headers: {},
        },
      }),
    )
  })

  afterAll(async () => {
    await new Promise((r) => server.close(r))
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  /** Runs the Job's command as the pod would, with the mounted config replaced by the temporary one. */
  function runJobCommand(planName: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const job = jobObject({
      runId: 'deadbeef',
      namespace: 'ns',
      plan: planName,
      seed: 1,
      baseline: false,
      deadlineSeconds: 60,
      config: '',
      secrets: {},
      env: {},
      options: {
        image: 'unused',
        command: [process.execPath, path.join(root, 'bin/vigil.js')],
        workdir: dir,
        ttlMs: 60_000,
        imagePullPolicy: 'Never',
        parallelism: 1,
      },
    })
    const container = job.spec.template.spec.containers[0]
    const argv = (container.command as string[]).map((arg) =>
      arg === `${RUN_DIR}/vigil.config.yaml` ? path.join(dir, 'vigil.config.yaml') : arg,
    )
    return new Promise((resolve) => {
      const child = spawn(argv[0]!, argv.slice(1), {
        cwd: container.workingDir as string,
        env: { ...process.env, NO_COLOR: '1', VIGIL_VERDICT_FILE: path.join(dir, `${planName}.json`) },
      })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
      child.on('close', (code) => {
        clearTimeout(timer)
        resolve({ code, stdout, stderr })
      })
    })
  }

  it('prints the verdict between the markers and exits with vigil’s code: 0 when the plan passes', async () => {
    const { code, stdout, stderr } = await runJobCommand('lists')
    expect(code, stderr).toBe(0)
    const verdict = extractVerdict(stdout)!
    expect(verdict.plans.map((p) => [p.name, p.state])).toEqual([['lists', 'passed']])
  })

  it('1 when it fails, and the verdict still comes back with the finding', async () => {
    const { code, stdout } = await runJobCommand('creates')
    expect(code).toBe(1)
    const verdict = extractVerdict(stdout)!
    const check = verdict.plans[0]!.checks[0]!
    expect(check.state).toBe('failed')
    expect(check.state === 'failed' && check.findings[0]?.message).toContain('expected status 201')
  })
})
