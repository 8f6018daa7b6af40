/**
 * Pool worker: runs synchronous verifiers (math, format, length) for the tasks it is sent, posting
 * one result per task as soon as it is done, so that the pool can time each task separately and
 * kill this thread when one hangs.
 */
import { parentPort } from 'node:worker_threads';
import { runSync } from '../registry.js';
import { warmMath } from '../math/equal.js';
import type { PoolRequest, PoolReply } from './protocol.js';

const port = parentPort;
if (!port) throw new Error('rewards/pool/worker.ts must run in a worker thread');

port.on('message', (msg: PoolRequest) => {
  for (const t of msg.tasks) {
    let reply: PoolReply;
    try {
      reply = { key: t.key, verdict: runSync(t.spec, t) };
    } catch (e) {
      reply = { key: t.key, verdict: { status: 'error', score: 0, reason: `verifier crashed: ${(e as Error).message}`, ms: 0 } };
    }
    port.postMessage(reply);
  }
});
// Start-up happens before reporting ready: the pool's per-task clock must never include it.
// Loading mathjs is not enough. A fresh thread's first numeric and first symbolic check each took
// ~80 ms, against 1-6 ms after, and on a loaded machine that stretched past an 800 ms timeout.
// So one check of each kind runs here first.
warmMath();
for (const [completion, gold] of [['\\boxed{\\frac12}', '0.5'], ['\\boxed{x^2-1}', '(x-1)(x+1)']]) runSync({ kind: 'math' }, { completion, gold });
port.postMessage({ ready: true });
