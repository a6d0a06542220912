/**
 * The CLI's surface as static metadata: every command with its description, arguments and options, and an
 * action that imports the command's module (`commands/<name>.ts`) only when that command runs. So
 * `vigil --help` and every `vigil <command> --help` load commander and this file, and a command loads what
 * it runs and nothing of the others (`plans lint` never loads the MCP server or the Anthropic SDK).
 * Keep it so: this file imports only commander, constants from small modules and types.
 */
import { Command, Option } from 'commander'
import { DEFAULT_MODEL, SELECTOR_NAMES } from '../../selectors/options.js'
import { DEFAULT_OUT_DIR } from '../ci/defaults.js'
import { UsageError } from '../errors.js'
import { EXECUTOR_NAMES } from '../executors/names.js'
import type { SuggestFlags } from './commands/adversary.js'
import type { CiFlags } from './commands/ci.js'
import type { CoverageFlags } from './commands/coverage.js'
import type { DevFlags } from './commands/dev.js'
import type { ImpactRecordFlags } from './commands/impact.js'
import type { PlansFlags } from './commands/plans.js'
import type { PlansSuggestFlags } from './commands/plans-suggest.js'
import type { ReproduceCommandOptions } from './commands/reproduce.js'
import type { RunCommandOptions } from './commands/run.js'
import type { SandboxCommandOptions } from './commands/sandbox.js'
import type { SandboxesGcOptions } from './commands/sandboxes.js'
import type { SelectFlags } from './commands/select.js'

/** Sets the exit code a command's module returns (the MCP server returns nothing: it ends with stdin). */
async function exit(code: Promise<number | void>): Promise<void> {
  const value = await code
  if (typeof value === 'number') process.exitCode = value
}

const collect = (value: string, previous: string[]) => [...previous, value]

/** An option parser for integers from `min` up. */
function integer(name: string, min: number) {
  return (value: string): number => {
    const n = Number(value)
    if (!Number.isInteger(n) || n < min)
      throw new UsageError(`${name} ${value}: expected an integer >= ${min}`)
    return n
  }
}

const REQUESTER = () =>
  new Option('--requester <name>', 'who asked for the run (recorded in the verdict)').env('VIGIL_REQUESTER')
const SELECTOR_DEADLINE_HELP =
  'deadline of the whole LLM selection, retries included; then it degrades to rules (default: selector.deadline, 60s)'
const MODEL_HELP = `Messages API model (default: $VIGIL_MODEL, selector.model, ${DEFAULT_MODEL})`

