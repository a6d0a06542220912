#!/usr/bin/env node
// `npm run bench`: runs test/bench/run.ts through tsx's loader.
import { register } from 'tsx/esm/api'

register()
await import('../test/bench/run.ts')
