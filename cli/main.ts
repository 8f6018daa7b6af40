/**
 * `creditflow <command>`: a thin dispatcher. Each command lives in `cli/commands/<name>.ts` and
 * exports `run(argv): Promise<number>` (the exit code); it is loaded only when used, so `verify`
 * does not start TensorFlow and `status` does not bundle workflows.
 */
const COMMANDS: Record<string, { summary: string; load: () => Promise<{ run(argv: string[]): Promise<number> }> }> = {
  demo: { summary: 'start a dev server and a worker, run configs/demo.yaml, print the result', load: () => import('./commands/demo.js') },
  dev: { summary: 'start the Temporal dev server (SQLite, Web UI on :8233) and a worker; Ctrl-C stops both', load: () => import('./commands/dev.js') },
  worker: { summary: 'start a worker against a Temporal server', load: () => import('./commands/worker.js') },
  submit: { summary: 'validate an experiment config and start a run', load: () => import('./commands/submit.js') },
  watch: { summary: 'live progress of a run (or a sweep\'s trial table) until it ends', load: () => import('./commands/watch.js') },
  status: { summary: 'one look at a run: status, iteration, metrics', load: () => import('./commands/status.js') },
  list: { summary: 'list runs (optionally filtered by a Temporal list query)', load: () => import('./commands/list.js') },
  pause: { summary: 'pause a run after its current iteration', load: () => import('./commands/control.js').then((m) => ({ run: m.pause })) },
  resume: { summary: 'resume a paused run', load: () => import('./commands/control.js').then((m) => ({ run: m.resume })) },
  stop: { summary: 'checkpoint, then finish a run cleanly', load: () => import('./commands/control.js').then((m) => ({ run: m.stop })) },
  cancel: { summary: 'cancel a run now (no final checkpoint)', load: () => import('./commands/control.js').then((m) => ({ run: m.cancel })) },
  sweep: { summary: 'validate a sweep file (every trial) and start the sweep', load: () => import('./commands/sweep.js') },
  report: { summary: 'write a self-contained HTML report (plots, results table) for a run or a sweep', load: () => import('./commands/report.js') },
  export: { summary: 'write a run fine-tuned from a local checkpoint back as a Hugging Face-style folder', load: () => import('./commands/export.js') },
  verify: { summary: 'score JSONL cases with the reward verifiers (stdin or --input)', load: () => import('./commands/verify.js') },
  ray: { summary: 'the Ray head runs are placed on and the jobs creditflow submitted there (ray status)', load: () => import('./commands/ray.js') },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return [
    'usage: creditflow <command> [options]',
    '',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'Connection: --address host:port, --namespace NAME, or TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE /',
    'TEMPORAL_TLS_CA / TEMPORAL_TLS_CERT / TEMPORAL_TLS_KEY / TEMPORAL_API_KEY.',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`creditflow: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  try {
    return await (await command.load()).run(rest);
  } catch (err) {
    console.error(`creditflow ${name}: ${(err as Error).message}`);
    if (process.env.CREDITFLOW_DEBUG) console.error((err as Error).stack);
    return 1;
  }
}
