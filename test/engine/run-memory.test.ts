/**
 * The worker refuses a run it cannot hold before any compute (engine/run-memory.ts): over its
 * --memory-budget-mb, with every part and the config fields that drive them; on wasm, a model past
 * the 4 GiB heap, before its weights are loaded (not `RuntimeError: Aborted()`).
 * npx vitest run test/engine/run-memory.test.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { deriveRng } from '../../common/rng.js';
import { Transformer } from '../../models/transformer.js';
import { initBackend } from '../../engine/backend.js';
import { RunSessions } from '../../engine/run-sessions.js';
import { runBatchOf } from '../../engine/run-batch.js';
import { decoderShape, runMemoryNeed } from '../../engine/run-memory.js';
import { readVersion } from '../../store/weight-versions.js';
import { learningTinyConfig, tempStateDir } from '../support/harness.js';
import { hfConfig, tinyTokenizer } from '../support/tiny-llama.js';

const noProgress = () => undefined;

describe('a run the worker cannot hold', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('is refused at warm start, naming the budget, each part and the fields that drive it', async () => {
    const config = learningTinyConfig({ experiment: 'over-budget' });
    const runDir = join(tempStateDir('over-budget'), 'r');
    const sessions = new RunSessions({ memoryBudgetBytes: 2 ** 20 });
    const err = await sessions.warmStart({ runId: 'r', config, runDir }, noProgress).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).toBe('ConfigError'); // not retried by the workflow
    expect((err as Error).message).toMatch(/run r needs about [\d,]+ MB, over this worker's --memory-budget-mb 1: weights [\d,]+ MB \(model\.dModel, model\.nLayers, model\.dFf\), AdamW moments [\d,]+ MB, update .*rollout\.promptsPerIteration × rollout\.groupSize = \d+ rows × model\.maxSeqLen \d+ tokens.*rollout\.promptsPerIteration × rollout\.groupSize/);
    expect(readVersion(runDir, 0)).toBeNull(); // nothing trained
    expect(sessions.residentRuns()).toEqual([]);
  });

  it('on wasm, refuses a checkpoint past the 4 GiB heap from its config.json, before loading it', async () => {
    const dir = join(tempStateDir('wasm-heap'), 'big-llama');
    mkdirSync(dir, { recursive: true });
    // A 7B-sized Llama config; no weights at all: the refusal must come before any load.
    writeFileSync(join(dir, 'config.json'), JSON.stringify(hfConfig({ hidden_size: 4096, intermediate_size: 11008, num_hidden_layers: 32, num_attention_heads: 32, num_key_value_heads: 32, vocab_size: 32000, max_position_embeddings: 4096 })));
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tinyTokenizer().json));
    const base = learningTinyConfig({ experiment: 'wasm-heap' });
    const config = { ...base, model: { ...base.model, checkpoint: dir } };
    const sessions = new RunSessions({ memoryBudgetBytes: 2 ** 50 });
    const err = await sessions.warmStart({ runId: 'big', config, runDir: join(dir, '..', 'run') }, noProgress).catch((e: Error) => e);
    expect((err as Error).name).toBe('ConfigError');
    expect((err as Error).message).toMatch(/run big needs about [\d,]+ MB but the wasm backend's heap holds at most 4,096 MB .*weights 25,[0-9]{3} MB \(model\.checkpoint: 32 layers × hidden size 4096/);
  });

  it('needs more as the micro-batch grows, and counts the KL reference', () => {
    const config = learningTinyConfig({ experiment: 'sizes' });
    const shape = { params: 135e6, vocab: 49152, layers: 30, hidden: 576, ffn: 1536, heads: 9, kvHeads: 3, headDim: 64, recomputes: true };
    const small = runMemoryNeed(shape, { ...runBatchOf(config), microBatch: 1, seqLen: 256 });
    const large = runMemoryNeed(shape, { ...runBatchOf(config), microBatch: 8, seqLen: 256 });
    // The tape's share grows with the tokens; AdamW's temporaries and the head's chunk do not.
    const fixed = 6 * 49152 * 576 * 4;
    expect(large.activations - fixed).toBeGreaterThan(4 * (small.activations - fixed));
    expect(runMemoryNeed(shape, { ...runBatchOf(config), reference: true }).reference).toBe(135e6 * 4);
  });

  it.each([
    { dModel: 64, dFf: 256, nLayers: 2, nHeads: 4, maxSeqLen: 32, rows: 128 },
    { dModel: 128, dFf: 512, nLayers: 3, nHeads: 4, maxSeqLen: 64, rows: 32 },
  ])('estimates the built-in transformer\'s gradient tape on the safe side, within 2x: d $dModel, $nLayers layers, $rows × $maxSeqLen', ({ rows, ...sizes }) => {
    const model = new Transformer({ vocabSize: 20, ...sizes }, deriveRng(1, 'init'));
    const tokens = tf.tensor2d(Int32Array.from({ length: rows * sizes.maxSeqLen }, (_, i) => i % 20), [rows, sizes.maxSeqLen], 'int32');
    try {
      // What the forward leaves on the tape for the backward pass: tensor bytes at the end of the loss.
      const before = tf.memory().numBytes;
      let onTape = 0;
      const { value, grads } = tf.variableGrads(() => {
        const loss = tf.mean(model.forward(tokens)) as tf.Scalar;
        onTape = tf.memory().numBytes - before;
        return loss;
      });
      tf.dispose([value, ...Object.values(grads)]);
      const base = learningTinyConfig({ experiment: 'tape' });
      const batch = { ...runBatchOf(base), microBatch: rows, seqLen: sizes.maxSeqLen };
      const shape = decoderShape(model);
      // The estimate's activations less its AdamW temporaries (6 × the embedding) and output-head chunk.
      const estimated = runMemoryNeed(shape, batch).activations - runMemoryNeed(shape, { ...batch, microBatch: 0 }).activations;
      expect(estimated).toBeGreaterThanOrEqual(onTape);
      expect(estimated).toBeLessThan(2 * onTape);
    } finally {
      tokens.dispose();
      model.dispose();
    }
  });
});
