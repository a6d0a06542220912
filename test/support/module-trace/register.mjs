// Preloaded with `node --import` into a CLI process a test spawns: records the URL of every module the
// process resolves into the file named by VIGIL_MODULE_TRACE, one per line: static and dynamic imports
// (the resolve hook of hooks.mjs) and every CommonJS `require`, a package's own files included.
import { appendFileSync } from 'node:fs'
import Module, { register } from 'node:module'
import { pathToFileURL } from 'node:url'

register('./hooks.mjs', import.meta.url)

const file = process.env.VIGIL_MODULE_TRACE
const resolveFilename = Module._resolveFilename
Module._resolveFilename = function (...args) {
  const resolved = resolveFilename.apply(this, args)
  if (file && resolved.startsWith('/')) appendFileSync(file, `${pathToFileURL(resolved).href}\n`)
  return resolved
}