function plans(program: Command): void {
  const PATHS_HELP = "plan files, folders or globs (default: the config's plans)"
  const CONFIG_HELP = 'vigil.config.yaml to read plan folders from (default: ./vigil.config.yaml)'
  const load = () => import('./commands/plans.js')
  const plans = program
    .command('plans')
    .description('Lint, list and show plan files; draft one for what no plan covers.')
    .addHelpText(
      'after',
      '\nExamples:\n  vigil plans lint\n  vigil plans list --json\n  vigil plans show checkout-order\n  vigil plans suggest --base origin/main',
    )
  plans
    .command('lint')
    .description(
      'Check plan files; prints file:line:col message per problem. Exit 0 when clean, 2 on errors.',
    )
    .argument('[paths...]', PATHS_HELP)
    .option('-c, --config <path>', CONFIG_HELP)
    .option('--json', 'print the report as JSON (schema: plans/schema/lint-report.json)')
    .action((paths: string[], flags: PlansFlags) => exit(load().then((m) => m.lint(paths, flags))))
  plans
    .command('list')
    .description('List plans: name, title, selection hint, check kinds, file.')
    .argument('[paths...]', PATHS_HELP)
    .option('-c, --config <path>', CONFIG_HELP)
    .option('--json', 'print the plans as JSON')
    .action((paths: string[], flags: PlansFlags) => exit(load().then((m) => m.list(paths, flags))))
  plans
    .command('show')
    .description('Print one parsed plan: its frontmatter and every check with its parameters.')
    .argument('<name>', 'the plan name (its frontmatter `name`)')
    .argument('[paths...]', PATHS_HELP)
    .option('-c, --config <path>', CONFIG_HELP)
    .option('--json', 'print the plan as JSON')
    .action((name: string, paths: string[], flags: PlansFlags) =>
      exit(load().then((m) => m.show(name, paths, flags))),
    )
  plans
    .command('suggest')
    .summary('Draft a plan for what no plan covers, run it once, write it for review.')
    .description(
      "Draft a plan for what no plan covers (`vigil coverage`: the change's uncovered code and the operations " +
        'it touches; without a change, every operation no plan exercises). A model in a separate context sees ' +
        'the diff, the API documents and the plan catalog; its draft must lint (problems are sent back once, ' +
        'then it is refused), runs once against the candidate, and is written for review, never over a file. ' +
        'Exit 0 written or nothing to suggest, 2 no API key, bad usage or a refused draft, 3 the API or the run failed.',
    )
    .argument('[diff]', 'unified diff file, or - for stdin')
    .option('-c, --config <file>', 'vigil.config.yaml to use (default: ./vigil.config.yaml)')
    .option('--base <ref>', 'the change: the working tree against the merge base of REF and HEAD')
    .option('--patch <file>', 'the change: a patch file; the candidate runs with it applied')
    .option('--api <file>', 'an OpenAPI or AsyncAPI document to show and check (repeatable)', collect, [])
    .option('--out <dir>', 'folder to write the draft into (default: suggested/ beside the plans folder)')
    .option('--print', 'print the draft instead of writing it')
    .option('--dry-run', 'print the exact request the model would get, with its size; send nothing')
    .option('--model <id>', MODEL_HELP)
    .option('--no-impact', 'ignore the impact map (vigil.impact.json beside the config)')
    .option('--json', 'print the outcome as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  vigil plans suggest --base origin/main\n  vigil plans suggest --patch change.patch --print',
    )
    .action((diff: string | undefined, flags: PlansSuggestFlags) =>
      exit(import('./commands/plans-suggest.js').then((m) => m.plansSuggest(diff, flags))),
    )
}

function select(program: Command): void {
  program
    .command('select')
    .description('Which plans apply to a change? Lists each selected plan with its source and reason.')
    .argument('[diff]', 'unified diff file, or - for stdin (default: stdin when piped)')
    .option('-c, --config <path>', 'vigil.config.yaml (default: ./vigil.config.yaml)')
    .option(
      '--base <ref>',
      'diff the working tree (and untracked files) against the merge base of REF and HEAD',
    )
    .option('--patch <file>', 'a patch file, paths relative to the config folder')
    .option(
      '--selector <name>',
      `${SELECTOR_NAMES.join(' | ')} (default: hybrid with an API key, else rules)`,
    )
    .option('--model <name>', MODEL_HELP)
    .option('--selector-deadline <duration>', SELECTOR_DEADLINE_HELP)
    .option('--threshold <n>', 'minimum lexical relevance 0..1 for rules suggestions (default 0.2)')
    .option('--json', 'print the selection record (or the evaluation report) as JSON')
    .option('--no-impact', 'ignore the impact map (vigil.impact.json beside the config)')
    .option('--explain', 'say why each plan was or was not picked by each layer, with scores and margins')
    .option(
      '--dry-run',
      'print the exact request(s) the model would get (hybrid unless --selector llm), with their size; send nothing',
    )
    .option('--out <file>', 'also write the selection record to FILE')
    .option(
      '--eval <dir|file>',
      'evaluate the selector on labelled changes: a folder of <name>.patch + <name>.expect.json, or a labels .json file',
    )
    .option('--cache-dir <dir>', 'LLM result cache (default: .vigil/cache/selections in the config folder)')
    .option('--no-cache', 'neither read nor write the LLM result cache')
    .action((diff: string | undefined, flags: SelectFlags) =>
      exit(import('./commands/select.js').then((m) => m.select(diff, flags))),
    )
}

