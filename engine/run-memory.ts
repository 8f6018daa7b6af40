/**
 * What one resident run needs in memory at its configured batch, worked out on the worker once the
 * model is known (its real parameter count), and the check that refuses a run the worker's
 * `--memory-budget-mb` (or the wasm backend's 4 GiB heap) cannot hold, before any compute starts.
 *
 * float32 throughout. The parts, for P parameters:
 *  - weights 4P, AdamW's two moments 8P, and the frozen KL reference 4P when objective.klCoef > 0;
 *  - the update: every gradient (4P; 8P while a second micro-batch's are added to the first) plus
 *    one micro-batch's activations on the gradient tape: per layer and token about
 *    tapeFloats(…).perToken floats plus the attention scores (heads × row²), and the
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
 * measured 4.0 GB (update peak less the process's RSS before loading the model). The built-in
 * transformer's layer keeps far less (no rope, one fused QKV, written-out layer-norm and linear
 * gradients): tf.memory() at the end of its forward under the tape gave, per layer and token, 3,006
 * floats on wasm (2,420 native) at d 64, F 256, 4 heads × 32 positions, 5,642 (4,479) at d 128, F 512,
 * and 5,855 (4,698) at 64 positions; 21·d + 5·F + 4·heads·row covers wasm's, the larger (test/engine/
 * run-memory.test.ts checks it). An estimate, meant to be on the safe side, not an exact count.
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
  /** Sequences per step of the SFT warm start (warmStart.batchSize), 0 without one. */
  warmStartRows: number;
  /** Longest sequence, prompt + response (model.maxSeqLen). */
  seqLen: number;
  /** Longest prompt (the prefill); at most seqLen. */
  promptLen: number;
  /** A frozen reference model is resident too (objective.klCoef > 0). */
  reference: boolean;
  /** The config fields a refusal names for each part. */
  fields: BatchFields;
}

export interface RunMemoryNeed {
  weights: number;
  optimizer: number;
  reference: number;
  gradients: number;
  activations: number;
  /** A warm-start SFT step: its gradients and activations (0 without a warm start). */
  warmStart: number;
  rollout: number;
  /** weights + optimizer + reference + max(gradients + activations, warmStart, rollout). */
  total: number;
}

/**
 * Floats on the gradient tape for one full layer: per token (norms, projections, rope, MLP), and per
 * attention score (× heads × row length). Fitted per architecture, see the header: the Llama-style
 * layer (the model that recomputes) and the built-in transformer's, whose tape is ~3x smaller.
 */
function tapeFloats(m: DecoderShape): { perToken: number; perScore: number } {
  return { perToken: m.recomputes ? 60 * m.hidden + 14 * m.ffn : 21 * m.hidden + 5 * m.ffn, perScore: 4 };
}
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
  const activations = passActivations(m, b.microBatch, b.seqLen) * F32;
  const warmStart = b.warmStartRows > 0 ? weights + passActivations(m, b.warmStartRows, b.seqLen) * F32 : 0;
  const cache = 2 * 2 * m.layers * m.kvHeads * m.headDim * b.rolloutRows * b.seqLen * F32;
  const prefill = b.rolloutRows * b.promptLen * m.vocab * F32 + b.rolloutRows * b.promptLen * tapeFloats(m).perToken * F32;
  const rollout = cache + prefill;
  return { weights, optimizer, reference, gradients, activations, warmStart, rollout, total: weights + optimizer + reference + Math.max(gradients + activations, warmStart, rollout) };
}

/** Floats one training pass of `rows` sequences holds beyond the weights and their gradients. */
function passActivations(m: DecoderShape, rows: number, seqLen: number): number {
  const tokens = rows * seqLen;
  const tape = tapeFloats(m);
  const fullLayer = tokens * tape.perToken + tape.perScore * rows * m.heads * seqLen * seqLen;
  const layers = m.recomputes ? m.layers * tokens * KEPT_FLOATS_PER_TOKEN(m.hidden) + fullLayer : m.layers * fullLayer;
  const head = 6 * Math.min(chunkRows(m.vocab), tokens) * m.vocab;
  // AdamW steps one parameter at a time, with ~6 temporaries of that parameter's size alive (scaled
  // gradient, two moments, the update): the embedding [vocab, d] is the largest.
  const optimizerStep = 6 * m.vocab * m.hidden;
  return layers + head + optimizerStep;
}

