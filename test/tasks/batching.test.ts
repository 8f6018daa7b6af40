/**
 * Packed vs padded and micro-batched vs whole training steps give the same loss and gradients.
 * npx vitest run test/tasks/batching.test.ts
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { deriveRng } from '../../common/rng.js';
import { trainStepAccumulated } from '../../models/train-step.js';
import { sampleArithmetic } from '../../tasks/arithmetic.js';
import { microBatchWeight, outcomeAdvantages, policyUpdate, rollout, sftSteps } from '../../tasks/recipe.js';
import type { AggregationMode } from '../../losses/index.js';
import { maxAbsDiff, spyOptimizer, tinyModel, tok, useWasm } from '../models/helpers.js';

beforeAll(useWasm);

describe('training batches', () => {
  it('accumulates micro-batch gradients into one step', () => {
    const m = tinyModel(1);
    const x = [tf.tensor2d([[1, 5, 6, 7]], [1, 4], 'int32'), tf.tensor2d([[1, 9, 8, 2]], [1, 4], 'int32')];
    const part = (t: tf.Tensor2D) => () => tf.mean(tf.square(m.forward(t))) as tf.Scalar;
    const a = spyOptimizer();
    const b = spyOptimizer();
    const r1 = trainStepAccumulated(m, a.opt, [part(x[0]), part(x[1])], { lr: 0, maxGradNorm: 0 });
    const r2 = trainStepAccumulated(m, b.opt, [() => tf.add(part(x[0])(), part(x[1])()) as tf.Scalar], { lr: 0, maxGradNorm: 0 });
    expect(r1.loss).toBeCloseTo(r2.loss, 5);
    expect(maxAbsDiff(a.steps[0], b.steps[0])).toBeLessThan(1e-5);
    tf.dispose(x);
    m.dispose();
  });

  it('SFT: packed and micro-batched steps give the padded loss and gradients', () => {
    const m = tinyModel(2);
    const data = sampleArithmetic('train', 40, { splitSeed: 0, sampleSeed: 3 });
    const run = (packed: boolean, microBatchSize?: number) => {
      const spy = spyOptimizer();
      const r = sftSteps(m, spy.opt, data, { steps: 1, batchSize: 12, lr: 1e-3, rng: deriveRng(1, 'sft'), tokenizer: tok, packed, microBatchSize });
      return { loss: r.losses[0], grads: spy.steps[0] };
    };
    const padded = run(false);
    for (const other of [run(true), run(true, 5), run(false, 4)]) {
      expect(Math.abs(other.loss - padded.loss)).toBeLessThan(1e-4);
      expect(maxAbsDiff(other.grads, padded.grads)).toBeLessThan(1e-4);
    }
    m.dispose();
  });

  it('GRPO: packed and micro-batched steps give the padded loss and gradients in every aggregation mode', () => {
    const m = tinyModel(3);
    const batch = rollout(m, ['1+2=', '13+4=', '9-7='], { groupSize: 4, temperature: 1, maxNewTokens: 6, tokenizer: tok, rng: deriveRng(4, 'r') });
    const rewards = batch.items.map((it, i) => ((it.tokens.length + i) % 3 === 0 ? 1 : 0));
    const modes: AggregationMode[] = ['token-mean', 'seq-mean-token-mean', 'seq-mean-token-sum-norm'];
    for (const aggregation of modes) {
      const run = (packed: boolean, microBatchSize?: number) => {
        const spy = spyOptimizer();
        const r = policyUpdate(m, spy.opt, batch, outcomeAdvantages(batch, rewards), { loss: 'ppo-clip', epochs: 1, lr: 1e-3, maxGradNorm: 0, clipLow: 0.2, clipHigh: 0.28, aggregation, maxCompletionLength: 6, rng: deriveRng(1, 'u'), packed, microBatchSize });
        return { metrics: r.metrics, grads: spy.steps[0] };
      };
      const padded = run(false);
      expect(padded.metrics.steps).toBe(1);
      for (const other of [run(true), run(true, 3), run(false, 5)]) {
        for (const k of ['loss', 'gradNorm', 'pgLoss', 'validTokens', 'approxKl', 'clipFraction']) expect(Math.abs(other.metrics[k] - padded.metrics[k])).toBeLessThan(1e-4);
        expect(maxAbsDiff(other.grads, padded.grads)).toBeLessThan(1e-4);
      }
    }
    m.dispose();
  });

  it('weights micro-batches by their share of the step normaliser', () => {
    expect(microBatchWeight('token-mean', [2, 3], [2, 3, 5])).toBeCloseTo(0.5);
    expect(microBatchWeight('seq-mean-token-mean', [2, 0], [2, 0, 5])).toBeCloseTo(0.5);
    expect(microBatchWeight('seq-mean-token-sum-norm', [2], [2, 3, 5, 1])).toBeCloseTo(0.25);
  });
});
