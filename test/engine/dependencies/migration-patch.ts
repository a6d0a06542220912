/** A patch that adds one migration file to a test project's db/migrations, written beside it. */
import { writeFileSync } from 'node:fs'
import path from 'node:path'

/** Writes `<dir>/<name>.patch` adding `db/migrations/<name>` with `sql`; returns its path. */
export function patchAdding(dir: string, name: string, sql: string): string {
  const lines = sql.trimEnd().split('\n')
  const file = path.join(dir, `${name}.patch`)
  writeFileSync(
    file,
    [
      `diff --git a/db/migrations/${name} b/db/migrations/${name}`,
      'new file mode 100644',
      '--- /dev/null',
      `+++ b/db/migrations/${name}`,
      `@@ -0,0 +1,${lines.length} @@`,
      ...lines.map((l) => `+${l}`),
      '',
    ].join('\n'),
  )
  return file
}
