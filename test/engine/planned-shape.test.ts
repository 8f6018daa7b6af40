/**
 * Submit's memory check and the worker's are one estimate (engine/run-memory.ts) of one decoder shape:
 * the shape a config gives before any weight is loaded (engine/run-batch.ts `plannedShape`) must be
 * the loaded model's, for the built-in transformer and for the committed transformers checkpoints; and
 * a run submit refuses at a budget, the worker refuses at that budget too.
 * (A GGUF's planned shape is checked on SmolLM2's file in test/models/reference-smollm2.test.ts.)
 * npx vitest run test/engine/planned-shape.test.ts
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { memoryProblems } from '../../configs/memory-estimate.js';
import { initBackend } from '../../engine/backend.js';
import { createPolicy } from '../../engine/policy.js';
import { plannedShape, runBatchOf } from '../../engine/run-batch.js';
import { decoderShape, runMemoryNeed } from '../../engine/run-memory.js';
import { RunSessions } from '../../engine/run-sessions.js';
import { learningTinyConfig, PROJECT, tempStateDir } from '../support/harness.js';

const withCheckpoint = (name: string) => {
  const base = learningTinyConfig({ experiment: `shape-${name}` });
  return { ...base, model: { ...base.model, checkpoint: join(PROJECT, 'test/fixtures/reference-models', name) } };
};

describe('the decoder shape a config gives before loading', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it.each([
    ['the built-in transformer', () => learningTinyConfig({ experiment: 'shape-builtin' })],
    ['the built-in transformer, wider', () => learningTinyConfig({ experiment: 'shape-wide', model: { dModel: 48, nHeads: 3, dFf: 80 } })],
    ['qwen2-tiny (biases, GQA, tied)', () => withCheckpoint('qwen2-tiny')],
    ['llama3-rope-tiny (untied)', () => withCheckpoint('llama3-rope-tiny')],
  ])('is the loaded model\'s: %s', async (_, configOf) => {
    const config = configOf();
    const { model } = await createPolicy(config);
    try {
      expect(plannedShape(config)).toEqual(decoderShape(model));
    } finally {
      model.dispose();
    }
  });

  it('is refused by the worker at the budget submit refuses it at, and accepted by both just above', async () => {
    const config = learningTinyConfig({ experiment: 'shape-budget' });
    const needMb = runMemoryNeed(plannedShape(config)!, runBatchOf(config)).total / 2 ** 20;
    const below = Math.floor(needMb);
    expect(memoryProblems({ kind: 'rl', config }, below).join('\n')).toMatch(/the run needs about [\d,]+ MB, over the worker memory budget/);
    expect(memoryProblems({ kind: 'rl', config }, Math.ceil(needMb))).toEqual([]);
    const sessions = new RunSessions({ memoryBudgetBytes: below * 2 ** 20 });
    const err = await sessions.warmStart({ runId: 'r', config, runDir: join(tempStateDir('shape-budget'), 'r') }, () => undefined).catch((e: Error) => e);
    expect((err as Error).message).toMatch(new RegExp(`run r needs about [\\d,]+ MB, over this worker's --memory-budget-mb ${below}:`));
  });
});