function run(program: Command): void {
  program
    .command('run')
    .description('Run the plans against a candidate (and baseline) sandbox and print one verdict')
    .option('-c, --config <file>', 'vigil.config.yaml to use (default: ./vigil.config.yaml)')
    .option('--base <ref>', 'git ref the baseline runs from (default: the working tree)')
    .option('--patch <file>', 'patch applied to the candidate (paths relative to the config folder)')
    .option('-p, --plan <name>', 'run only this plan (repeatable)', collect, [])
    .option('--selection <file>', 'run the plans of a selection record (JSON from `vigil select --json`)')
    .option('--concurrency <n>', 'checks run at once (default: the config)', integer('--concurrency', 1))
    .option('--seed <n>', 'seed of generated inputs (default: 1)', integer('--seed', 0))
    .option(
      '-r, --reporter <name[:path]>',
      'console, json, junit:out.xml, markdown:out.md (repeatable)',
      collect,
      [],
    )
    .option('--json', 'print the JSON verdict on stdout (the live console moves to stderr)')
    .option('--no-baseline', 'do not start a baseline sandbox (checks that need one are skipped)')
    .addOption(
      new Option(
        '--executor <kind>',
        'where checks run: local, or kubernetes Jobs (default: the config)',
      ).choices(EXECUTOR_NAMES),
    )
    .option(
      '--record-impact [file]',
      'also record the impact map (default file: vigil.impact.json beside the config). Costs: each plan runs ' +
        'alone on fresh sandboxes with coverage on — one start and stop per plan, plans one after the other — ' +
        'so coverage is attributed per plan; with only some plans, theirs are replaced in the existing map. ' +
        'Not with --patch.',
    )
    .addOption(REQUESTER())
    .action((options: RunCommandOptions) =>
      exit(import('./commands/run.js').then((m) => m.runCommand(options))),
    )
}

function dev(program: Command): void {
  program
    .command('dev')
    .description(
      'The inner loop: a warm session validates the working tree against the base, again on every Enter ' +
        '(and every save with --watch), restarting only the candidate services whose files changed.',
    )
    .option('-c, --config <file>', 'vigil.config.yaml to use (default: ./vigil.config.yaml)')
    .option(
      '--base <ref>',
      'git ref the baseline runs from; the change is the working tree against it',
      'HEAD',
    )
    .option('-p, --plan <name>', 'run this plan every time instead of selecting (repeatable)', collect, [])
    .option('--all', 'also run load, resources, race, fault and migration checks (deferred by default)')
    .option('-w, --watch', 'validate again on every save (debounced)')
    .option('--debounce <ms>', 'quiet time after a save before validating', integer('--debounce', 0), 300)
    .option('--json', 'print each verdict as one line of JSON instead of the compact text')
    .option('--selector <name>', 'rules | hybrid | llm (default: rules: no network in the loop)')
    .option('--concurrency <n>', 'checks run at once (default: the config)', integer('--concurrency', 1))
    .option('--seed <n>', 'seed of generated inputs (default: 1)', integer('--seed', 0))
    .addOption(REQUESTER())
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  vigil dev --watch                          # validate every save against HEAD',
        '  vigil dev --base origin/main -p orders-contract',
        '',
        'Without --watch, a service whose files you save is restarted at once, so Enter finds it running.',
        'Each verdict says what was reused and restarted, and which checks were deferred (then it is partial).',
      ].join('\n'),
    )
    .action((flags: DevFlags) => exit(import('./commands/dev.js').then((m) => m.dev(flags))))
}

