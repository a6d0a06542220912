/**
 * The files `vigil init` writes for the services it found, as text: the config, one example plan per
 * service, the `.gitignore` lines and a GitHub Actions workflow. Pure: the command does the I/O.
 */
import path from 'node:path'
import { stringify } from 'yaml'
import type { DetectedService } from './detect.js'

/** Lines `.gitignore` needs: vigil's runs, state and caches. */
export const GITIGNORE_LINES = ['.vigil/']

export function renderConfig(services: readonly DetectedService[]): string {
  const entries = Object.fromEntries(
    services.map((s) => {
      const env = Object.fromEntries(s.portVariables.filter((v) => v !== 'PORT').map((v) => [v, '{{port}}']))
      return [
        s.name,
        {
          command: s.command,
          ...(s.dir ? { cwd: s.dir } : {}),
          ...(Object.keys(env).length ? { env } : {}),
          ready: s.openapi?.health
            ? { http: s.openapi.health, timeout: '30s' }
            : { tcp: true, timeout: '30s' },
        },
      ]
    }),
  )
  const body = stringify(
    {
      plans: ['plans'],
      sandbox: { provider: 'process', default: services[0]!.name, services: entries },
    },
    { lineWidth: 0 },
  )
  return (
    '# vigil configuration, written by `vigil init`: each service is started on a free loopback port it\n' +
    '# must listen on ($PORT), once from the base of a change (the baseline) and once from the working tree\n' +
    '# (the candidate). Plans in ./plans say what to check. See the README of vigil for every key.\n' +
    body
  )
}

/** The example plan of one service: its API against its OpenAPI document if there is one, compared with the baseline. */
export function renderPlan(service: DetectedService, covers: readonly string[], planDir: string): string {
  const openapi = service.openapi
  const front = {
    name: `${service.name}-api`,
    title: `${service.name} answers as documented, and as before the change`,
    selectionHint:
      `The ${service.name} service's HTTP API: its routes, status codes and response bodies` +
      (openapi ? ` as ${openapi.file} describes them` : '') +
      '. Pick when a change touches its code, its routes or the shape of what it returns.',
    paths: [...covers],
  }
  const block: Record<string, unknown> = {}
  if (openapi && openapi.operations.length > 0) {
    block.openapi = path.posix.relative(planDir, openapi.file)
    const ids = openapi.operations.map((o) => o.id)
    if (ids.every((id): id is string => id !== undefined)) block.operations = ids
    else block.paths = openapi.operations.map((o) => o.path)
  } else block.request = 'GET /'
  block.compare = 'baseline'
  const how = openapi
    ? `Each GET operation of \`${openapi.file}\` that needs no parameter is called on the candidate; its status and body must match the document, and the body is compared with the baseline's: a removed or renamed field, a changed type or status fails.`
    : 'The root of the service is called on the candidate and compared with the baseline: a removed or renamed field, a changed type or status fails.'
  return (
    `---\n${stringify(front, { lineWidth: 100 })}---\n\n` +
    `# ${service.name}: its API, as documented and as before\n\n` +
    'Written by `vigil init` as a starting point; edit it freely. ' +
    `${how} Operations with parameters need values: add them with \`params:\`, or as \`requests:\`.\n\n` +
    '## Responses match the document and the baseline\n\n' +
    '```contract\n' +
    stringify(block, { lineWidth: 100 }) +
    '```\n'
  )
}

/** A workflow running `vigil ci` on every pull request, the artefacts kept. */
export function renderWorkflow(hasLockFile: boolean): string {
  return `# Runs the plans a pull request needs against its base (written by \`vigil init\`).
name: vigil
on:
  pull_request:
jobs:
  vigil:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0 # the merge base with the target branch is the baseline
      - uses: actions/setup-node@v4
        with:
          node-version: 20
      - run: ${hasLockFile ? 'npm ci' : 'npm install'}
      # The base is $GITHUB_BASE_REF; the verdict gates the job, the summary goes to the job's page.
      - run: npx vigil ci
      - uses: actions/upload-artifact@v4
        if: always()
        with:
          name: vigil
          path: .vigil/ci/
`
}

/**
 * The globs that cover a service for \`paths:\`: its folder, or at the root every top-level entry that is
 * not documentation, plans or tooling (a README commit is not a change of the service).
 */
export function serviceGlobs(
  service: DetectedService,
  topLevel: ReadonlyArray<{ name: string; dir: boolean }>,
): string[] {
  if (service.dir)
    return [
      `${service.dir}/**`,
      ...(service.openapi && !service.openapi.file.startsWith(`${service.dir}/`)
        ? [service.openapi.file]
        : []),
    ]
  const docs = /^(?:readme|license|licence|changelog|contributing|code_of_conduct|security)(?:\..*)?$|\.md$/i
  const tooling = new Set([
    'plans',
    'docs',
    'node_modules',
    '.git',
    '.github',
    '.vigil',
    '.gitignore',
    'vigil.config.yaml',
  ])
  return topLevel
    .filter((e) => !tooling.has(e.name) && !docs.test(e.name) && !(e.name.startsWith('.') && !e.dir))
    .map((e) => (e.dir ? `${e.name}/**` : e.name))
    .sort()
}
