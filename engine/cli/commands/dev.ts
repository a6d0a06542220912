/**
 * `vigil dev`: the agent's loop on the command line. A warm session validates the working tree against
 * the base, then again on every Enter (and, with `--watch`, on every save), printing a compact verdict each
 * time that ends with the console's verdict line. A service whose files were saved is restarted as soon as
 * the save settles, so Enter (or, with `--watch`, the iteration the save starts) finds it running. Ctrl-C
 * (or the end of stdin without `--watch`) stops every sandbox; the exit code is the last verdict's.
 */
import path from 'node:path'
import { createInterface } from 'node:readline'
import { loadConfig } from '../../../plans/config.js'
import { renderCompact, renderJson } from '../../../reporters/index.js'
import { DevSession } from '../../dev/session.js'
import { watchFolder, type FolderWatch } from '../../dev/watch.js'
import { installSignalHandlers } from '../../lifecycle.js'
import type { Verdict } from '../../verdict.js'

export interface DevFlags {
  config?: string
  base?: string
  plan: string[]
  all?: boolean
  watch?: boolean
  json?: boolean
  selector?: string
  seed?: number
  concurrency?: number
  requester?: string
  debounce: number
}

export async function dev(flags: DevFlags): Promise<number> {
  const cwd = process.cwd()
  const say = (line: string): void => void process.stderr.write(`vigil: ${line}\n`)
  const session = new DevSession({
    ...(flags.config === undefined ? {} : { configPath: flags.config }),
    cwd,
    ...(flags.base === undefined ? {} : { base: flags.base }),
    all: flags.all === true,
    ...(flags.plan.length ? { planNames: flags.plan } : {}),
    ...(flags.selector === undefined ? {} : { selector: { selector: flags.selector } }),
    ...(flags.seed === undefined ? {} : { seed: flags.seed }),
    ...(flags.concurrency === undefined ? {} : { concurrency: flags.concurrency }),
    ...(flags.requester === undefined ? {} : { requester: flags.requester }),
    log: say,
    // What was saved restarts as soon as the save settles: before Enter is pressed, or, with --watch, while
    // the iteration the save starts waits out its longer debounce.
    restartOnSave: true,
  })
  // Verdicts go to stdout: compact text, or one JSON verdict per line with --json.
  const show = (verdict: Verdict): void => {
    const text = flags.json ? `${JSON.stringify(JSON.parse(renderJson(verdict)))}\n` : renderCompact(verdict)
    process.stdout.write(text)
  }
  let last: Verdict | undefined
  let controller = new AbortController()
  let pending = false
  let running: Promise<void> | undefined
  // One iteration at a time; saves during an iteration ask for exactly one more after it.
  const iterate = (): Promise<void> => {
    if (running) {
      pending = true
      return running
    }
    running = (async () => {
      do {
        pending = false
        controller = new AbortController()
        last = await session.iterate({ signal: controller.signal })
        show(last)
      } while (pending && !stopping)
    })().finally(() => (running = undefined))
    return running
  }

  let stopping = false
  let watcher: FolderWatch | undefined
  let finished!: () => void
  const done = new Promise<void>((resolve) => (finished = resolve))
  const stop = async (): Promise<void> => {
    if (stopping) return
    stopping = true
    watcher?.close()
    controller.abort()
    await running?.catch(() => undefined)
    await session.stop()
    finished()
  }
  installSignalHandlers(() => {
    say('interrupted, stopping the sandboxes…')
    return stop()
  })

  await iterate()
  if (flags.watch) {
    const loaded = await loadConfig(flags.config, cwd)
    watcher = await watchFolder(loaded.dir, flags.debounce, () => void iterate())
    say(`watching ${path.relative(cwd, loaded.dir) || '.'} for changes; Ctrl-C stops`)
  } else {
    say('press Enter to validate again; Ctrl-D or Ctrl-C stops')
    const lines = createInterface({ input: process.stdin })
    lines.on('line', () => void iterate())
    lines.on('close', () => void stop())
  }
  await done
  return last?.exitCode ?? 3
}