function ci(program: Command): void {
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
    .option('--selector-deadline <duration>', SELECTOR_DEADLINE_HELP)
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
      integer('--keep-runs', 1),
    )
    .option(
      '-r, --reporter <name[:path]>',
      'another reporter on top, e.g. json or markdown:pr.md',
      collect,
      [],
    )
    .option('--seed <n>', 'seed of generated inputs (default: 1)', integer('--seed', 0))
    .addOption(REQUESTER())
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
    .action((flags: CiFlags) => exit(import('./commands/ci.js').then((m) => m.ci(flags))))
}

function mcp(program: Command): void {
  program
    .command('mcp')
    .description(
      'Serve vigil to coding agents over MCP (stdio): list_plans, lint_plans, select_plans, run_plans.',
    )
    .option('-c, --config <file>', 'vigil.config.yaml to use (default: ./vigil.config.yaml)')
    .addHelpText(
      'after',
      '\nRegister it with Claude Code:\n  claude mcp add vigil -- npx vigil mcp --config vigil.config.yaml',
    )
    .action((flags: { config?: string }) => exit(import('./commands/mcp.js').then((m) => m.mcp(flags))))
}

function adversary(program: Command): void {
  const adversary = program
    .command('adversary')
    .description('Adversarial cases written with the help of a model.')
  adversary
    .command('suggest')
    .description(
      'Ask a model, as an adversary that sees only the diff and the API schemas, for cases that break the change; write them into the plan as an `adversarial suggested` block to review.',
    )
    .requiredOption('--plan <file>', 'the plan file holding an adversarial block')
    .option('--diff <file>', 'unified diff of the change, or - for stdin (default: stdin when piped)')
    .option('--base <ref>', 'diff the working tree against the merge base of REF and HEAD')
    .option('--check <name>', 'the adversarial block to start from (default: the first)')
    .option('-c, --config <path>', 'vigil.config.yaml for the model settings (selector:)')
    .option('--model <name>', MODEL_HELP)
    .option('--max-cases <n>', 'most cases to ask for, 1 to 50 (default 20)')
    .option('--dry-run', 'print the plan as it would be written instead of writing it')
    .option('--json', 'print the cases as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  git diff main | vigil adversary suggest --plan plans/orders-adversarial.md\n  vigil adversary suggest --plan plans/orders-adversarial.md --base origin/main --dry-run',
    )
    .action((flags: SuggestFlags) => exit(import('./commands/adversary.js').then((m) => m.suggest(flags))))
}

function reproduce(program: Command): void {
  program
    .command('reproduce')
    .description(
      "Replay one finding of a finished run: start the run's sides again from the sources its verdict recorded, send what produced it, print both answers and the services' log lines",
    )
    .argument('<verdict>', 'the JSON verdict of the run (.vigil/ci/verdict.json, or a saved --json output)')
    .argument('<finding-id>', 'the id of a finding in it (id: in every report)')
    .option('-c, --config <file>', 'vigil.config.yaml to use (default: the one the verdict names)')
    .option('--json', 'print the replay as JSON on stdout')
    .action((verdictFile: string, findingId: string, options: ReproduceCommandOptions) =>
      exit(import('./commands/reproduce.js').then((m) => m.reproduce(verdictFile, findingId, options))),
    )
}

function coverage(program: Command): void {
  program
    .command('coverage')
    .description(
      'What no plan exercises: changed code no plan runs (from the impact map), and API operations and ' +
        'channels no plan requests. Without a change, only the API part.',
    )
    .argument('[diff]', 'unified diff file, or - for stdin')
    .option('-c, --config <file>', 'vigil.config.yaml to use (default: ./vigil.config.yaml)')
    .option('--base <ref>', 'the change: the working tree against the merge base of REF and HEAD')
    .option('--patch <file>', 'the change: a patch file, paths relative to the config folder')
    .option(
      '--api <file>',
      'an OpenAPI or AsyncAPI document to check (repeatable; OpenAPI documents under the config folder and those plans name are read anyway)',
      collect,
      [],
    )
    .option('--no-impact', 'ignore the impact map (vigil.impact.json beside the config)')
    .option('--json', 'print the report as JSON')
    .action((diff: string | undefined, flags: CoverageFlags) =>
      exit(import('./commands/coverage.js').then((m) => m.coverage(diff, flags))),
    )
}

