import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { deriveRng } from '../../common/rng.js';
import { Transformer } from '../../models/transformer.js';
import { TINY, tinyModel, useWasm } from './helpers.js';

beforeAll(useWasm);

const ids = (rows: number[][]) => tf.tensor2d(rows, [rows.length, rows[0].length], 'int32');

describe('Transformer', () => {
  it('maps [B,T] tokens to [B,T,V] finite logits', () => {
    const m = tinyModel();
    const logits = m.forward(ids([[1, 4, 5, 6], [1, 7, 8, 9]]));
    expect(logits.shape).toEqual([2, 4, TINY.vocabSize]);
    expect(Array.from(logits.dataSync()).every(Number.isFinite)).toBe(true);
    logits.dispose();
    m.dispose();
  });

  it('is causal: changing a later token leaves earlier logits unchanged', () => {
    const m = tinyModel();
    const a = m.forward(ids([[1, 4, 5, 6, 7]])).arraySync()[0];
    const b = m.forward(ids([[1, 4, 5, 12, 3]])).arraySync()[0];
    for (let t = 0; t < 3; t++) for (let v = 0; v < TINY.vocabSize; v++) expect(b[t][v]).toBeCloseTo(a[t][v], 5);
    // ...and the changed position does change the logits after it.
    expect(Math.max(...a[3].map((x, v) => Math.abs(x - b[3][v])))).toBeGreaterThan(1e-4);
    m.dispose();
  });

  it('initialises deterministically from the rng, with distinct seeds giving distinct weights', () => {
    const [a, b, c] = [tinyModel(3), tinyModel(3), tinyModel(4)];
    const w = (m: Transformer) => Array.from(m.params.get('h0.attn.wqkv')!.dataSync());
    expect(w(a)).toEqual(w(b));
    expect(w(a)).not.toEqual(w(c));
    expect(a.numParams()).toBeGreaterThan(1000);
    [a, b, c].forEach((m) => m.dispose());
  });

  it('supports an untied output head and rejects bad configs', () => {
    const m = new Transformer({ ...TINY, tieEmbeddings: false }, deriveRng(1, 'init'));
    expect(m.params.has('head')).toBe(true);
    expect(m.forward(ids([[1, 2]])).shape).toEqual([1, 2, TINY.vocabSize]);
    m.dispose();
    expect(() => new Transformer({ ...TINY, nHeads: 3 }, deriveRng(1, 'x'))).toThrow(/divisible/);
    expect(() => new Transformer({ ...TINY, nLayers: 0 }, deriveRng(1, 'x'))).toThrow(/nLayers/);
  });

  it('has gradients for every weight on this backend', () => {
    const m = tinyModel();
    const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(m.forward(ids([[1, 4, 5, 6]])))) as tf.Scalar, m.variables());
    expect(Object.keys(grads).length).toBe(m.params.size);
    for (const g of Object.values(grads)) expect(Array.from(g.dataSync()).every(Number.isFinite)).toBe(true);
    tf.dispose([value, ...Object.values(grads)]);
    m.dispose();
  });
});
