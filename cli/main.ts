/**
 * `creditflow <command>`: parse the command line (cli/program.ts), then load and run the command.
 * Exit codes: 0 done, 1 the command failed, 2 a usage error.
 */
import { parseCommandLine, UsageError, type Options } from './program.js';

type CommandModule = { execute(args: unknown[], options: Options): Promise<number> };

const COMMANDS: Record<string, () => Promise<CommandModule>> = {
  demo: () => import('./commands/demo.js'),
  dev: () => import('./commands/dev.js'),
  worker: () => import('./commands/worker.js'),
  submit: () => import('./commands/submit.js'),
  sweep: () => import('./commands/sweep.js'),
  watch: () => import('./commands/watch.js'),
  status: () => import('./commands/status.js'),
  list: () => import('./commands/list.js'),
  pause: () => import('./commands/control.js').then((m) => ({ execute: m.pause })),
  resume: () => import('./commands/resume.js'),
  stop: () => import('./commands/control.js').then((m) => ({ execute: m.stop })),
  cancel: () => import('./commands/control.js').then((m) => ({ execute: m.cancel })),
  report: () => import('./commands/report.js'),
  inspect: () => import('./commands/inspect.js'),
  export: () => import('./commands/export.js'),
  check: () => import('./commands/check.js'),
  verify: () => import('./commands/verify.js'),
  config: () => import('./commands/config.js'),
  ray: () => import('./commands/ray.js'),
};

/**
 * `creditflow status | head` closes the pipe early: end quietly, as other tools do, instead of an
 * EPIPE stack trace.
 */
function quietOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(0);
      throw err;
    });
  }
}

export async function main(argv: string[]): Promise<number> {
  quietOnClosedPipe();
  let parsed;
  try {
    parsed = parseCommandLine(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`creditflow: ${err.message}`);
    return 2;
  }
  if (!parsed) return 0;
  try {
    const command = await COMMANDS[parsed.name]();
    return await command.execute(parsed.args, parsed.options);
  } catch (err) {
    console.error(`creditflow ${parsed.name}: ${(err as Error).message}`);
    if (process.env.CREDITFLOW_DEBUG) console.error((err as Error).stack);
    return err instanceof UsageError ? 2 : 1;
  }
}
