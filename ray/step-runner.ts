/**
 * One model step in a process of its own: the entrypoint of a Ray job (`creditflow ray step
 * <request file>`). It loads the run from its folder and runs the request's op through the same
 * `RunSessions` / `PreferenceSessions` code as a worker's compute host thread (engine/host-thread.ts),
 * so a step placed on Ray writes what the worker would have written, bit for bit on the same
 * backend: every step is seeded by (seed, purpose, iteration) and reloads the run's newest state
 * from disk, as a worker that just took over a run does.
 *
 * Idempotent like the host's steps: an output already on disk is answered from disk. The outcome
 * (result or error) goes to the request's `.out.json` beside it; the exit status says which.
 */
import { setNativeEnvDefaults } from '../engine/native-env.js';
import { initBackend } from '../engine/backend.js';
import { isPreferenceOp, servePreference } from '../engine/preference-host.js';
import { PreferenceSessions } from '../engine/preference-sessions.js';
import { MemoryBudget } from '../engine/memory-budget.js';
import { RunSessions } from '../engine/run-sessions.js';
import { readStepRequest, writeStepOutcome, type StepRequest } from './step-files.js';

type Progress = (details: Record<string, number | string>) => void;

async function runOp(request: StepRequest, sessions: RunSessions, preference: PreferenceSessions, progress: Progress): Promise<unknown> {
  const args = request.args as never;
  switch (request.op) {
    case 'warmStart': return sessions.warmStart(args, progress);
    case 'rollout': return sessions.rollout(args, progress);
    case 'spoValues': return sessions.spoValues(args, progress);
    case 'update': return sessions.update(args, progress);
    case 'evaluate': return sessions.evaluate(args);
    default:
      if (isPreferenceOp(request.op)) return servePreference(preference, request.op, args, progress);
      throw new Error(`op ${JSON.stringify(request.op)} cannot run as a step (not a model step)`);
  }
}

/** Run the step of `requestPath`; returns the process exit status (0: done, its result written). */
export async function runStepFile(requestPath: string, log: (line: string) => void = (l) => console.log(l)): Promise<number> {
  let request: StepRequest;
  try {
    request = readStepRequest(requestPath);
  } catch (err) {
    log(`creditflow step: cannot read ${requestPath}: ${(err as Error).message}`);
    return 2;
  }
  const started = performance.now();
  try {
    // As the worker does before its compute host starts (libtensorflow reads these on load).
    setNativeEnvDefaults();
    const backend = await initBackend(process.env.CREDITFLOW_BACKEND);
    log(`creditflow step ${request.op} of run ${request.args.runId} (${requestPath}); backend ${backend.name}: ${backend.reason}`);
    const budget = new MemoryBudget(Number(process.env.CREDITFLOW_MEMORY_BUDGET_MB ?? 2048) * 2 ** 20);
    const sessions = new RunSessions({ budget });
    const preference = new PreferenceSessions({ runs: sessions, budget });
    const value = await runOp(request, sessions, preference, (details) => log(`progress ${JSON.stringify(details)}`));
    writeStepOutcome(requestPath, { ok: true, value });
    log(`creditflow step ${request.op} done in ${((performance.now() - started) / 1000).toFixed(2)} s`);
    return 0;
  } catch (err) {
    const e = err as Error;
    log(`creditflow step ${request.op} failed: ${e.stack ?? e.message}`);
    writeStepOutcome(requestPath, { ok: false, errorType: e.name || 'Error', message: e.message });
    return 1;
  }
}
