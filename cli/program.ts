/**
 * Every `creditflow` command, its arguments and options, defined once (commander): the parser, the
 * per-command `--help` and `creditflow help <command>` all come from here. A command's work lives in
 * `cli/commands/<name>.ts` (`execute(args, options)`), loaded only when that command runs, so
 * `verify` does not start TensorFlow and `status` does not bundle workflows.
 */
import { Argument, Command, CommanderError, InvalidArgumentError, Option } from 'commander';

export type Options = Record<string, unknown>;
export interface ParsedCommand { name: string; args: unknown[]; options: Options }

export class UsageError extends Error {
  override name = 'UsageError';
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError('expected a TCP port (1-65535)');
  return n;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
}

/** --address / --namespace, on every command that talks to Temporal. */
function connection(c: Command): Command {
  return c
    .option('--address <host:port>', 'Temporal frontend (default: TEMPORAL_ADDRESS, else the local dev server 127.0.0.1:7233)')
    .option('--namespace <name>', 'Temporal namespace (default: TEMPORAL_NAMESPACE, else default)');
}

const OVERRIDES_HELP = `
Overrides: key.path=value arguments (or --set key.path=value) are written over the file before it
is validated; values are read as YAML (3, 1e-3, true, [1, 2]). An unknown path or a bad value is
refused like a bad line, naming the override. \`creditflow config\` lists every field.`;

const CONNECTION_HELP = `
Connection: --address, --namespace, or TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_TLS_CA,
TEMPORAL_TLS_CERT, TEMPORAL_TLS_KEY, TEMPORAL_API_KEY. Web UI links: the UI of the dev server that
\`creditflow dev\` runs for this state folder, else CREDITFLOW_UI_URL, else http://localhost:8233.`;

