/**
 * `creditflow demo` (`npm start`): the whole product in one command. Starts the dev server and a
 * worker, runs `configs/demo.yaml` (SFT warm start, then GRPO on the arithmetic task), prints the
 * learning result, the run folder and the Web UI link, then shuts everything down. The run stays in
 * the SQLite history: `creditflow dev` brings the UI back with it.
 */
import { fileURLToPath } from 'node:url';
import { loadConfigFile } from '../../configs/load.js';
import { startLocalStack } from '../local-stack.js';
import { connectClient, parse, uiLink } from '../options.js';
import { submitRun } from '../submit-run.js';
import { watchRun } from '../watch-run.js';

const DEMO_CONFIG = fileURLToPath(new URL('../../configs/demo.yaml', import.meta.url));

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, { config: { type: 'string' }, backend: { type: 'string' }, keep: { type: 'boolean' } }, []);
  if (values.help) {
    console.log('usage: creditflow demo [--config FILE] [--backend NAME] [--keep]  (--keep: leave the server and UI running)');
    return 0;
  }
  const config = loadConfigFile(values.config ?? DEMO_CONFIG);
  const started = Date.now();
  const stack = await startLocalStack({ backend: values.backend });
  const target = { address: stack.server.address, namespace: stack.server.namespace };
  try {
    const client = await connectClient(target);
    const handle = await submitRun(client, config);
    console.log(`run ${handle.workflowId}: ${uiLink(target, handle.workflowId)}`);
    const result = await watchRun(client, handle.workflowId);
    await client.connection.close();
    const pct = (x: number | null) => (x === null ? 'n/a' : `${(100 * x).toFixed(1)}%`);
    console.log('');
    console.log(`SFT warm-start accuracy : ${pct(result.warmStartAccuracy)}`);
    console.log(`final accuracy          : ${pct(result.finalAccuracy)} (best ${pct(result.bestAccuracy)})`);
    console.log(`iterations              : ${result.iterations}`);
    console.log(`run folder              : ${result.runDir}`);
    console.log(`Web UI                  : ${uiLink(target, handle.workflowId)}`);
    console.log(`wall time               : ${((Date.now() - started) / 1000).toFixed(0)} s on backend ${stack.worker.backend.name}`);
    if (values.keep) {
      console.log('server and worker keep running (--keep); Ctrl-C stops them');
      const { untilInterrupted } = await import('../shutdown.js');
      await untilInterrupted();
    } else {
      console.log("(the run stays in the dev server's SQLite file: `creditflow dev` reopens the Web UI with it)");
    }
    return 0;
  } finally {
    await stack.stop();
  }
}
