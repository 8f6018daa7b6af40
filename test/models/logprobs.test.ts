import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { sequenceLogProbs } from '../../models/logprobs.js';
import { tinyModel, useWasm } from './helpers.js';

beforeAll(useWasm);

function manual(logits: number[][], t: number, tok: number, temp = 1): { lp: number; ent: number } {
  const row = logits[t].map((x) => x / temp);
  const mx = Math.max(...row);
  const z = row.reduce((a, x) => a + Math.exp(x - mx), 0);
  const lps = row.map((x) => x - mx - Math.log(z));
  return { lp: lps[tok], ent: -lps.reduce((a, l) => a + Math.exp(l) * l, 0) };
}

describe('sequenceLogProbs', () => {
  it('equals a manual log-softmax of the forward logits, aligned to each row’s response', () => {
    const m = tinyModel();
    const seqs = [
      [1, 5, 6, 15, 7, 8, 2], // prompt of 4, response of 3
      [1, 9, 15, 4, 2], //       prompt of 3, response of 2
    ];
    const starts = [4, 3];
    for (const temp of [1, 0.7]) {
      const out = sequenceLogProbs(m, seqs, starts, { temperature: temp });
      expect(out.logp.shape).toEqual([2, 3]);
      expect(out.mask.arraySync()).toEqual([
        [1, 1, 1],
        [1, 1, 0],
      ]);
      const lp = out.logp.arraySync();
      const ent = out.entropies.arraySync();
      seqs.forEach((s, b) => {
        const logits = m.forward(tf.tensor2d([s], [1, s.length], 'int32')).arraySync()[0];
        for (let j = 0; j < s.length - starts[b]; j++) {
          const want = manual(logits, starts[b] + j - 1, s[starts[b] + j], temp);
          expect(lp[b][j]).toBeCloseTo(want.lp, 4);
          expect(ent[b][j]).toBeCloseTo(want.ent, 4);
        }
      });
      tf.dispose([out.logp, out.mask, out.entropies]);
    }
    m.dispose();
  });

  it('is differentiable w.r.t. the model weights', () => {
    const m = tinyModel();
    const { value, grads } = tf.variableGrads(() => {
      const o = sequenceLogProbs(m, [[1, 5, 15, 6, 2]], [3]);
      return tf.neg(tf.sum(tf.mul(o.logp, o.mask))) as tf.Scalar;
    }, m.variables());
    const norm = Object.values(grads).reduce((a, g) => a + tf.sum(tf.square(g)).dataSync()[0], 0);
    expect(norm).toBeGreaterThan(0);
    tf.dispose([value, ...Object.values(grads)]);
    m.dispose();
  });

  it('rejects a response start outside the sequence', () => {
    const m = tinyModel();
    expect(() => sequenceLogProbs(m, [[1, 5]], [0])).toThrow(/responseStart/);
    expect(() => sequenceLogProbs(m, [[1, 5]], [1, 1])).toThrow(/response starts/);
    m.dispose();
  });
});
