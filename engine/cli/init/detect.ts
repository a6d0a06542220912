/**
 * What `vigil init` can tell about a project without asking: its Node services (a `package.json` with a
 * start script, at the root or one folder down), the variable each reads its port from, and an OpenAPI 3
 * document describing it.
 */
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { parse } from 'yaml'

export interface DetectedService {
  /** kebab-case, from the package name (or its folder). */
  name: string
  /** The service's folder relative to the project, `''` for the root. */
  dir: string
  /** The start command: `node FILE` when the start script is that simple, else `npm start`. */
  command: string
  /** The environment variables its code reads a port from (`PORT` first when it does). */
  portVariables: string[]
  openapi?: DetectedOpenApi
}

export interface DetectedOpenApi {
  /** Relative to the project. */
  file: string
  /** GET operations without required parameters: what a plan can call with no values to invent. */
  operations: Array<{ id?: string; path: string }>
  /** A GET path that answers without parameters and names health or readiness, for the readiness probe. */
  health?: string
}

const SKIP = new Set(['node_modules', '.git', '.vigil', 'plans', 'dist', 'build', 'coverage', '.github'])
const SOURCE = /\.(?:[cm]?js|[cm]?ts)$/
const PORT_READ = /process\.env\.([A-Z][A-Z0-9_]*PORT)\b|process\.env\[['"]([A-Z][A-Z0-9_]*PORT)['"]\]/g
const OPENAPI_NAME = /^(?:openapi|swagger|api)(?:[.-][\w-]+)?\.(?:ya?ml|json)$|\.openapi\.(?:ya?ml|json)$/i

/** The services of the project in `root`, sorted by folder (the root first). */
export async function detectServices(root: string): Promise<DetectedService[]> {
  const folders = ['', ...(await subfolders(root))]
  for (const group of ['services', 'apps', 'packages'])
    folders.push(...(await subfolders(path.join(root, group))).map((d) => `${group}/${d}`))
  const found: DetectedService[] = []
  for (const dir of folders) {
    const pkg = await readJson(path.join(root, dir, 'package.json'))
    const start =
      typeof pkg?.scripts === 'object' ? (pkg.scripts as Record<string, unknown>).start : undefined
    if (typeof start !== 'string') continue
    const simple = /^node\s+([\w./-]+)$/.exec(start.trim())
    const name =
      kebab(typeof pkg?.name === 'string' ? pkg.name.replace(/^@[^/]+\//, '') : '') ||
      kebab(path.basename(dir)) ||
      'app'
    const service: DetectedService = {
      name: found.some((s) => s.name === name) ? `${name}-${found.length + 1}` : name,
      dir,
      command: simple ? `node ${simple[1]}` : 'npm start',
      portVariables: await portVariables(path.join(root, dir)),
    }
    const openapi = await findOpenApi(root, dir)
    if (openapi) service.openapi = openapi
    found.push(service)
  }
  return found
}

async function subfolders(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => [])
  return entries
    .filter((e) => e.isDirectory() && !SKIP.has(e.name) && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort()
}

/** The `…PORT` variables the service's source reads, PORT first; files of the folder and `src/`, a few hundred at most. */
async function portVariables(dir: string): Promise<string[]> {
  const names = new Set<string>()
  const files = [
    ...(await sources(dir)),
    ...(await sources(path.join(dir, 'src'))).map((f) => path.join('src', f)),
  ]
  for (const file of files.slice(0, 300)) {
    const text = await readFile(path.join(dir, file), 'utf8').catch(() => '')
    for (const match of text.matchAll(PORT_READ)) names.add((match[1] ?? match[2])!)
  }
  return [...names].sort((a, b) => (a === 'PORT' ? -1 : b === 'PORT' ? 1 : a.localeCompare(b)))
}

async function sources(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => [])
  return entries.filter((e) => e.isFile() && SOURCE.test(e.name)).map((e) => e.name)
}

/** The first OpenAPI 3 document in the service's folder, then `openapi/`, `api/`, `docs/`, `spec/` beside it, then the root's. */
async function findOpenApi(root: string, dir: string): Promise<DetectedOpenApi | undefined> {
  const places = [dir, ...['openapi', 'api', 'docs', 'spec'].map((d) => path.join(dir, d))]
  if (dir !== '') places.push('', ...['openapi', 'api', 'docs', 'spec'])
  for (const place of places) {
    const entries = await readdir(path.join(root, place), { withFileTypes: true }).catch(() => [])
    for (const entry of entries
      .filter((e) => e.isFile() && OPENAPI_NAME.test(e.name))
      .sort((a, b) => a.name.localeCompare(b.name))) {
      const file = path.join(place, entry.name)
      const document = await readDocument(path.join(root, file))
      if (document && typeof document.openapi === 'string' && document.openapi.startsWith('3'))
        return { file: file.split(path.sep).join('/'), ...operationsOf(document) }
    }
  }
  return undefined
}

function operationsOf(document: Record<string, unknown>): Omit<DetectedOpenApi, 'file'> {
  const operations: DetectedOpenApi['operations'] = []
  const paths = (document.paths ?? {}) as Record<string, Record<string, unknown> | undefined>
  for (const [route, item] of Object.entries(paths)) {
    const get = item?.get as { operationId?: unknown; parameters?: unknown[] } | undefined
    if (!get || route.includes('{')) continue
    const shared = Array.isArray(item?.parameters) ? item.parameters : []
    const required = [...shared, ...(get.parameters ?? [])].some(
      (p) => typeof p === 'object' && p !== null && (p as { required?: unknown }).required === true,
    )
    if (required) continue
    operations.push({ ...(typeof get.operationId === 'string' ? { id: get.operationId } : {}), path: route })
  }
  const health = operations.find((o) => /health|ready|alive|status|ping/i.test(o.path))?.path
  return { operations, ...(health ? { health } : {}) }
}

async function readDocument(file: string): Promise<Record<string, unknown> | undefined> {
  try {
    const value = parse(await readFile(file, 'utf8')) as unknown
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

async function readJson(file: string): Promise<Record<string, unknown> | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>
  } catch {
    return undefined
  }
}

function kebab(text: string): string {
  return text
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
}
