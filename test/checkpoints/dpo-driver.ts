/**
 * A compute host for test/checkpoints/smollm2.slow.test.ts's preference run, in its own process so
 * that a test can SIGKILL it mid-update (CREDITFLOW_FAILPOINT=preference-update:stepped:<n>) and
 * start another: DPO steps 1..3 of SmolLM2-135M-Instruct on the native backend from its own weights
 * (no SFT), then the held-out evaluation. Each step is idempotent, so a second process picks up
 * where the first stopped. Prints one JSON line: the evaluation's pair accuracy and the peak RSS in MB.
 *
 *   node --import tsx test/checkpoints/dpo-driver.ts <runDir> <smollm2 folder>
 */
import { existsSync } from 'node:fs';
import { PreferenceExperimentSchema, warmStartConfigOf } from '../../configs/preference-schema.js';
import { initBackend } from '../../engine/backend.js';
import { setNativeEnvDefaults } from '../../engine/native-env.js';
import { PreferenceSessions } from '../../engine/preference-sessions.js';
import { RunSessions } from '../../engine/run-sessions.js';
import { runTokenizer } from '../../engine/run-tokenizer.js';
import { pairsFile, writePairs } from '../../store/preference-files.js';
import { preferenceDataSet } from '../../tasks/preference-data.js';

export function smolDpoConfig(checkpoint: string) {
  return PreferenceExperimentSchema.parse({
    kind: 'preference', experiment: 'smollm2-dpo', seed: 3,
    data: { source: 'arithmetic', maxDigits: 2, trainSize: 16, evalSize: 4 },
    model: { checkpoint, maxSeqLen: 64 },
    warmStart: { steps: 0 }, // an instruct checkpoint: its own weights are the reference
    objective: { name: 'dpo', beta: 0.1 },
    optimizer: { lr: 1e-6, batchSize: 4 },
    run: { steps: 3, evalEvery: 3, checkpointEvery: 3 },
  });
}

const [runDir, checkpoint] = process.argv.slice(2);
if (runDir && checkpoint) {
  setNativeEnvDefaults();
  await initBackend();
  const config = smolDpoConfig(checkpoint);
  if (!existsSync(pairsFile(runDir, 'train'))) {
    const pairs = preferenceDataSet(config, runTokenizer(warmStartConfigOf(config)));
    writePairs(runDir, 'train', pairs.train);
    writePairs(runDir, 'heldout', pairs.heldOut);
  }
  const budget = { memoryBudgetBytes: 6 * 2 ** 30 };
  const sessions = new PreferenceSessions({ runs: new RunSessions(budget), ...budget });
  const args = { runId: 'smol', config, runDir };
  await sessions.warmStart(args, () => undefined);
  for (let step = 1; step <= config.run.steps; step++) await sessions.update({ ...args, step }, () => undefined);
  const evaluation = await sessions.evaluate({ ...args, step: config.run.steps });
  console.log(JSON.stringify({ pairAccuracy: evaluation.metrics['eval/pairAccuracy'], peakRssMb: process.resourceUsage().maxRSS / 1024 }));
}
