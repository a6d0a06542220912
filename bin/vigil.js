#!/usr/bin/env node
// The CLI entry: the JavaScript built into dist/ (`npm ci` builds it; `npm run build` after editing the
// sources). `npm run vigil` runs the TypeScript sources instead, through tsx (bin/vigil-dev.js).
import { fileURLToPath } from 'node:url'

const main = new URL('../dist/engine/cli/main.js', import.meta.url)
let cli
try {
  cli = await import(main.href)
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes(fileURLToPath(main)))
    throw error
  process.stderr.write('vigil: the CLI is not built (dist/ is missing); run `npm run build`\n')
  process.exit(3)
}
process.exitCode = await cli.main(process.argv)
