// The resolve hook of register.mjs; runs on the loader's thread.
import { appendFileSync } from 'node:fs'

const file = process.env.VIGIL_MODULE_TRACE

export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context)
  if (file) appendFileSync(file, `${resolved.url}\n`)
  return resolved
}
