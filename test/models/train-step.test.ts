import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { AdamW } from '../../models/optimizer.js';
import { trainStep } from '../../models/train-step.js';
import { sftLoss } from '../../tasks/recipe.js';
import { tinyModel, tok, useWasm } from './helpers.js';

beforeAll(useWasm);

describe('trainStep', () => {
  it('lowers the loss, reports the grad norm, and leaks no tensors across steps', () => {
    const m = tinyModel(1);
    const opt = new AdamW(m.params, { lr: 1e-2 });
    const batch = [
      { prompt: '1+2=', completion: '3' },
      { prompt: '40-8=', completion: '32' },
    ];
    const first = trainStep(m, opt, () => sftLoss(m, tok, batch), { lr: 1e-2, maxGradNorm: 1 });
    const count = tf.memory().numTensors;
    let last = first;
    for (let i = 0; i < 15; i++) last = trainStep(m, opt, () => sftLoss(m, tok, batch), { lr: 1e-2, maxGradNorm: 1 });
    expect(tf.memory().numTensors).toBe(count);
    expect(first.gradNorm).toBeGreaterThan(0);
    expect(last.loss).toBeLessThan(first.loss * 0.7);
    m.dispose();
    opt.dispose();
  });

  it('refuses a non-finite loss without stepping', () => {
    const m = tinyModel(1);
    const opt = new AdamW(m.params);
    expect(() => trainStep(m, opt, () => tf.scalar(NaN).add(tf.sum(m.params.get('lnf.b')!)) as tf.Scalar, { lr: 1, maxGradNorm: 1 })).toThrow(/non-finite/);
    expect(opt.step).toBe(0);
    m.dispose();
    opt.dispose();
  });
});
