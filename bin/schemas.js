#!/usr/bin/env node
// `npm run schemas`: writes plans/schema/checks/<kind>.json from each check kind's own schema (meta.schema).
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { format, resolveConfig } from 'prettier'
import { register } from 'tsx/esm/api'

register()
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const { writeCheckSchemas } = await import('../engine/run/check-schemas.ts')
const options = { ...(await resolveConfig(path.join(root, 'package.json'))), parser: 'json' }
for (const file of await writeCheckSchemas(root, (text) => format(text, options)))
  console.log(`wrote ${file}`)
