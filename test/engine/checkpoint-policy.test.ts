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
import { loadWeights, WEIGHTS_BIN } from '../../models/weights-io.js';
import { scoreAhead } from '../support/score-ahead.js';
import { rolloutFile } from '../../store/rollout-files.js';
import { readVersion, verifiedStateDir, versionDir } from '../../store/weight-versions.js';
import { tempStateDir } from '../support/harness.js';
import { hfConfig, writeCheckpoint } from '../support/tiny-llama.js';
import { preparedPreferenceRun } from '../support/preference-run.js';

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
    expect(problems({ kind: 'preference', experiment: 'p', data: base.data, model: { checkpoint, maxSeqLen: 16 } }, PreferenceExperimentSchema as never)).toEqual([]);
    expect(problems({ kind: 'preference', experiment: 'p', data: base.data, model: { checkpoint, nLayers: 3, alphabet: '0123' } }, PreferenceExperimentSchema as never)).toEqual([
      'model.alphabet: is not used with model.checkpoint (its tokenizer.json sets the vocabulary)',
      'model.nLayers: is not used with model.checkpoint (its config.json sets the architecture)',
    ]);
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

describe('a preference run on a Llama-style checkpoint', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });
  const config = PreferenceExperimentSchema.parse({
    kind: 'preference', experiment: 'llama-pref', seed: 5, data: base.data, model: { checkpoint, maxSeqLen: 16 },
    warmStart: { steps: 2, batchSize: 8 }, optimizer: { batchSize: 4, lr: 1e-3 }, run: { steps: 3, checkpointEvery: 3 },
    objective: { name: 'sparse-po', mask: 'learned', klTerm: true },
  });
  const noProgress = () => undefined;

  it('trains every objective input on it (SparsePO: KL over its logits, the mask head on its layers); weights only at checkpoint steps, the rest rebuilt bit for bit', async () => {
    const a = preparedPreferenceRun(config, 'llama-pref-a');
    await a.sessions.warmStart(a.args, noProgress);
    for (const step of [1, 2, 3]) {
      const r = await a.sessions.update({ ...a.args, step }, noProgress);
      expect(Number.isFinite(r.metrics['update/loss']), `step ${step}`).toBe(true);
      expect(r.metrics['update/gradNorm']).toBeGreaterThan(0);
    }
    // run.weightsEvery defaults to run.checkpointEvery for a checkpoint: steps 1 and 2 record their result only.
    const files = (v: number) => Object.keys(verifiedStateDir(a.runDir, v)!.manifest.files);
    expect(files(1)).not.toContain(WEIGHTS_BIN);
    expect(files(2)).not.toContain(WEIGHTS_BIN);
    expect(files(3)).toContain(WEIGHTS_BIN);
    const evaluation = await a.sessions.evaluate({ ...a.args, step: 3 });
    expect(evaluation.metrics['eval/pairAccuracy']).toBeGreaterThanOrEqual(0);
    // export writes the tuned policy (not the mask head beside it in the version) as a checkpoint folder
    const out = join(tempStateDir('llama-pref-export'), 'out');
    expect((await exportRunCheckpoint(a.runDir, out, { version: 3 })).version).toBe(3);
    const exported = await loadHfCheckpoint(out);
    const trained = await loadHfCheckpoint(checkpoint);
    await loadWeights(versionDir(a.runDir, 3), trained.model);
    for (const [name, v] of trained.model.params) expect(Array.from(exported.model.params.get(name)!.dataSync()), name).toEqual(Array.from(v.dataSync()));
    exported.model.dispose();
    trained.model.dispose();

    // A fresh host that finds version 3 gone rebuilds it from the warm start through the result-only versions.
    const copy = join(tempStateDir('llama-pref-b'), 'run');
    cpSync(a.runDir, copy, { recursive: true, filter: (src) => !src.startsWith(versionDir(a.runDir, 3)) });
    const b = preparedPreferenceRun(config, 'llama-pref-b-host');
    const redone = await b.sessions.update({ ...b.args, runDir: copy, step: 3 }, noProgress);
    const recorded = readVersion(a.runDir, 3)!.meta.result as { metrics: Record<string, number> };
    expect(redone.metrics['update/loss']).toBe(recorded.metrics['update/loss']);
    expect(readFileSync(join(versionDir(copy, 3), WEIGHTS_BIN)).equals(readFileSync(join(versionDir(a.runDir, 3), WEIGHTS_BIN)))).toBe(true);
  }, 120_000);
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
