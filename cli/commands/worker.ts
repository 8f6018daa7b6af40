/** `creditflow worker [--address host:port] [--namespace NS] [--backend NAME]`: serve runs until interrupted. */
import { startWorker } from '../../worker/run-worker.js';
import { parse, targetFrom } from '../options.js';
import { untilInterrupted } from '../shutdown.js';

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, { backend: { type: 'string' }, 'max-resident-runs': { type: 'string' } }, []);
  if (values.help) {
    console.log('usage: creditflow worker [--address host:port] [--namespace NS] [--backend tensorflow|wasm|cpu] [--max-resident-runs N]');
    return 0;
  }
  const worker = await startWorker({
    target: targetFrom(values),
    backend: values.backend,
    maxResidentRuns: values['max-resident-runs'] ? Number(values['max-resident-runs']) : undefined,
  });
  const interrupted = untilInterrupted();
  const why = await Promise.race([interrupted.then((s) => `received ${s}`), worker.done.then(() => 'workers stopped')]);
  console.log(`worker stopping: ${why}`);
  await worker.shutdown();
  return 0;
}
