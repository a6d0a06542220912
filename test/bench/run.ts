/**
 * `npm run bench [name…]`: runs every `*.bench.ts` here (or those whose name contains an argument)
 * one after another, prints each one's detail and a table of goals. Exits 1 when a goal is missed.
 */
import { readdir } from 'node:fs/promises'
import { fileURLToPath, pathToFileURL } from 'node:url'
import path from 'node:path'
import type { Bench, BenchGoal } from './harness.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const filters = process.argv.slice(2)
const files = (await readdir(here))
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort()

const rows: Array<BenchGoal & { bench: string }> = []
for (const file of files) {
  const { bench } = (await import(pathToFileURL(path.join(here, file)).href)) as { bench: Bench }
  console.log(`\n## ${bench.name} (${file})`)
  const goals = await bench.run((line) => console.log(`  ${line}`))
  rows.push(...goals.map((g) => ({ ...g, bench: bench.name })))
}

console.log('\n## goals')
for (const row of rows) {
  const value = `${row.value.toFixed(row.value < 10 ? 2 : 0)} ${row.unit}`.trim()
  const state = row.met ? 'met   ' : row.informational ? 'below ' : 'MISSED'
  console.log(`${state}  ${row.bench}: ${row.label} = ${value} (goal ${row.goal})`)
}
const missed = rows.filter((r) => !r.met && !r.informational).length
const below = rows.filter((r) => !r.met && r.informational).length
console.log(
  `\n${rows.length - missed - below} goals met, ${missed} missed${below ? `, ${below} below a target not yet enforced` : ''}`,
)
process.exitCode = missed ? 1 : 0
