/**
 * The batch an RL or a preference run's config asks of the compute host (engine/run-memory.ts sizes it), and a
 * checkpoint folder's decoder shape read from its config.json alone, before any weight is loaded.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PreferenceConfig } from '../configs/preference-schema.js';
import type { ExperimentConfig } from '../configs/schema.js';
import { parseLlamaConfig } from '../models/llama/config.js';
import { llamaParamShapes } from '../models/llama/model.js';
import type { DecoderShape, RunBatch } from './run-memory.js';

export function runBatchOf(config: ExperimentConfig): RunBatch {
  const rows = config.rollout.promptsPerIteration * config.rollout.groupSize;
  const step = Math.min(config.optimizer.miniBatchSize ?? rows, rows);
  const microBatch = Math.min(config.optimizer.microBatchSize ?? step, step);
  const seqLen = config.model.maxSeqLen;
  return {
    microBatch, accumulates: microBatch < step, rolloutRows: rows, seqLen,
    promptLen: Math.max(1, seqLen - config.rollout.maxNewTokens), reference: config.objective.klCoef > 0,
  };
}

/**
 * The batch a preference step puts through one forward and backward pass: the chosen and the
 * rejected response of every pair of a micro-batch (`optimizer.microBatchSize` pairs, else all
 * `optimizer.batchSize`), with the reference resident. Greedy evaluation is sized as one whole step.
 */
export function preferenceBatchOf(config: PreferenceConfig): RunBatch {
  const { batchSize, microBatchSize } = config.optimizer;
  const rows = 2 * batchSize;
  const microBatch = 2 * Math.min(microBatchSize ?? batchSize, batchSize);
  const seqLen = config.model.maxSeqLen;
  return { microBatch, accumulates: microBatch < rows, rolloutRows: rows, seqLen, promptLen: Math.max(1, seqLen - config.evaluation.maxNewTokens), reference: true };
}

/** The shape of `model.checkpoint` when it is an HF folder (from config.json); null otherwise. */
export function plannedShape(config: ExperimentConfig): DecoderShape | null {
  const dir = config.model.checkpoint;
  if (dir === undefined || dir.toLowerCase().endsWith('.gguf') || !existsSync(join(dir, 'config.json'))) return null;
  const c = parseLlamaConfig(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>, join(dir, 'config.json'));
  const params = llamaParamShapes(c).reduce((a, [, shape]) => a + shape.reduce((x, y) => x * y, 1), 0);
  return {
    params, vocab: c.vocabSize, layers: c.numLayers, hidden: c.hiddenSize, ffn: c.intermediateSize,
    heads: c.numHeads, kvHeads: c.numKvHeads, headDim: c.headDim, recomputes: true,
  };
}
