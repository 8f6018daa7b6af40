/**
 * `creditflow demo` (`npm start`): the whole product in one command. Starts the dev server and a
 * worker (or, with --address, only a worker against that server), runs `configs/demo.yaml` (SFT
 * warm start, then GRPO on the arithmetic task), prints the learning result, the run folder and the
 * Web UI link, then shuts everything down. The run stays in the SQLite history: `creditflow dev`
 * brings the UI back with it.
 */
import { fileURLToPath } from 'node:url';
import { loadConfigFile } from '../../configs/load.js';
import { formatPercent } from '../../report/format.js';
import { stateDir } from '../../store/paths.js';
import { startWorker } from '../../worker/run-worker.js';
import { startLocalStack } from '../local-stack.js';
import { connectClient, targetFrom, uiLink } from '../options.js';
import type { Options } from '../program.js';
import { submitRun } from '../submit-run.js';
import { watchRun } from '../watch-run.js';

const DEMO_CONFIG = fileURLToPath(new URL('../../configs/demo.yaml', import.meta.url));

/** A dev server and a worker here, or only a worker when --address names a server to use. */
async function startStack(options: Options, modelWidth: number) {
  if (options.address) {
    const target = targetFrom(options);
    const worker = await startWorker({ target, stateDir: stateDir(), backend: options.backend as string | undefined, modelWidth });
    return { target, backend: worker.backend.name, stop: () => worker.shutdown() };
  }
  const stack = await startLocalStack({ port: options.port as number, uiPort: options.uiPort as number, backend: options.backend as string | undefined, modelWidth, command: 'creditflow demo' });
  return { target: { address: stack.server.address, namespace: stack.server.namespace }, backend: stack.worker.backend.name, stop: () => stack.stop() };
}

export async function execute(_args: unknown[], options: Options): Promise<number> {
  const config = loadConfigFile((options.config as string | undefined) ?? DEMO_CONFIG);
  const started = Date.now();
  const stack = await startStack(options, config.model.dModel);
  const target = stack.target;
  try {
    const client = await connectClient(target);
    const handle = await submitRun(client, config);
    console.log(`run ${handle.workflowId}: ${uiLink(target, handle.workflowId)}`);
    const result = await watchRun(client, handle.workflowId);
    await client.connection.close();
    console.log('');
    console.log(`SFT warm-start accuracy : ${formatPercent(result.warmStartAccuracy)}`);
    console.log(`final accuracy          : ${formatPercent(result.finalAccuracy)} (best ${formatPercent(result.bestAccuracy)})`);
    console.log(`iterations              : ${result.iterations}`);
    console.log(`run folder              : ${result.runDir}`);
    console.log(`Web UI                  : ${uiLink(target, handle.workflowId)}`);
    console.log(`wall time               : ${((Date.now() - started) / 1000).toFixed(0)} s on backend ${stack.backend}`);
    if (options.keep && !options.address) {
      console.log('server and worker keep running (--keep); Ctrl-C stops them');
      const { untilInterrupted } = await import('../shutdown.js');
      await untilInterrupted();
    } else if (!options.address) {
      console.log("(the run stays in the dev server's SQLite file: `creditflow dev` reopens the Web UI with it)");
    }
    return 0;
  } finally {
    await stack.stop();
  }
}
