/**
 * The compute host's preference side, in-process: the response forward pass agrees with the
 * log-prob code the RL loop uses, the data cursor visits every pair once per epoch, an update is
 * idempotent (a retry returns the recorded result and never steps twice), and a run resumed on a
 * fresh host from disk, rebuilding lost versions, ends with the same weights as an uninterrupted one.
 */
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { PreferenceExperimentSchema, type PreferenceConfig } from '../../configs/preference-schema.js';
import { batchIndices, divergenceWeights } from '../../engine/preference-batch.js';
import { responseForward } from '../../engine/preference-forward.js';
import { deriveRng } from '../../common/rng.js';
import { CharTokenizer, sequenceLogProbs, Transformer } from '../../models/index.js';
import { causalBias } from '../../models/ops.js';
import { versionDir } from '../../store/weight-versions.js';
import { learningTinyConfig } from '../support/harness.js';
import { preparedPreferenceRun } from '../support/preference-run.js';

const fixture = learningTinyConfig();
const config: PreferenceConfig = PreferenceExperimentSchema.parse({
  kind: 'preference', experiment: 'pref-sessions', seed: fixture.seed, data: fixture.data, model: fixture.model,
  warmStart: { ...fixture.warmStart, steps: 10 }, optimizer: { batchSize: 16, lr: 1e-3 }, objective: { name: 'dpo' },
});
const noProgress = () => undefined;

const preparedRun = (label: string) => preparedPreferenceRun(config, label);

const weightsOf = (runDir: string, v: number) => readFileSync(join(versionDir(runDir, v), 'weights.bin'));

describe('preference compute host', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('the response forward pass gives the RL loop\'s log-probs, and per-layer hidden states on request', () => {
    const tok = new CharTokenizer();
    const model = new Transformer({ vocabSize: tok.vocabSize, dModel: 16, nLayers: 2, nHeads: 2, dFf: 32, maxSeqLen: 16 }, deriveRng(3, 'init'));
    const seqs = [[...tok.encode('12+5='), ...tok.encode('17', { bos: false, eos: true })], [...tok.encode('3-1='), ...tok.encode('2', { bos: false, eos: true })]];
    const starts = [6, 5];
    const ours = responseForward(model, seqs, starts, { logits: true, hidden: true });
    const theirs = sequenceLogProbs(model, seqs, starts);
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(tf.mul(ours.logp, ours.mask), tf.mul(theirs.logp, theirs.mask)))).dataSync()[0]);
    expect(diff).toBeLessThan(1e-5);
    expect(Array.from(ours.mask.dataSync())).toEqual([1, 1, 1, 1, 1, 0]);
    expect(ours.logits!.shape).toEqual([2, 3, tok.vocabSize]);
    expect(ours.hidden!.map((h) => h.shape)).toEqual([[2, 3, 16], [2, 3, 16]]);
    // layerStates is hiddenStates plus the layers
    const T = seqs[0].length;
    const input = tf.tensor2d([seqs[0]], [1, T], 'int32');
    const positions = tf.tensor2d([Array.from({ length: T }, (_, t) => t)], [1, T], 'int32');
    const bias = causalBias(T, 0);
    const a = model.hiddenStates(input, positions, bias);
    const b = model.layerStates(input, positions, bias);
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(a, b.hidden))).dataSync()[0])).toBe(0);
    expect(b.layers.map((h) => h.shape)).toEqual([[1, T, 16], [1, T, 16]]);
    tf.dispose([ours as unknown as tf.TensorContainer, theirs as unknown as tf.TensorContainer, input, positions, bias, a, b as unknown as tf.TensorContainer]);
    model.dispose();
  });

  it('the data cursor visits every pair once per epoch, in a seeded order', () => {
    const seen: number[] = [];
    for (let step = 1; step <= 5; step++) {
      const b = batchIndices(10, 7, step, 4);
      expect(b.cursor).toBe(step * 4);
      seen.push(...b.indices);
    }
    expect([...seen.slice(0, 10)].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect([...seen.slice(10, 20)].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(seen.slice(0, 10)).not.toEqual(seen.slice(10, 20));
    expect(batchIndices(10, 7, 3, 4)).toEqual(batchIndices(10, 7, 3, 4));
  });

  it('token-weighted DPO weighs the tokens after the first difference', () => {
    expect(divergenceWeights([5, 6, 7, 2], [5, 8, 2], 0.25)).toEqual({ chosen: [1, 1, 0.25, 0.25], rejected: [1, 1, 0.25] });
    expect(divergenceWeights([5, 2], [5, 6, 2], 0)).toEqual({ chosen: [1, 1], rejected: [1, 1, 0] });
  });

  it('a retried update returns the recorded result; a run resumed on a fresh host, lost versions rebuilt, ends with the same weights', async () => {
    const a = await preparedRun('pref-a');
    await a.sessions.warmStart(a.args, noProgress);
    const first = await a.sessions.update({ ...a.args, step: 1 }, noProgress);
    expect(first.metrics['update/pairs']).toBe(16);
    const bytes1 = weightsOf(a.runDir, 1);
    expect(await a.sessions.update({ ...a.args, step: 1 }, noProgress)).toEqual(first);
    expect(weightsOf(a.runDir, 1).equals(bytes1)).toBe(true);
    // Uninterrupted: steps 2 and 3 on the resident model.
    await a.sessions.update({ ...a.args, step: 2 }, noProgress);
    await a.sessions.update({ ...a.args, step: 3 }, noProgress);

    // A fresh host (new sessions) whose run lost versions 1 and 2 (torn by a machine crash: versions
    // are not fsync'd) is asked for step 3: it rebuilds 1 and 2 from the warm start, then steps.
    const b = await preparedRun('pref-b');
    cpSync(a.runDir, b.runDir, { recursive: true, filter: (src) => !/versions\/[123]/.test(src) });
    await b.sessions.update({ ...b.args, step: 3 }, noProgress);
    expect(weightsOf(b.runDir, 3).equals(weightsOf(a.runDir, 3))).toBe(true);
    expect(JSON.parse(readFileSync(join(versionDir(b.runDir, 3), 'state.json'), 'utf8'))).toMatchObject({ dataCursor: 48, objective: 'dpo' });
    const evaluation = await b.sessions.evaluate({ ...b.args, step: 3 });
    expect(evaluation.metrics['eval/pairAccuracy']).toBeGreaterThanOrEqual(0);
    b.sessions.release('r');
    a.sessions.release('r');
  }, 60_000);
});
