/**
 * `vigil ci`: the pull-request gate in one command — diff, selection, sandboxes, run, reporters,
 * artefacts, exit code.
 */
import { runCi } from '../../ci/run-ci.js'
import { installSignalHandlers } from '../../lifecycle.js'

export interface CiFlags {
  config?: string
  base?: string
  patch?: string
  selection?: string
  selector?: string
  selectorDeadline?: string
  out?: string
  junit?: string
  reporter: string[]
  keepRuns?: number
  seed?: number
  requester?: string
}

/** `vigil ci`; the verdict's exit code. */
export async function ci(flags: CiFlags): Promise<number> {
  const controller = new AbortController()
  const running = runCi({
    configPath: flags.config,
    base: flags.base,
    patch: flags.patch,
    selectionFile: flags.selection,
    selector: flags.selector,
    selectorDeadline: flags.selectorDeadline,
    outDir: flags.out,
    junit: flags.junit,
    keepRuns: flags.keepRuns,
    reporters: flags.reporter,
    seed: flags.seed,
    requester: flags.requester,
    stdout: process.stdout,
    stderr: process.stderr,
    isTTY: process.stdout.isTTY === true,
    signal: controller.signal,
  })
  // Ctrl-C: cancel the checks in flight; the verdict and the artefacts are still written.
  installSignalHandlers(() => {
    process.stderr.write('vigil: interrupted, cancelling the checks in flight…\n')
    controller.abort()
    return running.then(
      () => undefined,
      () => undefined,
    )
  })
  return (await running).exitCode
}
