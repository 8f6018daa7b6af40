/**
 * An RL run on a local Llama-style checkpoint (`model.checkpoint`): the config is checked before
 * anything starts, the run trains it through the same steps as the built-in model, and a fresh host
 * reloads its weights versions exactly.
 */
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { PreferenceExperimentSchema } from '../../configs/preference-schema.js';
import { ExperimentSchema } from '../../configs/schema.js';
import { RunSessions } from '../../engine/run-sessions.js';
import { exportRunCheckpoint } from '../../engine/export-checkpoint.js';
import { run as exportCommand } from '../../cli/commands/export.js';
import { loadHfCheckpoint } from '../../models/llama/index.js';
import { loadWeights } from '../../models/weights-io.js';
import { scoreAhead } from '../support/score-ahead.js';
import { rolloutFile } from '../../store/rollout-files.js';
import { versionDir } from '../../store/weight-versions.js';
import { tempStateDir } from '../support/harness.js';
import { hfConfig, writeCheckpoint } from '../support/tiny-llama.js';

const checkpoint = join(tempStateDir('llama-policy'), 'tiny-llama');
writeCheckpoint(checkpoint, hfConfig());

const base = {
  experiment: 'llama-policy', seed: 3,
  data: { source: 'arithmetic', minDigits: 1, maxDigits: 1, trainSize: 40, evalSize: 16 },
  warmStart: { steps: 4, batchSize: 8 },
  rollout: { promptsPerIteration: 4, groupSize: 4, maxNewTokens: 4 },
  run: { iterations: 2, evalEvery: 1 },
  // A random model earns no reward: keep the uniform groups so that the update takes a real step.
  objective: { dropUniformGroups: false },
};
const problems = (config: unknown, schema = ExperimentSchema) => {
  const r = schema.safeParse(config);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('model.checkpoint in the config', () => {
  it('is accepted with the checkpoint\'s own architecture, and rejected where it cannot apply', () => {
    expect(problems({ ...base, model: { checkpoint, maxSeqLen: 16 } })).toEqual([]);
    expect(problems({ ...base, model: { checkpoint, dModel: 32 } })).toEqual(['model.dModel: is not used with model.checkpoint (its config.json sets the architecture)']);
    expect(problems({ ...base, model: { checkpoint: join(checkpoint, 'nowhere') } })[0]).toMatch(/^model\.checkpoint: .*nowhere has no config\.json or tokenizer\.json$/);
    expect(problems({ kind: 'preference', experiment: 'p', data: base.data, model: { checkpoint } }, PreferenceExperimentSchema as never))
      .toContain('model.checkpoint: is not supported by preference runs yet (RL runs take it)');
  });
});

describe('an RL run on a Llama-style checkpoint', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });
  // A state folder laid out as the CLI expects: <home>/runs/<run id>.
  const home = tempStateDir('llama-home');
  const runDir = join(home, 'runs', 'llama-run');

  it('warm-starts, rolls out, updates and evaluates it; a fresh host reloads its versions exactly', async () => {
    const config = ExperimentSchema.parse({ ...base, model: { checkpoint, maxSeqLen: 16 } });
    const args = { runId: 'r', config, runDir };
    const noProgress = () => undefined;
    const sessions = new RunSessions({ memoryBudgetBytes: 2 ** 30 });
    const warm = await sessions.warmStart(args, noProgress);
    expect(warm.metrics['sft/loss']).toBeGreaterThan(0);
    for (const iteration of [1, 2]) {
      const { rolloutFile: file } = await sessions.rollout({ ...args, iteration }, noProgress);
      expect(scoreAhead(file)).toBeTruthy();
      const update = await sessions.update({ ...args, iteration }, noProgress);
      expect(update.metrics['update/steps']).toBe(1);
      expect(Number.isFinite(update.metrics['update/loss'])).toBe(true);
    }
    const evaluation = await sessions.evaluate({ ...args, iteration: 2 });
    expect(evaluation.accuracy).toBeGreaterThanOrEqual(0);
    // Version 0 holds this model's tensors, trained away from the checkpoint by the warm start.
    const fresh = await loadHfCheckpoint(checkpoint);
    const before = fresh.model.params.get('lm_head.weight')!.dataSync().slice();
    await loadWeights(versionDir(runDir, 0), fresh.model);
    const after = fresh.model.params.get('lm_head.weight')!.dataSync();
    expect(after.some((x, i) => x !== before[i])).toBe(true);
    fresh.model.dispose();

    // A fresh host (another worker) loads version 1 and samples rollout 2 exactly as this one did.
    const copy = join(tempStateDir('llama-run-copy'), 'run');
    cpSync(runDir, copy, { recursive: true, filter: (src) => !src.includes(join('rollouts', '2.')) });
    await new RunSessions({ memoryBudgetBytes: 2 ** 30 }).rollout({ ...args, runDir: copy, iteration: 2 }, noProgress);
    expect(readFileSync(rolloutFile(copy, 2), 'utf8')).toBe(readFileSync(rolloutFile(runDir, 2), 'utf8'));
  }, 60_000);

  it('`creditflow export` writes a version back as a checkpoint folder that loads with the trained weights', async () => {
    const out = join(tempStateDir('llama-export'), 'out');
    const previous = process.env.CREDITFLOW_HOME;
    process.env.CREDITFLOW_HOME = home;
    try {
      expect(await exportCommand(['llama-run', '--out', out, '--version', '2'])).toBe(0);
      await expect(exportCommand(['llama-run', '--out', out])).rejects.toThrow(/no checkpoint yet; name a weights version with --version/);
    } finally {
      if (previous === undefined) delete process.env.CREDITFLOW_HOME;
      else process.env.CREDITFLOW_HOME = previous;
    }
    const exported = await loadHfCheckpoint(out);
    const trained = await loadHfCheckpoint(checkpoint);
    await loadWeights(versionDir(runDir, 2), trained.model);
    for (const [name, v] of trained.model.params) {
      expect(Array.from(exported.model.params.get(name)!.dataSync()), name).toEqual(Array.from(v.dataSync()));
    }
    expect(exported.tokenizer!.encode('12+3=')).toEqual(trained.tokenizer!.encode('12+3='));
    exported.model.dispose();
    trained.model.dispose();
  });
});

describe('`creditflow export` of a built-in-model run', () => {
  it('says it writes Llama-style checkpoints only', async () => {
    const runDir = join(tempStateDir('builtin-export'), 'run');
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(runDir, { recursive: true });
    writeFileSync(join(runDir, 'config.yaml'), 'experiment: x\ndata:\n  source: arithmetic\n');
    await expect(exportRunCheckpoint(runDir, join(runDir, 'out'))).rejects.toThrow(/built-in transformer; export writes Llama-style checkpoints only/);
  });
});
