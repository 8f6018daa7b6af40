/**
 * What a run's config asks of a worker, before any weight is loaded: the batch of each pass (an RL or
 * a preference run) and the decoder's shape (the built-in model's from `model.*`, a checkpoint's from
 * its config.json or GGUF header). engine/run-memory.ts turns the two into bytes; the worker checks
 * them against its budget, and `creditflow submit` against the budget it is given.
 */
import type { PreferenceConfig } from '../configs/preference-schema.js';
import type { ExperimentConfig } from '../configs/schema.js';
import type { LlamaConfig } from '../models/llama/config.js';
import { checkpointConfig } from '../models/load-checkpoint.js';
import { llamaParamShapes } from '../models/llama/model.js';
import { CharTokenizer } from '../models/tokenizer.js';
import { transformerParamCount } from '../models/transformer.js';
import type { BatchFields, DecoderShape, RunBatch } from './run-memory.js';

/** Both kinds of run config have these sections. */
type AnyRunConfig = Pick<ExperimentConfig, 'model' | 'warmStart'>;

const warmStartRows = (config: AnyRunConfig) => (config.warmStart.steps > 0 ? config.warmStart.batchSize : 0);

const modelFields = (config: AnyRunConfig) => (config.model.checkpoint === undefined ? 'model.dModel, model.nLayers, model.dFf' : 'model.checkpoint');

export function runBatchOf(config: ExperimentConfig): RunBatch {
  const { rollout, optimizer } = config;
  const rows = rollout.promptsPerIteration * rollout.groupSize;
  const step = Math.min(optimizer.miniBatchSize ?? rows, rows);
  const microBatch = Math.min(optimizer.microBatchSize ?? step, step);
  const seqLen = config.model.maxSeqLen;
  const sampling = 'rollout.promptsPerIteration × rollout.groupSize';
  // The field that sets the update's pass: the micro-batch, else the optimizer step, else the rollout.
  const update = optimizer.microBatchSize !== undefined ? 'optimizer.microBatchSize' : optimizer.miniBatchSize !== undefined ? 'optimizer.miniBatchSize' : sampling;
  const fields: BatchFields = {
    model: modelFields(config), update, sampling, warmStart: 'warmStart.batchSize',
    fix: `lower ${update === sampling ? 'optimizer.microBatchSize' : update}, ${sampling} or model.maxSeqLen`,
  };
  return {
    microBatch, accumulates: microBatch < step, rolloutRows: rows, warmStartRows: warmStartRows(config), seqLen,
    promptLen: Math.max(1, seqLen - rollout.maxNewTokens), reference: config.objective.klCoef > 0, fields,
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
  const fields: BatchFields = {
    model: modelFields(config),
    update: '2 × optimizer.microBatchSize (chosen and rejected; default optimizer.batchSize)',
    sampling: '2 × optimizer.batchSize (greedy evaluation, sized as one step)',
    warmStart: 'warmStart.batchSize',
    fix: 'lower optimizer.microBatchSize (the same step in smaller passes, gradients accumulated), optimizer.batchSize or model.maxSeqLen',
  };
  return {
    microBatch, accumulates: microBatch < rows, rolloutRows: rows, warmStartRows: warmStartRows(config), seqLen,
    promptLen: Math.max(1, seqLen - config.evaluation.maxNewTokens), reference: true, fields,
  };
}

/**
 * The decoder a run's config describes, without building it: the built-in transformer's sizes from
 * `model.*`, a checkpoint's from its config.json or its GGUF header (no weight read). Null when the
 * checkpoint cannot be read; its loader then says why.
 */
export function plannedShape(config: ExperimentConfig): DecoderShape | null {
  const { checkpoint } = config.model;
  if (checkpoint === undefined) {
    const { dModel, nLayers, nHeads, dFf, maxSeqLen } = config.model;
    const vocabSize = new CharTokenizer(config.model.alphabet).vocabSize;
    return {
      params: transformerParamCount({ vocabSize, dModel, nLayers, nHeads, dFf, maxSeqLen }), vocab: vocabSize, layers: nLayers,
      hidden: dModel, ffn: dFf, heads: nHeads, kvHeads: nHeads, headDim: dModel / nHeads, recomputes: false,
    };
  }
  let c: LlamaConfig;
  try {
    c = checkpointConfig(checkpoint);
  } catch {
    return null;
  }
  const params = llamaParamShapes(c).reduce((a, [, shape]) => a + shape.reduce((x, y) => x * y, 1), 0);
  return {
    params, vocab: c.vocabSize, layers: c.numLayers, hidden: c.hiddenSize, ffn: c.intermediateSize,
    heads: c.numHeads, kvHeads: c.numKvHeads, headDim: c.headDim, recomputes: true,
  };
}
