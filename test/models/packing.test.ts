/** Packed (padding-free) batches against right-padded ones. npx vitest run test/models/packing.test.ts */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { deriveRng } from '../../common/rng.js';
import type { CausalLM } from '../../models/causal-lm.js';
import { generate } from '../../models/generate.js';
import { sequenceLogProbs } from '../../models/logprobs.js';
import { packLengths, packSequences } from '../../models/packing.js';
import { tinyModel, useWasm } from './helpers.js';

beforeAll(useWasm);

/** Sequences of 3..30 tokens (10x range) with prompts of 2..5 tokens. */
export function mixedBatch(seed: number, n: number, vocab: number, maxLen = 30): { seqs: number[][]; starts: number[] } {
  const rng = deriveRng(seed, 'batch');
  const seqs: number[][] = [];
  const starts: number[] = [];
  for (let i = 0; i < n; i++) {
    const len = 3 + rng.int(maxLen - 2);
    seqs.push([1, ...Array.from({ length: len - 1 }, () => 3 + rng.int(vocab - 3))]);
    starts.push(Math.min(len - 1, 2 + rng.int(4)));
  }
  return { seqs, starts };
}

/** Loss (token-weighted NLL plus an entropy term) and its gradients, keyed by parameter name. */
function lossAndGrads(m: CausalLM, seqs: number[][], starts: number[], packed: boolean) {
  const names = [...m.params.keys()];
  const { value, grads } = tf.variableGrads(() => {
    const o = sequenceLogProbs(m, seqs, starts, { packed, temperature: 0.8 });
    const w = tf.tidy(() => tf.mul(o.mask, tf.linspace(0.5, 1.5, o.mask.shape[1]).reshape([1, -1])));
    return tf.add(tf.div(tf.neg(tf.sum(tf.mul(o.logp, w))), tf.sum(o.mask)), tf.mul(0.1, tf.mean(o.entropies))) as tf.Scalar;
  }, m.variables());
  const vars = m.variables();
  const g = Object.fromEntries(vars.map((v, i) => [names[i], grads[v.name].dataSync() as Float32Array]));
  const loss = value.dataSync()[0];
  tf.dispose([value, ...Object.values(grads)]);
  return { loss, grads: g };
}

describe('packing', () => {
  it('bin-packs first-fit decreasing, deterministically, within the row length', () => {
    const L = packLengths([5, 9, 2, 7, 3, 1], 10);
    expect(L.rows).toBe(3);
    const used = new Array(L.rows).fill(0);
    [5, 9, 2, 7, 3, 1].forEach((n, b) => {
      expect(L.offset[b] + n).toBeLessThanOrEqual(10);
      used[L.row[b]] += n;
    });
    expect(used.reduce((a, b) => a + b)).toBe(27);
    expect(() => packLengths([11], 10)).toThrow(/length 11/);
  });

  it('builds restarted positions and a block-diagonal causal mask', () => {
    const p = packSequences([[1, 4, 5], [1, 6]], { padId: 0, rowLen: 6 });
    expect(p.layout.rows).toBe(1);
    expect(p.tokens.arraySync()).toEqual([[1, 4, 5, 1, 6, 0]]);
    expect(p.positions.arraySync()).toEqual([[0, 1, 2, 0, 1, 0]]);
    const visible = (p.attnBias.arraySync()[0][0] as number[][]).map((r) => r.map((x) => (x === 0 ? 1 : 0)));
    expect(visible).toEqual([
      [1, 0, 0, 0, 0, 0],
      [1, 1, 0, 0, 0, 0],
      [1, 1, 1, 0, 0, 0],
      [0, 0, 0, 1, 0, 0],
      [0, 0, 0, 1, 1, 0],
      [0, 0, 0, 0, 0, 1],
    ]);
    tf.dispose([p.tokens, p.positions, p.attnBias]);
  });

  it('gives the padded log-probs, entropies, mask, loss and gradients (to 1e-4)', () => {
    const m = tinyModel(3, { maxSeqLen: 32 });
    const { seqs, starts } = mixedBatch(1, 12, m.config.vocabSize);
    const a = sequenceLogProbs(m, seqs, starts, { temperature: 0.8 });
    const b = sequenceLogProbs(m, seqs, starts, { temperature: 0.8, packed: true });
    expect(b.logp.shape).toEqual(a.logp.shape);
    expect(b.mask.arraySync()).toEqual(a.mask.arraySync());
    const close = (x: tf.Tensor, y: tf.Tensor) => {
      const dx = x.dataSync();
      const dy = y.dataSync();
      for (let i = 0; i < dx.length; i++) expect(Math.abs(dx[i] - dy[i])).toBeLessThan(1e-4);
    };
    close(a.logp, b.logp);
    close(a.entropies, b.entropies);
    tf.dispose([a.logp, a.mask, a.entropies, b.logp, b.mask, b.entropies]);

    const pad = lossAndGrads(m, seqs, starts, false);
    const pk = lossAndGrads(m, seqs, starts, true);
    expect(Math.abs(pad.loss - pk.loss)).toBeLessThan(1e-4);
    let maxDiff = 0;
    for (const [name, g] of Object.entries(pad.grads)) {
      const h = pk.grads[name];
      for (let i = 0; i < g.length; i++) maxDiff = Math.max(maxDiff, Math.abs(g[i] - h[i]));
    }
    expect(maxDiff).toBeLessThan(1e-4);
    m.dispose();
  });

  it('packs rows longer than the longest sequence and handles empty responses', () => {
    const m = tinyModel(2, { maxSeqLen: 32 });
    const seqs = [[1, 5, 6, 7], [1, 8], [1, 9, 10, 11, 12]];
    const starts = [2, 2, 3];
    const a = sequenceLogProbs(m, seqs, starts);
    const b = sequenceLogProbs(m, seqs, starts, { packed: true, rowLen: 12 });
    expect(b.mask.arraySync()).toEqual(a.mask.arraySync());
    const da = a.logp.dataSync();
    const db = b.logp.dataSync();
    for (let i = 0; i < da.length; i++) expect(db[i]).toBeCloseTo(da[i], 4);
    tf.dispose([a.logp, a.mask, a.entropies, b.logp, b.mask, b.entropies]);
    m.dispose();
  });

  it('packed prompt prefill samples exactly what the padded prefill samples', () => {
    const m = tinyModel(4, { maxSeqLen: 40 });
    const prompts = [[1, 5], [1, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 4, 5, 6, 7, 8, 9, 10, 11, 12], [1, 9, 10], [1, 11, 12, 13, 14]];
    const rngs = () => prompts.map((_, i) => deriveRng(7, `row/${i}`));
    const a = generate(m, prompts, { maxNewTokens: 8, temperature: 1, rng: rngs() });
    const b = generate(m, prompts, { maxNewTokens: 8, temperature: 1, rng: rngs(), packedPrefill: true });
    expect(b.map((g) => g.tokens)).toEqual(a.map((g) => g.tokens));
    a.forEach((g, i) => g.logprobs.forEach((lp, j) => expect(b[i].logprobs[j]).toBeCloseTo(lp, 4)));
    m.dispose();
  });
});
