#!/usr/bin/env node
// The CLI entry: loads the TypeScript sources through tsx's loader, then hands over to the CLI.
import { register } from 'tsx/esm/api'

register()
const { main } = await import('../engine/cli/main.ts')
process.exitCode = await main(process.argv)
