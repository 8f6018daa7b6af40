// Worker-thread entry. A `.ts` worker needs tsx registered *inside* the thread:
// `execArgv: ['--import', 'tsx']` does not carry over to workers, this does.
import { workerData } from 'node:worker_threads';

if (workerData.entry.endsWith('.ts')) {
  const { register } = await import('tsx/esm/api');
  register();
}
await import(workerData.entry);
