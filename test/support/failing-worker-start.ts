/**
 * Starts a worker that must fail (a backend that does not exist), prints the error and returns.
 * Run as its own process by test/integration/worker-start-failure.test.ts: the process must then
 * exit by itself, which it cannot while a thread the failed start left behind is running.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWorker } from '../../worker/run-worker.js';

try {
  await startWorker({ target: { address: '127.0.0.1:1', namespace: 'default' }, stateDir: mkdtempSync(join(tmpdir(), 'cf-failing-')), log: () => undefined, backend: 'no-such-backend' });
  console.log('started');
} catch (err) {
  console.log(`start failed: ${(err as Error).message.split('\n')[0]}`);
}
