/**
 * A compute host for test/checkpoints/smollm2.slow.test.ts, in its own process so that a test
 * can SIGKILL it mid-update (CREDITFLOW_FAILPOINT=update:stepped:<n>) and start another: RL
 * iterations 1..3 of SmolLM2-135M-Instruct on the native backend, each step idempotent (a second
 * process picks up where the first stopped). Prints one JSON line: the peak RSS in MB.
 *
 *   node --import tsx test/checkpoints/rl-driver.ts <runDir> <smollm2 folder>
 */
import { ExperimentSchema } from '../../configs/schema.js';
import { initBackend } from '../../engine/backend.js';
import { setNativeEnvDefaults } from '../../engine/native-env.js';
import { RunSessions } from '../../engine/run-sessions.js';

export function smolRlConfig(checkpoint: string) {
  return ExperimentSchema.parse({
    experiment: 'smollm2-rl', seed: 3,
    data: { source: 'arithmetic', maxDigits: 2, trainSize: 16, evalSize: 4 },
    model: { checkpoint, maxSeqLen: 128 },
    warmStart: { steps: 0 }, // an instruct checkpoint: no SFT
    rollout: { promptsPerIteration: 2, groupSize: 4, maxNewTokens: 24, temperature: 1 },
    optimizer: { lr: 1e-5, microBatchSize: 4 },
    run: { iterations: 3, evalEvery: 3, checkpointEvery: 3 },
    evaluation: { samples: 1 },
  });
}

const [runDir, checkpoint] = process.argv.slice(2);
if (runDir && checkpoint) {
  setNativeEnvDefaults();
  await initBackend();
  const config = smolRlConfig(checkpoint);
  const sessions = new RunSessions({ memoryBudgetBytes: 6 * 2 ** 30 });
  const args = { runId: 'smol', config, runDir };
  await sessions.warmStart(args, () => undefined);
  for (let iteration = 1; iteration <= config.run.iterations; iteration++) {
    await sessions.rollout({ ...args, iteration }, () => undefined);
    if (!sessions.scoreRollout({ ...args, iteration })) throw new Error('arithmetic rewards should score inline');
    await sessions.update({ ...args, iteration }, () => undefined);
  }
  console.log(JSON.stringify({ peakRssMb: process.resourceUsage().maxRSS / 1024 }));
}
