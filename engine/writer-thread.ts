/** Entry of the compute host's writer thread (background-writer.ts): one write job at a time, in order. */
import { parentPort } from 'node:worker_threads';
import { runWriteJob, type WriteJob } from '../store/write-jobs.js';
import { lowerThisThread } from './thread-priority.js';

const port = parentPort!;
// Writes are never urgent: they yield the core to the compute host (thread-priority.ts).
lowerThisThread();
port.on('message', ({ id, job }: { id: number; job: WriteJob }) => {
  try {
    runWriteJob(job);
    port.postMessage({ id });
  } catch (err) {
    const e = err as Error;
    port.postMessage({ id, error: { message: e.message, name: e.name || 'Error' } });
  }
});
