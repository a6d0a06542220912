import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterEach } from 'vitest'

const made: string[] = []

afterEach(async () => {
  await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })))
})

/** A temporary folder holding `files` (path → text); removed after the test. */
export async function tempTree(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-plans-'))
  made.push(dir)
  for (const [file, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true })
    await writeFile(path.join(dir, file), text)
  }
  return dir
}

/** A valid plan named `name` with one contract check. */
export function planText(name: string, extra = ''): string {
  return `---
name: ${name}
title: Plan ${name}
selectionHint: Validates the ${name} endpoints and their response schema.
${extra}---

\`\`\`contract
request: GET /${name}
\`\`\`
`
}

/** A valid plan named `name` whose one check is a `kind` block holding `block` (a test-only kind's). */
export function blockPlan(name: string, block: string, kind = 'probe'): string {
  return `---
name: ${name}
title: Plan ${name}
selectionHint: Validates the ${name} endpoints and their response schema.
---

\`\`\`${kind}
${block}
\`\`\`
`
}