/** The whole command line; `chosen` receives the command that parsed. */
export function buildProgram(chosen: (c: ParsedCommand) => void): Command {
  const program = new Command('creditflow')
    .description('RL and preference fine-tuning runs on Temporal: submit, watch, steer, report.')
    .usage('<command> [options]')
    .addHelpText('after', CONNECTION_HELP)
    .helpCommand('help [command]', 'help for a command')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();

  const add = (name: string, description: string) => {
    const c = program.command(name).description(description).exitOverride()
      .action((...params: unknown[]) => {
        const cmd = params.at(-1) as Command;
        chosen({ name, args: params.slice(0, -2), options: cmd.opts() });
      });
    return c;
  };

  add('demo', 'start a dev server and a worker, run configs/demo.yaml, print the result')
    .option('--config <file>', 'experiment config to run instead of configs/demo.yaml')
    .option('--backend <name>', 'compute backend: node, wasm or cpu (default: the best present)')
    .option('--keep', 'leave the dev server, the Web UI and the worker running afterwards (Ctrl-C stops them)')
    .addOption(new Option('--port <n>', 'dev server frontend port').argParser(port).default(7233))
    .addOption(new Option('--ui-port <n>', 'Web UI port').argParser(port).default(8233))
    .option('--address <host:port>', 'run on this Temporal server instead of starting a dev server (a worker is still started here)')
    .option('--namespace <name>', 'namespace on --address (default: default)');

  add('dev', 'start the Temporal dev server (SQLite in the state folder, Web UI) and a worker; Ctrl-C stops both')
    .addOption(new Option('--port <n>', 'dev server frontend port').argParser(port).default(7233))
    .addOption(new Option('--ui-port <n>', 'Web UI port').argParser(port).default(8233))
    .option('--backend <name>', 'compute backend: node, wasm or cpu (default: the best present)')
    .addOption(new Option('--memory-budget-mb <mb>', 'the worker\'s memory for resident runs (a 135M checkpoint needs about 6000)').argParser(positiveInt).default(2048))
    .addOption(new Option('--model-width <d>', 'width (dModel) of the largest model the worker runs: picks the native backend\'s intra-op threads').argParser(positiveInt))
    .option('--tracking <list>', 'experiment trackers for runs whose config has no `tracking` (tensorboard,mlflow)')
    .addHelpText('after', '\nOne dev server per state folder (CREDITFLOW_HOME, default ./.creditflow): a second one is refused, naming the first.');

  connection(add('worker', 'start a worker against a Temporal server'))
    .option('--backend <name>', 'compute backend: node, wasm or cpu (default: CREDITFLOW_BACKEND, else the best present)')
    .addOption(new Option('--memory-budget-mb <mb>', 'memory for resident runs; least recently used runs are evicted beyond it').argParser(positiveInt).default(2048))
    .addOption(new Option('--metrics-port <port>', 'serve Prometheus metrics on this port (default: CREDITFLOW_METRICS_PORT; off)').argParser((v) => (v === '0' ? 0 : port(v))))
    .addOption(new Option('--model-width <d>', 'width (dModel) of the largest model this worker runs: picks the native backend\'s intra-op threads (TF_NUM_INTRAOP_THREADS overrides)').argParser(positiveInt))
    .option('--no-run-ahead', 'wait for each step\'s activity instead of computing the run\'s next steps early (same results, slower)')
    .option('--tracking <list>', 'experiment trackers for runs whose config has no `tracking` (default: CREDITFLOW_TRACKING; e.g. tensorboard,mlflow)')
    .addHelpText('after', '\nTrackers: TensorBoard event files under <state>/tensorboard/<run-id> (CREDITFLOW_TENSORBOARD_DIR moves them); MLflow at MLFLOW_TRACKING_URI.');

  connection(add('submit', 'validate an experiment config (RL or kind: preference) and start a run')
    .argument('<config.yaml>', 'experiment config')
    .argument('[overrides...]', 'key.path=value overrides'))
    .option('--set <key.path=value>', 'an override (repeatable)', collect)
    .option('--id <run-id>', 'the run id (default: <experiment>-<time>-<random>); an id already used is refused')
    .option('--from <run-id[@version]>', 'start from another run\'s weights (its newest checkpoint, or weights version N) instead of the warm start')
    .option('--watch', 'follow the run with a progress bar until it ends')
    .option('--dry-run', 'validate and print the resolved config; start nothing')
    .addOption(new Option('--memory-budget-mb <mb>', 'refuse a run whose estimated memory exceeds this (the budget of the workers that will run it)').argParser(positiveInt).default(2048))
    .addHelpText('after', OVERRIDES_HELP);

  connection(add('sweep', 'validate a sweep file (every trial) and start the sweep')
    .argument('<sweep.yaml>', 'experiment config plus a sweep: section')
    .argument('[overrides...]', 'key.path=value overrides of the base config or the sweep section'))
    .option('--set <key.path=value>', 'an override (repeatable)', collect)
    .option('--id <sweep-id>', 'the sweep id (default: <experiment>-sweep-<time>-<random>)')
    .option('--watch', 'show the live table of trials until the sweep ends')
    .option('--dry-run', 'list the trials; start nothing')
    .addOption(new Option('--memory-budget-mb <mb>', 'refuse trials whose estimated memory exceeds this (the budget of the workers that will run them)').argParser(positiveInt).default(2048))
    .addHelpText('after', OVERRIDES_HELP);

  connection(add('watch', 'live progress of a run (or a sweep\'s trial table) until it ends').argument('<id>', 'run or sweep id'));
  connection(add('status', 'one look at a run: status, progress, metrics, why it failed').argument('<run-id>', 'run id'))
    .option('--json', 'machine-readable output');
  connection(add('list', 'list runs, newest first'))
    .option('--query <filter>', 'a Temporal list filter, e.g. "Experiment = \'demo-arithmetic\'"')
    .addOption(new Option('--limit <n>', 'most rows').argParser(positiveInt).default(20));
  connection(add('pause', 'pause a run (or a sweep) after its current step').argument('<id>', 'run or sweep id'));
  connection(add('resume', 'resume a paused run; continue a stopped, failed or cancelled run from its newest good checkpoint')
    .argument('<id>', 'run or sweep id'))
    .addHelpText('after', '\nA closed run continues under the same id from its newest checkpoint that verifies, with the config it ran with; it ends with the weights an uninterrupted run would have.');
  connection(add('stop', 'checkpoint, then finish a run (or every trial of a sweep) cleanly').argument('<id>', 'run or sweep id'));
  connection(add('cancel', 'cancel a run now (no final checkpoint; `resume` continues it from the last one)').argument('<id>', 'run or sweep id'));
  connection(add('report', 'write a self-contained HTML report (plots, results table) for a run or a sweep').argument('<id>', 'run or sweep id'))
    .option('--out <file>', 'where to write it (default: <state>/reports/<id>.html)');
  add('check', 'verify every file of a run folder against its manifest; --repair rebuilds what the seeded steps can recompute')
    .argument('<run-id>', 'run id')
    .option('--repair', 'rebuild damaged weights versions, checkpoints, rollouts and rewards (only when bit for bit the recorded ones)')
    .option('--backend <name>', 'compute backend for the rebuild: the one the run used (default: CREDITFLOW_BACKEND, else the best present)')
    .option('--json', 'machine-readable output');
  add('inspect', 'write a self-contained HTML page of a run\'s responses token by token, coloured by each method\'s credit')
    .argument('<run-id>', 'run id (read from its folder; no server needed)')
    .addOption(new Option('--iteration <n>', 'RL: the iteration whose rollout to show (default: the last one)').argParser(positiveInt).conflicts('pair'))
    .option('--pair <id>', 'preference: one training pair (default: the first 20)')
    .option('--out <file>', 'where to write it (default: <state>/reports/<id>-inspect.html, which the report links to)');
  add('export', 'write a run fine-tuned from a local checkpoint back as a Hugging Face-style folder')
    .argument('<run-id>', 'run id')
    .requiredOption('--out <dir>', 'output folder')
    .addOption(new Option('--version <n>', 'weights version (default: the newest checkpoint)').argParser((v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a weights version number');
      return n;
    }))
    .addOption(new Option('--dtype <dtype>', 'tensor dtype of the safetensors').choices(['F32', 'BF16', 'F16']).default('F32'));
  add('verify', 'score JSONL cases with the reward verifiers (stdin or --input); one JSONL verdict a line on stdout')
    .option('-i, --input <file>', 'JSONL cases (default: stdin)')
    .addOption(new Option('--concurrency <n>', 'verifier threads').argParser(positive))
    .addOption(new Option('--timeout <ms>', 'per-case time limit').argParser(positive))
    .option('--explain', 'add, per math check, what was extracted by which rule and how it was compared')
    .option('--isolation', 'print what the code sandbox can enforce on this machine, and exit');
  add('config', 'every config field with its type, default and description (from the schema)')
    .argument('[section]', 'one section (e.g. optimizer, objective.spo), or all')
    .addOption(new Option('--kind <kind>', 'which schema').choices(['rl', 'preference', 'sweep']).default('rl'));
  add('ray', 'the Ray head runs are placed on and the jobs creditflow submitted there, by run (compute.placement: ray)')
    .addArgument(new Argument('<action>', 'status: the head and creditflow\'s jobs; step: run one model step (the entrypoint of those jobs)').choices(['status', 'step']))
    .argument('[request-file]', 'step: the request file of the job')
    .option('--ray-address <url>', 'the head\'s dashboard (default: RAY_ADDRESS, else http://127.0.0.1:8265)')
    .option('--run <run-id>', 'status: only this run\'s jobs')
    .option('--json', 'status: machine-readable output');
  return program;
}

/**
 * Parses a command line. Returns the command to run, or null when help was printed; a usage error
 * (unknown option, missing argument) throws UsageError with commander's message.
 */
export function parseCommandLine(argv: string[], write: { out: (s: string) => void; err: (s: string) => void } = {
  out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s),
}): ParsedCommand | null {
  let parsed: ParsedCommand | null = null;
  const program = buildProgram((c) => { parsed = c; });
  let lastError = '';
  const output = { writeOut: write.out, writeErr: (s: string) => { lastError += s; }, outputError: (s: string) => { lastError += s; } };
  program.configureOutput(output);
  for (const c of program.commands) c.configureOutput(output);
  try {
    program.parse(argv, { from: 'user' });
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || (err.code === 'commander.help' && err.exitCode === 0)) return null;
    if (err.code === 'commander.help') {
      write.err(lastError);
      throw new UsageError('no command given');
    }
    throw new UsageError(lastError.trim().replace(/^error: /, '') || err.message);
  }
  return parsed;
}