function impact(program: Command): void {
  const impact = program.command('impact').description('The impact map: which code each plan exercises.')
  impact
    .command('record')
    .description(
      'Run each plan alone on fresh candidate services with coverage on (NODE_V8_COVERAGE with source maps, ' +
        'or LCOV files a service writes into $VIGIL_COVERAGE_DIR) and write vigil.impact.json beside the config.',
    )
    .option('-c, --config <file>', 'vigil.config.yaml to use (default: ./vigil.config.yaml)')
    .option('--out <file>', 'where to write the map (default: vigil.impact.json beside the config)')
    .option(
      '--source-root <dir>',
      "folder the map's paths are relative to: the diffs' root (default: the config's folder)",
    )
    .option('-p, --plan <name>', 'record only this plan (repeatable)', collect, [])
    .option('--json', 'print a summary as JSON')
    .action((flags: ImpactRecordFlags) =>
      exit(import('./commands/impact.js').then((m) => m.impactRecord(flags))),
    )
}

function init(program: Command): void {
  program
    .command('init')
    .description(
      'Add vigil to this project: vigil.config.yaml for the services found, an example plan each, the ' +
        '.gitignore lines and a GitHub Actions workflow. Asks nothing; never overwrites a file.',
    )
    .option('--dir <folder>', 'the project folder (default: the current one)')
    .action((flags: { dir?: string }) => exit(import('./commands/init.js').then((m) => m.init(flags))))
}

function sandbox(program: Command): void {
  program
    .command('sandbox')
    .description('Start the sandboxes of vigil.config.yaml, print their URLs, and keep them up until Ctrl-C.')
    .option('-c, --config <file>', 'config file (default: ./vigil.config.yaml)')
    .option('--base <ref>', 'run the baseline from a git worktree of this ref')
    .option('--patch <file>', 'run the candidate from a copy of the config folder with this patch applied')
    .option('--no-baseline', 'start the candidate only')
    .option('--check', 'stop as soon as everything is ready (exit 0), e.g. to test the stack in CI')
    .addOption(new Option('--json', 'print the sandboxes as JSON on stdout'))
    .action((options: SandboxCommandOptions) =>
      exit(import('./commands/sandbox.js').then((m) => m.sandbox(options))),
    )
}

function sandboxes(program: Command): void {
  const sandboxes = program.command('sandboxes').description('Manage sandboxes that runs left behind')
  sandboxes
    .command('gc')
    .description(
      'Remove what killed runs left behind: service processes, temporary trees and git worktrees of ' +
        'runs whose vigil process is gone, and expired run namespaces on a cluster. Live runs are never touched.',
    )
    .option('-c, --config <file>', "also clean the cluster of this config's kubernetes sandbox")
    .option('--kubeconfig <file>', 'kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or in-cluster)')
    .option('--context <name>', 'kubeconfig context (default: the current one)')
    .option('--dry-run', 'only list what would be removed')
    .option('--json', 'print the runs and namespaces and what happened to them as JSON')
    .action((options: SandboxesGcOptions) =>
      exit(import('./commands/sandboxes.js').then((m) => m.sandboxesGc(options))),
    )
}

/** The commands in the order `vigil --help` lists them. */
const COMMANDS = [
  adversary,
  ci,
  coverage,
  dev,
  impact,
  init,
  mcp,
  plans,
  reproduce,
  run,
  sandbox,
  sandboxes,
  select,
]

/** The program with every command declared; nothing of a command's implementation is loaded yet. */
export function buildProgram(): Command {
  const program = new Command('vigil')
    .description(
      'Plan-driven validation of code changes: select the plans a diff needs, run them, get one verdict.',
    )
    .version('0.1.0', '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .showSuggestionAfterError(true)
    .exitOverride()
  for (const declare of COMMANDS) declare(program)
  return program
}
