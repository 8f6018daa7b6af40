/**
 * Entry of the compute host thread (see compute-host.ts): selects the TensorFlow.js backend once,
 * then serves requests one at a time. Tensor work here never blocks the worker's event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend, type BackendInfo } from './backend.js';
import type { HostReply, HostRequest } from './host-protocol.js';
import { RunSessions } from './run-sessions.js';

const options = (workerData?.options ?? {}) as { backend?: string; memoryBudgetMb?: number };
const port = parentPort!;
let backend: Promise<BackendInfo> | undefined;
const sessions = new RunSessions({ memoryBudgetBytes: (options.memoryBudgetMb ?? 2048) * 2 ** 20 });

const reply = (message: HostReply) => port.postMessage(message);

async function handle(request: HostRequest): Promise<unknown> {
  backend ??= initBackend(options.backend);
  const info = await backend;
  const progress = (details: Record<string, number | string>) => reply({ id: request.id, kind: 'progress', details });
  switch (request.op) {
    case 'backend': return info;
    case 'warmStart': return sessions.warmStart(request.args as never, progress);
    case 'rollout': return sessions.rollout(request.args as never, progress);
    case 'update': return sessions.update(request.args as never, progress);
    case 'evaluate': return sessions.evaluate(request.args as never);
    case 'release': return sessions.release((request.args as { runId: string }).runId);
    default: throw new Error(`unknown compute host op ${String(request.op)}`);
  }
}

// Requests are served strictly in order: one model op at a time on this thread.
let queue: Promise<void> = Promise.resolve();
port.on('message', (request: HostRequest) => {
  queue = queue.then(async () => {
    try {
      reply({ id: request.id, kind: 'result', value: await handle(request) });
    } catch (err) {
      const e = err as Error;
      reply({ id: request.id, kind: 'error', message: e.message, errorType: e.name || 'Error', stack: e.stack });
    }
  });
});
