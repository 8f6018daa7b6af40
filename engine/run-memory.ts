/**
 * What one resident run needs in memory at its configured batch, worked out on the worker once the
 * model is known (its real parameter count), and the check that refuses a run the worker's
 * `--memory-budget-mb` (or the wasm backend's 4 GiB heap) cannot hold, before any compute starts.
 *
 * float32 throughout. The parts, for P parameters:
 *  - weights 4P, AdamW's two moments 8P, and the frozen KL reference 4P when objective.klCoef > 0;
 *  - the update: every gradient (4P; 8P while a second micro-batch's are added to the first) plus
 *    one micro-batch's activations on the gradient tape: per layer and token about
 *    LAYER_FLOATS_PER_TOKEN(d, F) floats plus the attention probabilities (heads × row²), and the
 *    output head's chunk (models/head-logprobs.ts). A model that recomputes its layers in the
 *    backward pass (Llama-style checkpoints: models/recompute.ts) keeps ~KEPT_FLOATS_PER_TOKEN(d)
 *    per layer and token, and one layer's full set while that layer's backward runs; then AdamW's
 *    temporaries for its largest parameter (the [vocab, d] embedding);
 *  - the rollout: the KV cache of every sampled row (twice while a step extends it) and the
 *    prefill's logits over the prompt positions.
 * The run's peak is weights + moments + reference + the larger of the update and the rollout.
 * Calibrated on layers of SmolLM2-135M's shape on the native backend, 4 × 256 tokens: 229 MB per
 * layer on the tape without recomputation, 17 MB with it (tf.memory() at the end of the forward,
 * 2 against 6 layers). For the memory bench's batch (bench/memory.ts) this gives 4.1 GB against a
 * measured 4.0 GB (update peak less the process's RSS before loading the model). An estimate, meant
 * to be on the safe side, not an exact count.
 */
import type { CausalLM } from '../models/causal-lm.js';
import { chunkRows } from '../models/head-logprobs.js';

/** The wasm backend's heap: 32-bit addresses, so at most 4 GiB whatever the machine has. */
export const WASM_HEAP_BYTES = 4 * 2 ** 30;

/** Sizes of a decoder, read from either model class's config. */
export interface DecoderShape {
  params: number;
  vocab: number;
  layers: number;
  hidden: number;
  ffn: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  /** Layers recomputed in the backward pass (the Llama-style model) rather than kept on the tape. */
  recomputes: boolean;
}

/** The batch the run's config asks for: what the activations and the KV cache scale with. */
export interface RunBatch {
  /** Sequences per forward/backward pass of the update (optimizer.microBatchSize, else the step's). */
  microBatch: number;
  /** Whether a step sums several micro-batches (gradients are then held twice while adding). */
  accumulates: boolean;
  /** Rows sampled at once by the rollout (rollout.promptsPerIteration × rollout.groupSize). */
  rolloutRows: number;
  /** Longest sequence, prompt + response (model.maxSeqLen). */
  seqLen: number;
  /** Longest prompt (the prefill); at most seqLen. */
  promptLen: number;
  /** A frozen reference model is resident too (objective.klCoef > 0). */
  reference: boolean;
}

export interface RunMemoryNeed {
  weights: number;
  optimizer: number;
  reference: number;
  gradients: number;
  activations: number;
  rollout: number;
  /** weights + optimizer + reference + max(gradients + activations, rollout). */
  total: number;
}

/** Floats on the gradient tape per token of one layer (norms, projections, rope, MLP): fitted, see the header. */
const LAYER_FLOATS_PER_TOKEN = (d: number, F: number) => 60 * d + 14 * F;
/** Floats kept per token of a recomputed layer (its input, and the rotary and mask constants): fitted. */
const KEPT_FLOATS_PER_TOKEN = (d: number) => 8 * d;

export function decoderShape(model: CausalLM): DecoderShape {
  const c = model.config as Record<string, unknown>;
  const num = (...keys: string[]) => {
    for (const k of keys) if (typeof c[k] === 'number') return c[k] as number;
    throw new Error(`decoderShape: the model's config has none of ${keys.join(', ')}`);
  };
  const heads = num('numHeads', 'nHeads');
  const hidden = num('hiddenSize', 'dModel');
  return {
    params: model.numParams(), vocab: model.config.vocabSize, layers: num('numLayers', 'nLayers'), hidden,
    ffn: num('intermediateSize', 'dFf'), heads, kvHeads: typeof c.numKvHeads === 'number' ? c.numKvHeads : heads,
    headDim: typeof c.headDim === 'number' ? c.headDim : hidden / heads, recomputes: typeof c.numKvHeads === 'number',
  };
}