/** A run the worker cannot hold: not retried (the same worker would refuse it again). */
export class MemoryBudgetError extends Error {
  override name = 'ConfigError';
}


export const mb = (bytes: number) => `${Math.ceil(bytes / 2 ** 20).toLocaleString('en-US')} MB`;

/** The config fields a refusal names: what sets the model's size, each pass's batch, and how to lower them. */
export interface BatchFields {
  model: string;
  update: string;
  sampling: string;
  warmStart: string;
  fix: string;
}

/** Every part of `need` with the config fields that drive it, for a refusal. */
export function memoryParts(shape: DecoderShape, need: RunMemoryNeed, b: RunBatch): string {
  const model = b.fields.model === 'model.checkpoint'
    ? `model.checkpoint: ${shape.layers} layers × hidden size ${shape.hidden}, ${(shape.params / 1e6).toFixed(0)}M parameters`
    : b.fields.model;
  return [
    `weights ${mb(need.weights)} (${model})`, `AdamW moments ${mb(need.optimizer)}`,
    ...(need.reference ? [`reference ${mb(need.reference)}`] : []),
    `update ${mb(need.gradients + need.activations)} (gradients ${mb(need.gradients)} + activations ${mb(need.activations)} for ${b.fields.update} = ${b.microBatch} rows × model.maxSeqLen ${b.seqLen} tokens)`,
    ...(need.warmStart ? [`warm start ${mb(need.warmStart)} (${b.fields.warmStart} = ${b.warmStartRows} rows × model.maxSeqLen ${b.seqLen} tokens)`] : []),
    `sampling ${mb(need.rollout)} (KV cache and prefill of ${b.fields.sampling} = ${b.rolloutRows} rows of up to ${b.seqLen} tokens)`,
  ].join(', ');
}

/** How to make the run fit `limitBytes`: a smaller model when its resident state alone is over, else the batch's fields. */
export function memoryFix(need: RunMemoryNeed, b: RunBatch, limitBytes: number): string {
  const resident = need.weights + need.optimizer + need.reference;
  if (resident <= limitBytes) return b.fields.fix;
  return `use a smaller model (${b.fields.model}): its weights, AdamW moments${need.reference ? ' and reference' : ''} alone need ${mb(resident)}`;
}

/**
 * Throw {@link MemoryBudgetError} when the run's need exceeds `limitBytes` (the worker's budget) or,
 * on the wasm backend, its heap. The message gives every part and the config fields that drive it.
 */
export function refuseOverBudget(runId: string, shape: DecoderShape, need: RunMemoryNeed, b: RunBatch, limitBytes: number, backend: string): void {
  if (backend === 'wasm' && need.total > WASM_HEAP_BYTES) {
    throw new MemoryBudgetError(`run ${runId} needs about ${mb(need.total)} but the wasm backend's heap holds at most 4,096 MB (32-bit addresses): ${memoryParts(shape, need, b)}. Use the native backend (npm run native) or ${memoryFix(need, b, WASM_HEAP_BYTES)}.`);
  }
  if (need.total > limitBytes) {
    throw new MemoryBudgetError(`run ${runId} needs about ${mb(need.total)}, over this worker's --memory-budget-mb ${Math.floor(limitBytes / 2 ** 20)}: ${memoryParts(shape, need, b)}. Raise --memory-budget-mb or ${memoryFix(need, b, limitBytes)}.`);
  }
}

/**
 * Refuse a run of decoder `shape` at `batch` that this worker cannot hold ({@link refuseOverBudget});
 * otherwise return what its steps need on top of its resident bytes (the larger of the update, the
 * warm start and the sampling), for the host's memory budget.
 */
export function transientBytesOrRefuse(runId: string, shape: DecoderShape, batch: RunBatch, limitBytes: number, backend: string): number {
  const need = runMemoryNeed(shape, batch);
  refuseOverBudget(runId, shape, need, batch, limitBytes, backend);
  return Math.max(need.gradients + need.activations, need.warmStart, need.rollout);
}
