#!/usr/bin/env node
// `npm run vigil`: the CLI from its TypeScript sources, through tsx's loader (a development dependency), so
// an edit runs without a build. Users and the tests run bin/vigil.js, the built JavaScript.
import { register } from 'tsx/esm/api'

register()
const { main } = await import('../engine/cli/main.ts')
process.exitCode = await main(process.argv)
