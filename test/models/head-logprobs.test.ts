/**
 * The fused, chunked output head (models/head-logprobs.ts) against the plain ops it replaces:
 * same log-probs and entropies, same gradients (through both) for the hidden states and the head weight, on a
 * [V, d] head (tied embeddings) and a [d, V] head, over several chunks and a temperature.
 * npx vitest run test/models/head-logprobs.test.ts
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { deriveRng } from '../../common/rng.js';
import { headLogProbs, outputHeadOf, type OutputHead } from '../../models/head-logprobs.js';
import { LlamaModel } from '../../models/llama/model.js';
import { parseLlamaConfig } from '../../models/llama/config.js';
import { tinyModel, useWasm } from './helpers.js';

beforeAll(useWasm);

/** What the fused op replaces: the whole [N, V] logits, log-softmax, one-hot pick and entropy. */
function plain(h: tf.Tensor2D, head: OutputHead, targets: Int32Array, temperature: number): tf.Tensor2D {
  const w = head.weight as tf.Tensor as tf.Tensor2D;
  const V = w.shape[head.vocabRows ? 0 : 1];
  const logSm = tf.logSoftmax(tf.div(tf.matMul(h, w, false, head.vocabRows), temperature));
  const tok = tf.sum(tf.mul(logSm, tf.oneHot(tf.tensor1d(targets, 'int32'), V)), -1);
  const ent = tf.neg(tf.sum(tf.mul(tf.exp(logSm), logSm), -1));
  return tf.stack([tok, ent], 1) as tf.Tensor2D;
}

/** Values and gradients (of Σ c_i · logp_i + Σ e_i · H_i, c and e fixed) w.r.t. h and the head weight. */
function run(f: typeof plain, head: OutputHead, N: number, d: number, temperature: number) {
  const V = head.weight.shape[head.vocabRows ? 0 : 1]!;
  const rng = deriveRng(3, 'head-test');
  const targets = Int32Array.from({ length: N }, () => Math.floor(rng.next() * V));
  const h = tf.randomNormal([N, d], 0, 1, 'float32', 5) as tf.Tensor2D;
  const coef = tf.randomNormal([N, 2], 0, 1, 'float32', 6);
  const value = tf.tidy(() => f(h, head, targets, temperature).arraySync());
  const { grads } = tf.variableGrads(() => tf.tidy(() => tf.sum(tf.mul(f(h, head, targets, temperature), coef))) as tf.Scalar, [head.weight]);
  const dW = Array.from(grads[head.weight.name].dataSync());
  const dh = tf.tidy(() => Array.from(tf.grad((x: tf.Tensor) => tf.sum(tf.mul(f(x as tf.Tensor2D, head, targets, temperature), coef)))(h).dataSync()));
  tf.dispose([h, coef, ...Object.values(grads)]);
  return { value, dW, dh };
}

function expectClose(a: number[], b: number[], tol: number): void {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  expect(worst).toBeLessThan(tol);
}

describe('headLogProbs', () => {
  const heads: [string, () => { head: OutputHead; d: number; dispose: () => void }][] = [
    ['a tied [V, d] head (built-in transformer)', () => {
      const m = tinyModel(1, { tieEmbeddings: true });
      return { head: outputHeadOf(m)!, d: 16, dispose: () => m.dispose() };
    }],
    ['an untied [d, V] head (built-in transformer)', () => {
      const m = tinyModel(1, { tieEmbeddings: false });
      return { head: outputHeadOf(m)!, d: 16, dispose: () => m.dispose() };
    }],
    ['an lm_head.weight [V, d] (Llama)', () => {
      const cfg = parseLlamaConfig({
        architectures: ['LlamaForCausalLM'], model_type: 'llama', vocab_size: 50, hidden_size: 8, intermediate_size: 16, num_hidden_layers: 1,
        num_attention_heads: 2, num_key_value_heads: 1, max_position_embeddings: 32, rms_norm_eps: 1e-6, tie_word_embeddings: false,
      });
      const m = LlamaModel.random(cfg, deriveRng(2, 'init'));
      return { head: outputHeadOf(m)!, d: 8, dispose: () => m.dispose() };
    }],
  ];
  for (const [what, make] of heads) {
    it(`matches the unfused ops in value and gradient, over several chunks: ${what}`, () => {
      const { head, d, dispose } = make();
      expect(head).not.toBeNull();
      for (const temperature of [1, 0.7]) {
        const want = run(plain, head, 11, d, temperature);
        const got = run((h, hd, t, temp) => headLogProbs(h, hd, t, temp, 4), head, 11, d, temperature);
        expectClose(got.value.flat(), want.value.flat(), 1e-5);
        expectClose(got.dW, want.dW, 1e-5);
        expectClose(got.dh, want.dh, 1e-5);
      }
      dispose();
    });
  }

  it('leaves no tensor behind, forward and backward', () => {
    const m = tinyModel(1, { tieEmbeddings: true });
    const head = outputHeadOf(m)!;
    const h = tf.randomNormal([9, 16]) as tf.Tensor2D;
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.slice(headLogProbs(h, head, Int32Array.from({ length: 9 }, (_, i) => i), 1, 2), [0, 0], [9, 1])) as tf.Scalar, [head.weight]);
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
    h.dispose();
    m.dispose();
  });
});
