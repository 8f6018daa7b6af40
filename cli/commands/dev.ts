/** `creditflow dev [--port 7233] [--ui-port 8233]`: the dev server (SQLite, Web UI) and a worker, until Ctrl-C. */
import { parseTrackerList } from '../../tracking/index.js';
import { startLocalStack } from '../local-stack.js';
import type { Options } from '../program.js';
import { untilInterrupted } from '../shutdown.js';

export async function execute(_args: unknown[], options: Options): Promise<number> {
  const stack = await startLocalStack({
    port: options.port as number, uiPort: options.uiPort as number, backend: options.backend as string | undefined,
    memoryBudgetMb: options.memoryBudgetMb as number, modelWidth: options.modelWidth as number | undefined,
    defaultTracking: parseTrackerList(options.tracking as string | undefined), command: 'creditflow dev',
  });
  const address = options.port === 7233 ? '' : ` --address ${stack.server.address}`;
  console.log(`ready: submit runs with \`creditflow submit configs/demo.yaml${address}\`; Ctrl-C stops the server and the worker`);
  const why = await Promise.race([untilInterrupted().then((s) => `received ${s}`), stack.worker.done.then(() => 'worker stopped')]);
  console.log(`\nstopping (${why}) ...`);
  await stack.stop();
  console.log('stopped');
  return 0;
}
