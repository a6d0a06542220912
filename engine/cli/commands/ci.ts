/**
 * `vigil ci`: the pull-request gate in one command — diff, selection, sandboxes, run, reporters,
 * artefacts, exit code.
 */
import { Option, type Command } from 'commander'
import { runCi } from '../../ci/run-ci.js'
import { DEFAULT_OUT_DIR } from '../../ci/outputs.js'
import { UsageError } from '../../errors.js'
import { installSignalHandlers } from '../../lifecycle.js'
import type { RegisterCommand } from './index.js'

interface CiFlags {
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

const collect = (value: string, previous: string[]) => [...previous, value]

function keepRuns(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--keep-runs ${value}: expected an integer >= 1`)
  return n
}

function seed(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--seed ${value}: expected an integer >= 0`)
  return n
}

export const registerCi: RegisterCommand = (program: Command) => {
  program
    .command('ci')
    .description(
      'Gate a change: select the plans its diff needs, run them against a baseline and a candidate, ' +
        'write the verdict, selection, JUnit and Markdown summary, exit with the verdict (0 pass, 1 fail, 2 usage or plan error, 3 infrastructure).',
    )
    .option('-c, --config <file>', 'vigil.config.yaml to use (default: ./vigil.config.yaml)')
    .option(
      '--base <ref>',
      'diff the working tree against the merge base of REF and HEAD; the baseline runs from that merge base ' +
        '(default: $GITHUB_BASE_REF, else origin/HEAD, else main or master)',
    )
    .option(
      '--patch <file>',
      'validate a patch instead: the candidate is a patched copy of the config folder',
    )
    .option('--selection <file>', 'run the plans of this selection record (from `vigil select --out`)')
    .option('--selector <name>', 'hybrid | llm | rules (default: hybrid with an API key, else rules)')
    .option(
      '--selector-deadline <duration>',
      'deadline of the whole LLM selection, retries included; then it degrades to rules (default: selector.deadline, 60s)',
    )
    .option(
      '--out <dir>',
      'where verdict.json, selection.json, junit.xml, summary.md are found: a link to the folder of the run ' +
        'that finished last (each run writes into .vigil/runs/<run-id>/)',
      DEFAULT_OUT_DIR,
    )
    .option('--junit <path>', 'also write the JUnit XML here')
    .option(
      '--keep-runs <n>',
      'run folders kept in .vigil/runs (default: $VIGIL_KEEP_RUNS, else 20)',
      keepRuns,
    )
    .option(
      '-r, --reporter <name[:path]>',
      'another reporter on top, e.g. json or markdown:pr.md',
      collect,
      [],
    )
    .option('--seed <n>', 'seed of generated inputs (default: 1)', seed)
    .addOption(
      new Option('--requester <name>', 'who asked for the run (recorded in the verdict)').env(
        'VIGIL_REQUESTER',
      ),
    )
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  vigil ci                                   # a pull request checkout: against the default branch',
        '  vigil ci --base origin/main --junit reports/vigil.xml',
        '  vigil ci --config samples/shop/vigil.config.yaml --patch samples/shop/changes/field-rename.patch',
        '',
        'With $GITHUB_STEP_SUMMARY set, the Markdown summary is appended to it as well.',
      ].join('\n'),
    )
    .action(async (flags: CiFlags) => {
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
      process.exitCode = (await running).exitCode
    })
}
