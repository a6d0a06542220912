/**
 * `vigil init`: adds vigil to a project without a question — the config for the services it detects, an
 * example plan per service with `paths:` covering it (so `vigil ci` selects it), the `.gitignore` lines
 * and a GitHub Actions workflow. It never overwrites a file: one that exists is kept and said so; the
 * `.gitignore` only gets the lines it lacks.
 */
import { existsSync } from 'node:fs'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { UsageError } from '../../errors.js'
import { detectServices } from '../init/detect.js'
import { GITIGNORE_LINES, renderConfig, renderPlan, renderWorkflow, serviceGlobs } from '../init/files.js'

export interface InitOptions {
  /** The project's folder. @default process.cwd() */
  dir?: string
  stdout?: { write(text: string): unknown }
}

/** What init did with each file, relative to the project. */
export interface InitResult {
  written: string[]
  kept: string[]
  appended: string[]
  /** What the user should know about what was detected. */
  notes: string[]
}

/** `vigil init`; exit code 0, or 2 when no service can be detected. */
export async function init(options: InitOptions = {}): Promise<number> {
  const out = options.stdout ?? process.stdout
  try {
    const result = await initProject(options.dir ?? process.cwd())
    for (const file of result.written) out.write(`wrote    ${file}\n`)
    for (const file of result.appended) out.write(`appended ${file}\n`)
    for (const file of result.kept) out.write(`kept     ${file} (it exists; not overwritten)\n`)
    for (const note of result.notes) out.write(`note: ${note}\n`)
    out.write('\nNext: commit these files, then `npx vigil plans lint` and `npx vigil ci` on a branch.\n')
    return 0
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    process.stderr.write(`vigil: ${error.message}\n`)
    return 2
  }
}

/** Writes what is missing in `dir` and says what it did. @throws UsageError when no service is found */
export async function initProject(dir: string): Promise<InitResult> {
  const root = path.resolve(dir)
  const services = await detectServices(root)
  if (services.length === 0)
    throw new UsageError(
      `init: no service found in ${root}: expected a package.json with a "start" script here or one folder down; write vigil.config.yaml by hand (see the README)`,
    )
  const top = (await readdir(root, { withFileTypes: true })).map((e) => ({
    name: e.name,
    dir: e.isDirectory(),
  }))
  const result: InitResult = { written: [], kept: [], appended: [], notes: [] }
  const put = async (file: string, text: string) => {
    const absolute = path.join(root, file)
    if (existsSync(absolute)) return void result.kept.push(file)
    await mkdir(path.dirname(absolute), { recursive: true })
    // `wx`: a file that appeared meanwhile is still not overwritten.
    await writeFile(absolute, text, { flag: 'wx' })
    result.written.push(file)
  }
  await put('vigil.config.yaml', renderConfig(services))
  for (const service of services)
    await put(`plans/${service.name}-api.md`, renderPlan(service, serviceGlobs(service, top), 'plans'))
  await put('.github/workflows/vigil.yml', renderWorkflow(existsSync(path.join(root, 'package-lock.json'))))
  const ignore = path.join(root, '.gitignore')
  const present = await readFile(ignore, 'utf8').catch(() => undefined)
  const lines = new Set((present ?? '').split(/\r?\n/).map((l) => l.trim()))
  const missing = GITIGNORE_LINES.filter((l) => !lines.has(l) && !lines.has(l.replace(/\/$/, '')))
  if (missing.length > 0) {
    const prefix = present && !present.endsWith('\n') ? '\n' : ''
    await writeFile(
      ignore,
      `${present ?? ''}${prefix}# vigil's runs, state and caches\n${missing.join('\n')}\n`,
    )
    ;(present === undefined ? result.written : result.appended).push('.gitignore')
  }
  for (const service of services) {
    if (service.portVariables.length === 0)
      result.notes.push(
        `service ${service.name}: its code reads no PORT variable; it must listen on the port in $PORT`,
      )
    if (!service.openapi)
      result.notes.push(
        `service ${service.name}: no OpenAPI 3 document found; its plan compares GET / with the baseline`,
      )
  }
  return result
}
