/**
 * Durability: SIGKILL the worker process while an `update` is running, start a new worker, and the
 * run completes with every iteration recorded exactly once (the new worker reloads the newest
 * weights version from disk; the killed update is redone, never applied twice).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { submitRun } from '../../cli/submit-run.js';
import { readMetrics } from '../../store/metrics-log.js';
import { runDir } from '../../store/paths.js';
import { readVersion } from '../../store/weight-versions.js';
import { tempStateDir, testAddress, testClient, tinyConfig, uniqueId } from '../support/harness.js';
import { spawnWorker, type WorkerProcess } from '../support/worker-process.js';

describe('worker crash during update', () => {
  const started: WorkerProcess[] = [];
  afterAll(() => {
    for (const w of started) w.child.kill('SIGKILL');
  });

  it('SIGKILL mid-update, new worker, run completes with each iteration once', async () => {
    const home = tempStateDir('crash');
    const client = await testClient('worker-crash');
    // Updates long enough to be caught in flight: many PPO epochs on the tiny model.
    const config = tinyConfig({ experiment: 'it-crash', optimizer: { epochsPerIteration: 30 }, run: { iterations: 5, evalEvery: 5, checkpointEvery: 5 } });
    // The first worker runs without run-ahead, so each update is computed inside its activity and can
    // be caught running; with run-ahead the host computes it early and the activity is answered from
    // disk in milliseconds (kills at exact points under run-ahead: resume-determinism.test.ts).
    const first = spawnWorker(testAddress(), 'worker-crash', home, {}, ['--no-run-ahead']);
    started.push(first);
    await first.ready;
    const id = uniqueId('crash');
    const handle = await submitRun(client, config, id);

    // Wait until an update of iteration >= 2 is running on the first worker.
    let killedDuring: number | null = null;
    for (let i = 0; i < 1200 && killedDuring === null; i++) {
      const description = await handle.describe();
      const pending = description.raw.pendingActivities ?? [];
      // PendingActivityState 2 = STARTED: a worker has picked the update up and is running it.
      const update = pending.find((a) => a.activityType?.name === 'update' && Number(a.state) === 2);
      const progressed = readMetrics(runDir(id, home)).filter((l) => l.phase === 'train').length;
      if (update && progressed >= 1) {
        first.child.kill('SIGKILL');
        killedDuring = progressed + 1;
      } else {
        await sleep(50);
      }
    }
    expect(killedDuring, 'never caught an update in flight').not.toBeNull();
    await first.exited;

    const second = spawnWorker(testAddress(), 'worker-crash', home);
    started.push(second);
    await second.ready;
    const result = await handle.result();
    second.child.kill('SIGTERM');
    await second.exited;
    await client.connection.close();

    expect(result.iterations).toBe(5);
    const train = readMetrics(result.runDir).filter((l) => l.phase === 'train').map((l) => l.iteration);
    expect(train).toEqual([1, 2, 3, 4, 5]);
    // The iteration that was killed completed on a later attempt (retry or re-claim), not twice.
    expect(readVersion(result.runDir, 5)).not.toBeNull();
  }, 300_000);
});
