/** A temporary git repository holding an `app/` folder with a config and the fixture server, for source tests. */
import { execFileSync } from 'node:child_process'
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { SERVER, tempDir } from './helpers.js'

export interface TestRepo {
  /** The repository's top level. */
  top: string
  /** `app/` inside it: the config's folder. */
  app: string
  git(...args: string[]): string
}

export function createRepo(config: string): TestRepo {
  const top = tempDir('vigil-test-repo-')
  const app = path.join(top, 'app')
  mkdirSync(app)
  const git = (...args: string[]): string =>
    execFileSync('git', args, {
      cwd: top,
      encoding: 'utf8',
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 't',
        GIT_AUTHOR_EMAIL: 't@example.test',
        GIT_COMMITTER_NAME: 't',
        GIT_COMMITTER_EMAIL: 't@example.test',
      },
    })
  git('init', '-q', '-b', 'main')
  git('config', 'commit.gpgsign', 'false')
  copyFileSync(SERVER, path.join(app, 'server.js'))
  writeFileSync(path.join(app, 'version.txt'), 'v1\n')
  writeFileSync(path.join(app, 'vigil.config.yaml'), config)
  git('add', '.')
  git('commit', '-q', '-m', 'v1')
  return { top, app, git }
}

/** A unified diff of app/version.txt from `from` to `to`, with paths relative to app/ (or the repo with `prefix`). */
export function versionPatch(from: string, to: string, prefix = ''): string {
  return [
    `diff --git a/${prefix}version.txt b/${prefix}version.txt`,
    `--- a/${prefix}version.txt`,
    `+++ b/${prefix}version.txt`,
    '@@ -1 +1 @@',
    `-${from}`,
    `+${to}`,
    '',
  ].join('\n')
}
