/** `creditflow dev`: the dev server (SQLite, Web UI on :8233) and a worker, until Ctrl-C. */
import { parse } from '../options.js';
import { startLocalStack } from '../local-stack.js';
import { untilInterrupted } from '../shutdown.js';

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, { port: { type: 'string' }, 'ui-port': { type: 'string' }, backend: { type: 'string' } }, []);
  if (values.help) {
    console.log('usage: creditflow dev [--port 7233] [--ui-port 8233] [--backend NAME]');
    return 0;
  }
  const stack = await startLocalStack({
    port: values.port ? Number(values.port) : undefined,
    uiPort: values['ui-port'] ? Number(values['ui-port']) : undefined,
    backend: values.backend,
  });
  console.log('ready: submit runs with `creditflow submit configs/demo.yaml`; Ctrl-C stops the server and the worker');
  const why = await Promise.race([untilInterrupted().then((s) => `received ${s}`), stack.worker.done.then(() => 'worker stopped')]);
  console.log(`\nstopping (${why}) ...`);
  await stack.stop();
  console.log('stopped');
  return 0;
}
