#!/usr/bin/env node
// `npm run build`, and `prepare` (so `npm ci` and `npm pack` build): compiles the TypeScript sources of
// engine/, plans/, selectors/ and reporters/ into dist/ with tsc's build mode (incremental: when nothing
// changed it only compares the sources with dist/.tsbuildinfo), copies the files the code reads at run time
// that are not TypeScript (the JSON schemas) beside their modules, generates the validators of vigil's own
// schemas (dist/plans/validators/, see engine/run/validators.ts), and removes what dist/ holds of sources
// that no longer exist, so the built CLI never runs a module the sources dropped. Exits 1 on a type error.
import { spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const dist = path.join(root, 'dist')
const SOURCES = ['engine', 'plans', 'selectors', 'reporters']
const BUILD_INFO = '.tsbuildinfo'
/** Generated at build time, not compiled from a source: see writeValidators. */
const VALIDATORS = path.join('plans', 'validators')

/** Every file under `dir`, relative to `base`. */
function walk(dir, base = dir, out = []) {
  if (!existsSync(dir)) return out
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) walk(full, base, out)
    else out.push(path.relative(base, full))
  }
  return out
}

const isTypeScript = (file) => file.endsWith('.ts') && !file.endsWith('.d.ts')

/** The sources, relative to the repository: TypeScript modules and the other files they read. */
function sources() {
  return SOURCES.flatMap((folder) => walk(path.join(root, folder)).map((file) => path.join(folder, file)))
}

/** Where a source lands in dist/. */
const output = (source) => path.join(dist, isTypeScript(source) ? source.replace(/\.ts$/, '.js') : source)

/** Modification time of a file, or 0 when it does not exist. */
function stamp(file) {
  return existsSync(file) ? statSync(file).mtimeMs : 0
}

/**
 * Generates the validators of vigil's own schemas into dist/plans/validators/ (engine/run/validators.ts),
 * in a process of its own since the built modules are ES modules. Run when tsc emitted or a schema was
 * copied: the validators are found by their schema's content, so an older set is never wrong, only slower.
 */
function writeValidators() {
  const script = `const { writeValidators } = await import(${JSON.stringify(pathToFileURL(path.join(dist, 'engine/run/validators.js')).href)})
await writeValidators(${JSON.stringify(path.join(dist, 'plans'))})`
  const done = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: root,
    encoding: 'utf8',
  })
  if (done.error) throw done.error
  return { ok: done.status === 0, messages: `${done.stdout}${done.stderr}`.trim() }
}

function tsc(force) {
  const bin = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  const args = [bin, '-b', 'tsconfig.build.json', ...(force ? ['--force'] : [])]
  return spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' })
}

/** Builds dist/ when it is stale; returns tsc's messages (empty when the sources type-check). */
export function build() {
  const files = sources()
  // A compiled module missing from dist/ (deleted by hand) is not something tsc -b notices by itself.
  const missing = files.some((file) => isTypeScript(file) && !existsSync(output(file)))
  const before = stamp(path.join(dist, BUILD_INFO))
  const compiled = tsc(missing)
  if (compiled.error) throw compiled.error
  const messages = `${compiled.stdout}${compiled.stderr}`.trim()
  if (compiled.status !== 0) return { ok: false, messages }

  let changed = missing || stamp(path.join(dist, BUILD_INFO)) !== before
  for (const file of files) {
    if (isTypeScript(file) || file.endsWith('.d.ts')) continue
    const from = path.join(root, file)
    const to = output(file)
    if (existsSync(to) && statSync(to).mtimeMs >= statSync(from).mtimeMs) continue
    mkdirSync(path.dirname(to), { recursive: true })
    copyFileSync(from, to)
    changed = true
  }
  const expected = new Set(files.map((file) => path.relative(dist, output(file))))
  for (const file of walk(dist)) {
    if (file !== BUILD_INFO && !file.startsWith(VALIDATORS) && !expected.has(file))
      rmSync(path.join(dist, file))
  }
  if (changed || !existsSync(path.join(dist, VALIDATORS, 'index.json'))) {
    const generated = writeValidators()
    if (!generated.ok) return generated
  }
  return { ok: true, messages }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { ok, messages } = build()
  if (messages) process.stderr.write(`${messages}\n`)
  process.exitCode = ok ? 0 : 1
}
