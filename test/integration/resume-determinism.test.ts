/**
 * A resumed run is the same run: a worker SIGKILLed at exact points (mid-update after the gradient
 * step, mid-write of a weights version before its manifest, after the manifest but before the
 * rename, after a rollout file is written) and replaced by a fresh worker ends with a final
 * checkpoint whose weight hashes equal those of an uninterrupted run with the same config.
 */

import { describe, expect, it } from 'vitest';
import { submitRun } from '../../cli/submit-run.js';
import { readMetrics } from '../../store/metrics-log.js';
import { readVerifiedManifest } from '../../store/atomic-dir.js';
import { checkpointDir } from '../../store/weight-versions.js';
import { learningTinyConfig, tempStateDir, testAddress, testClient, uniqueId } from '../support/harness.js';
import { spawnWorker } from '../support/worker-process.js';

const NS = 'determinism';
// Updates must take real optimizer steps, or equal weights would prove nothing.
const config = learningTinyConfig({
  experiment: 'it-determinism',
  run: { iterations: 4, evalEvery: 4, checkpointEvery: 4 },
  timeouts: { heartbeatSeconds: 5, pinnedScheduleToStartSeconds: 3 },
});

/** Runs the config to the end, first on a worker armed with `failpoint` (if any); returns the final weight hashes. */
async function runToEnd(failpoint?: string): Promise<{ weights: Record<string, string>; killed: boolean; steps: number; verdicts: string }> {
  const home = tempStateDir('det');
  const client = await testClient(NS);
  const first = spawnWorker(testAddress(), NS, home, failpoint ? { CREDITFLOW_FAILPOINT: failpoint } : {});
  await first.ready;
  const handle = await submitRun(client, config, uniqueId('det'));
  let killed = false;
  if (failpoint) {
    await first.exited;
    killed = first.child.signalCode === 'SIGKILL' && first.output().includes(`failpoint ${failpoint} reached`);
    const second = spawnWorker(testAddress(), NS, home);
    await second.ready;
    await handle.result();
    second.child.kill('SIGTERM');
    await second.exited;
  } else {
    await handle.result();
    first.child.kill('SIGTERM');
    await first.exited;
  }
  const result = await handle.result();
  await client.connection.close();
  const manifest = readVerifiedManifest(checkpointDir(result.runDir, 4));
  expect(manifest, 'final checkpoint verifies').not.toBeNull();
  const weights = Object.fromEntries(Object.entries(manifest!.files).filter(([f]) => f.startsWith('weights')).map(([f, e]) => [f, e.sha256]));
  const train = readMetrics(result.runDir).filter((l) => l.phase === 'train');
  expect(train.map((l) => l.iteration)).toEqual([1, 2, 3, 4]);
  // Verifier verdicts per iteration, so a mismatch can be told apart from a verifier timeout under load.
  const verdicts = train.map((l) => `${l.iteration}:${l.metrics['reward/correct']}/${l.metrics['reward/timeout']}/${l.metrics['reward/error']}`).join(' ');
  return { weights, killed, verdicts, steps: train.reduce((a, l) => a + (l.metrics['update/steps'] ?? 0), 0) };
}

describe('bit-exact resume after SIGKILL', () => {
  it('uninterrupted and killed-then-resumed runs end with identical weights', async () => {
    const baseline = await runToEnd();
    expect(baseline.steps, 'the premise: updates took optimizer steps').toBeGreaterThan(0);
    expect(Object.keys(baseline.weights).sort()).toEqual(['weights.bin', 'weights.json']);

    for (const failpoint of ['update:stepped:2', 'atomic-dir:files-written:3', 'atomic-dir:before-rename:4', 'rollout:written:3']) {
      const resumed = await runToEnd(failpoint);
      expect(resumed.killed, `${failpoint} was reached`).toBe(true);
      expect(resumed.weights, `weights after a kill at ${failpoint} (verdicts correct/timeout/error: ${resumed.verdicts} vs ${baseline.verdicts})`).toEqual(baseline.weights);
    }
  }, 900_000); // two whole runs with real processes: minutes on two loaded cores
});

