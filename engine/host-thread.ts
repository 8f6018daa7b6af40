/**
 * Entry of the compute host thread (see compute-host.ts): selects the TensorFlow.js backend once,
 * then serves requests one at a time. Tensor work here never blocks the worker's event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend, type BackendInfo } from './backend.js';
import type { HostNotice, HostReply, HostRequest } from './host-protocol.js';
import { BackgroundWriter } from './background-writer.js';
import { MemoryBudget } from './memory-budget.js';
import { HostQueue, planAhead } from './run-ahead.js';
import { RunSessions, type ComputedStep } from './run-sessions.js';
import { isPreferenceOp, servePreference } from './preference-host.js';
import { PreferenceSessions } from './preference-sessions.js';

const options = (workerData?.options ?? {}) as { backend?: string; memoryBudgetMb?: number; runAhead?: boolean };
const port = parentPort!;
let backend: Promise<BackendInfo> | undefined;
// One budget for every resident model on this host, RL and preference runs alike.
const budget = new MemoryBudget((options.memoryBudgetMb ?? 2048) * 2 ** 20);
// Step outputs are written on a thread of their own, overlapping the next step's model work.
const sessions = new RunSessions({ budget, writer: new BackgroundWriter() });
const preference = new PreferenceSessions({ runs: sessions, budget });

const reply = (message: HostReply) => port.postMessage(message);

const done = <T,>(value: T): ComputedStep<T> => ({ result: value, written: Promise.resolve() });

/**
 * Serve one request. Rollouts and updates come back as soon as they are computed, with the write of
 * their output still under way: the reply waits for the write, the host's queue does not.
 */
async function handle(request: HostRequest): Promise<ComputedStep<unknown>> {
  backend ??= initBackend(options.backend);
  const info = await backend;
  const progress = (details: Record<string, number | string>) => reply({ id: request.id, kind: 'progress', details });
  switch (request.op) {
    case 'backend': return done(info);
    case 'warmStart': return done(await sessions.warmStart(request.args as never, progress));
    case 'rollout': return sessions.computeRollout(request.args as never, progress);
    case 'spoValues': return done(await sessions.spoValues(request.args as never, progress));
    case 'update': return sessions.computeUpdate(request.args as never, progress);
    case 'evaluate': return done(await sessions.evaluate(request.args as never));
    case 'release': return done(await sessions.release((request.args as { runId: string }).runId));
    default:
      if (isPreferenceOp(request.op)) return done(await servePreference(preference, request.op, request.args, progress));
      throw new Error(`unknown compute host op ${String(request.op)}`);
  }
}

function replyError(request: HostRequest, err: unknown): void {
  const e = err as Error;
  reply({ id: request.id, kind: 'error', message: e.message, errorType: e.name || 'Error', stack: e.stack });
}

// Requests are served in order, one model op at a time on this thread; between requests the host
// runs each run's next steps ahead of the workflow (run-ahead.ts) unless told not to.
const queue = new HostQueue();
port.on('message', (message: HostRequest | HostNotice) => {
  if ('notice' in message) {
    // Handled as soon as the thread is free, ahead of the queue: only the plan changes.
    if (options.runAhead !== false) planAhead(queue, sessions, message.args.op, message.args as unknown as Parameters<typeof planAhead>[3]);
    return;
  }
  const request = message;
  const args = request.args as Parameters<typeof planAhead>[3];
  if (request.op === 'release') queue.drop(args.runId);
  queue.request(async () => {
    try {
      const { result, written } = await handle(request);
      // Replied once the output is on disk ("activity completed" means written); meanwhile the
      // queue goes on with the next step.
      written.then(() => reply({ id: request.id, kind: 'result', value: result }), (err) => {
        if (args?.runId) queue.drop(args.runId);
        replyError(request, err);
      });
      if (options.runAhead !== false && request.op !== 'release') planAhead(queue, sessions, request.op, args);
    } catch (err) {
      if (args?.runId) queue.drop(args.runId);
      replyError(request, err);
    }
  });
});
