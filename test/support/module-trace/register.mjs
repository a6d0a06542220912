// Preloaded with `node --import` into a CLI process a test spawns: records the URL of every module the
// process resolves (static and dynamic imports; a package's entry, not what a CommonJS package requires
// inside itself) into the file named by VIGIL_MODULE_TRACE, one per line.
import { register } from 'node:module'

register('./hooks.mjs', import.meta.url)
