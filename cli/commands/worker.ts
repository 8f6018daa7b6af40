/**
 * `creditflow worker`: serve runs until interrupted. `--no-run-ahead` makes the compute host wait
 * for each step's activity instead of computing the run's next steps early (engine/run-ahead.ts);
 * results are the same.
 */
import { startWorker } from '../../worker/run-worker.js';
import { metricsPortFrom } from '../../monitoring/exporter.js';
import { parseTrackerList } from '../../tracking/index.js';
import { targetFrom } from '../options.js';
import type { Options } from '../program.js';
import { untilInterrupted } from '../shutdown.js';

export async function execute(_args: unknown[], options: Options): Promise<number> {
  const worker = await startWorker({
    target: targetFrom(options),
    backend: options.backend as string | undefined,
    metricsPort: metricsPortFrom(options.metricsPort as number | undefined),
    memoryBudgetMb: options.memoryBudgetMb as number,
    runAhead: options.runAhead as boolean,
    modelWidth: options.modelWidth as number | undefined,
    defaultTracking: parseTrackerList(options.tracking as string | undefined),
  });
  const interrupted = untilInterrupted();
  const why = await Promise.race([interrupted.then((s) => `received ${s}`), worker.done.then(() => 'workers stopped')]);
  console.log(`worker stopping: ${why}`);
  await worker.shutdown();
  return 0;
}
