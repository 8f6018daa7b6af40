/**
 * `creditflow worker [--address host:port] [--namespace NS] [--backend NAME] [--no-run-ahead]`: serve
 * runs until interrupted. `--no-run-ahead` makes the compute host wait for each step's activity
 * instead of computing the run's next steps early (engine/run-ahead.ts); results are the same.
 */
import { startWorker } from '../../worker/run-worker.js';
import { parse, targetFrom } from '../options.js';
import { untilInterrupted } from '../shutdown.js';
import { metricsPortFrom } from '../../monitoring/exporter.js';

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, { backend: { type: 'string' }, 'memory-budget-mb': { type: 'string' }, 'metrics-port': { type: 'string' }, 'no-run-ahead': { type: 'boolean' } }, []);
  if (values.help) {
    console.log('usage: creditflow worker [--address host:port] [--namespace NS] [--backend tensorflow|wasm|cpu] [--memory-budget-mb 2048] [--metrics-port PORT] [--no-run-ahead]');
    return 0;
  }
  const worker = await startWorker({
    target: targetFrom(values),
    backend: values.backend,
    metricsPort: metricsPortFrom(values['metrics-port']),
    memoryBudgetMb: values['memory-budget-mb'] ? Number(values['memory-budget-mb']) : undefined,
    runAhead: !values['no-run-ahead'],
  });
  const interrupted = untilInterrupted();
  const why = await Promise.race([interrupted.then((s) => `received ${s}`), worker.done.then(() => 'workers stopped')]);
  console.log(`worker stopping: ${why}`);
  await worker.shutdown();
  return 0;
}