export function runMemoryNeed(m: DecoderShape, b: RunBatch): RunMemoryNeed {
  const F32 = 4;
  const weights = m.params * F32;
  const optimizer = 2 * weights;
  const reference = b.reference ? weights : 0;
  const gradients = (b.accumulates ? 2 : 1) * weights;
  const tokens = b.microBatch * b.seqLen;
  const fullLayer = tokens * LAYER_FLOATS_PER_TOKEN(m.hidden, m.ffn) + 4 * b.microBatch * m.heads * b.seqLen * b.seqLen;
  const layers = m.recomputes ? m.layers * tokens * KEPT_FLOATS_PER_TOKEN(m.hidden) + fullLayer : m.layers * fullLayer;
  const head = 6 * Math.min(chunkRows(m.vocab), tokens) * m.vocab;
  // AdamW steps one parameter at a time, with ~6 temporaries of that parameter's size alive (scaled
  // gradient, two moments, the update): the embedding [vocab, d] is the largest.
  const optimizerStep = 6 * m.vocab * m.hidden;
  const activations = (layers + head + optimizerStep) * F32;
  const cache = 2 * 2 * m.layers * m.kvHeads * m.headDim * b.rolloutRows * b.seqLen * F32;
  const prefill = b.rolloutRows * b.promptLen * m.vocab * F32 + b.rolloutRows * b.promptLen * LAYER_FLOATS_PER_TOKEN(m.hidden, m.ffn) * F32;
  const rollout = cache + prefill;
  return { weights, optimizer, reference, gradients, activations, rollout, total: weights + optimizer + reference + Math.max(gradients + activations, rollout) };
}

/** A run the worker cannot hold: not retried (the same worker would refuse it again). */
export class MemoryBudgetError extends Error {
  override name = 'ConfigError';
}

const mb = (bytes: number) => `${Math.ceil(bytes / 2 ** 20)} MB`;

/** The config fields a refusal names: what sets the update's and the sampling's batch, and how to lower them. */
export interface BatchFields {
  update: string;
  sampling: string;
  fix: string;
}

const RL_FIELDS: BatchFields = {
  update: 'optimizer.microBatchSize',
  sampling: 'rollout.promptsPerIteration × rollout.groupSize',
  fix: 'lower optimizer.microBatchSize, rollout.promptsPerIteration × rollout.groupSize or model.maxSeqLen',
};

/**
 * Throw {@link MemoryBudgetError} when `need` exceeds `limitBytes` (the worker's budget) or, on the
 * wasm backend, its heap. The message gives every part and the config fields that drive it.
 */
export function refuseOverBudget(runId: string, need: RunMemoryNeed, b: RunBatch, limitBytes: number, backend: string, fields: BatchFields = RL_FIELDS): void {
  const parts = [
    `weights ${mb(need.weights)}`, `AdamW moments ${mb(need.optimizer)}`,
    ...(need.reference ? [`reference ${mb(need.reference)}`] : []),
    `update ${mb(need.gradients + need.activations)} (gradients ${mb(need.gradients)} + activations ${mb(need.activations)} for ${fields.update} = ${b.microBatch} rows × model.maxSeqLen ${b.seqLen} tokens)`,
    `sampling ${mb(need.rollout)} (KV cache and prefill of ${fields.sampling} = ${b.rolloutRows} rows of up to ${b.seqLen} tokens)`,
  ].join(', ');
  if (backend === 'wasm' && need.total > WASM_HEAP_BYTES) {
    throw new MemoryBudgetError(`run ${runId} needs about ${mb(need.total)} but the wasm backend's heap holds at most 4096 MB (32-bit addresses): ${parts}. Use the native backend (npm run native) or ${fields.fix}.`);
  }
  if (need.total > limitBytes) {
    throw new MemoryBudgetError(`run ${runId} needs about ${mb(need.total)}, over this worker's --memory-budget-mb ${Math.floor(limitBytes / 2 ** 20)}: ${parts}. Raise --memory-budget-mb or ${fields.fix}.`);
  }
}

/**
 * Refuse a run of decoder `shape` at `batch` that this worker cannot hold ({@link refuseOverBudget});
 * otherwise return what its steps need on top of its resident bytes (the larger of the update and
 * the sampling), for the host's memory budget.
 */
export function transientBytesOrRefuse(runId: string, shape: DecoderShape, batch: RunBatch, limitBytes: number, backend: string, fields?: BatchFields): number {
  const need = runMemoryNeed(shape, batch);
  refuseOverBudget(runId, need, batch, limitBytes, backend, fields);
  return Math.max(need.gradients + need.activations, need.rollout);
}
