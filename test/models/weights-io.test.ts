import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdamW } from '../../models/optimizer.js';
import { trainStep } from '../../models/train-step.js';
import { loadWeights, readWeightsManifest, saveWeights } from '../../models/weights-io.js';
import { tinyModel, useWasm } from './helpers.js';

let dir: string;
beforeAll(async () => {
  await useWasm();
  dir = await mkdtemp(join(tmpdir(), 'creditflow-weights-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const bytes = (t: tf.Tensor) => Buffer.from((t.dataSync() as Float32Array).buffer.slice(0));

describe('weights IO', () => {
  it('round-trips weights and optimizer state byte-exactly and lists its files', async () => {
    const m = tinyModel(1);
    const opt = new AdamW(m.params, { lr: 1e-2 });
    const x = tf.tensor2d([[1, 5, 6, 7]], [1, 4], 'int32');
    trainStep(m, opt, () => tf.mean(tf.square(m.forward(x))) as tf.Scalar, { lr: 1e-2, maxGradNorm: 1 });
    const files = await saveWeights(join(dir, 'a'), m, opt);
    expect(files.map((f) => f.slice(dir.length + 3)).sort()).toEqual(['weights.bin', 'weights.json']);

    const m2 = tinyModel(2);
    const opt2 = new AdamW(m2.params);
    const manifest = await loadWeights(join(dir, 'a'), m2, opt2);
    expect(manifest.optimizer?.step).toBe(1);
    for (const [n, v] of m.params) expect(bytes(m2.params.get(n)!).equals(bytes(v))).toBe(true);
    const [s1, s2] = [opt.exportState(), opt2.exportState()];
    expect(s2.step).toBe(1);
    for (const n of m.params.keys()) {
      expect(Buffer.from(s2.m[n].buffer).equals(Buffer.from(s1.m[n].buffer))).toBe(true);
      expect(Buffer.from(s2.v[n].buffer).equals(Buffer.from(s1.v[n].buffer))).toBe(true);
    }
    // Saving the loaded model again gives identical files.
    const again = await saveWeights(join(dir, 'b'), m2, opt2);
    expect((await readFile(again[0])).equals(await readFile(files[0]))).toBe(true);
    tf.dispose(x);
    [m, m2, opt, opt2].forEach((o) => o.dispose());
  });

  it('rejects a shape mismatch and a truncated file with the tensor named', async () => {
    const m = tinyModel(1);
    await saveWeights(join(dir, 'c'), m);
    const wide = tinyModel(1, { dModel: 32 });
    await expect(loadWeights(join(dir, 'c'), wide)).rejects.toThrow(/param\/wte.*shape/);
    await expect(loadWeights(join(dir, 'c'), m, new AdamW(m.params))).rejects.toThrow(/no optimizer state/);
    const bin = await readFile(join(dir, 'c', 'weights.bin'));
    await writeFile(join(dir, 'c', 'weights.bin'), bin.subarray(0, bin.length - 8));
    await expect(loadWeights(join(dir, 'c'), m)).rejects.toThrow(/out of bounds/);
    expect((await readWeightsManifest(join(dir, 'c'))).modelConfig).toMatchObject({ dModel: 16 });
    m.dispose();
    wide.dispose();
  });
});
