/**
 * What a run will hold in memory on its worker, estimated from its config before anything starts, so
 * that `dModel: 65536, nLayers: 1000` or `maxSeqLen: 1e9` is refused at submit naming the fields
 * that drive it, not in the first compute step with `RangeError: Invalid typed array length`.
 *
 * Float32 throughout (4 bytes a value). The terms, each with the fields it grows with:
 *  - weights P, their gradients P and AdamW's two moments 2P; a frozen reference P when the
 *    objective keeps one (RL with klCoef > 0, every preference run);
 *  - activations of one training pass, kept for the backward pass: per layer about 8·d + 2·dFf
 *    values per token and two heads × T × T attention maps per sequence, plus the one-hot input and
 *    the logits (with their softmax and gradient) at vocabulary width;
 *  - the KV cache of sampling: 2 × layers × sequences × T × (key/value width).
 * The peak is the resident state plus the largest of the passes (they run one at a time). It is an
 * estimate by formula, meant to get the order of magnitude right: it refuses runs that cannot fit,
 * not runs that are close. One measured point (2026-12-07, CPU backend, dModel 128, 2 layers,
 * maxSeqLen 32, 64 × 8 sequences): 293 MiB of update activations estimated, the update raised the
 * process's peak RSS by 224 MiB over a warm-start-only run. The single largest tensor is also
 * checked against what a typed array can hold.
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { readGgufHeader } from '../models/gguf/gguf-file.js';
import { parseLlamaConfig } from '../models/llama/config.js';
import type { PreferenceConfig } from './preference-schema.js';
import type { ExperimentConfig } from './schema.js';

/** The worker's default `--memory-budget-mb` (cli/program.ts); submit checks against it unless told otherwise. */
export const DEFAULT_MEMORY_BUDGET_MB = 2048;

/** Largest tensor TensorFlow.js can back with one typed array (int32 indexing in its kernels). */
export const MAX_TENSOR_VALUES = 2 ** 31 - 1;

const BYTES = 4;
const SPECIAL_TOKENS = 3; // PAD, BOS, EOS before the alphabet (models/tokenizer.ts)

interface ModelDims {
  vocab: number;
  width: number;
  layers: number;
  heads: number;
  ffn: number;
  /** Key (and value) width per token per layer: width, or kvHeads × headDim under grouped-query attention. */
  kvWidth: number;
  params: number;
  /** The fields the model's size comes from, for the error. */
  fields: string[];
}

/** One part of the estimate: its bytes and the config fields it grows with. */
export interface MemoryTerm {
  what: string;
  bytes: number;
  fields: string[];
}

export interface MemoryEstimate {
  totalBytes: number;
  terms: MemoryTerm[];
  /** The largest single tensor, in values, and what it is. */
  largestTensor: { values: number; what: string; fields: string[] };
}

type AnyConfig = { kind: 'rl'; config: ExperimentConfig } | { kind: 'preference'; config: PreferenceConfig };

function modelDims(model: ExperimentConfig['model']): ModelDims | null {
  if (model.checkpoint === undefined) {
    const V = [...(model.alphabet ?? '')].length + SPECIAL_TOKENS;
    const { dModel: d, nLayers: L, dFf: F, maxSeqLen: T, nHeads: H } = model;
    // wte + wpe + per block (qkv, out, two MLP matrices, biases and norms) + final norm; embeddings tied.
    const params = V * d + T * d + L * (4 * d * d + 2 * d * F + 9 * d + F) + 2 * d;
    return { vocab: V, width: d, layers: L, heads: H, ffn: F, kvWidth: d, params, fields: ['model.dModel', 'model.nLayers', 'model.dFf'] };
  }
  if (model.checkpoint.toLowerCase().endsWith('.gguf')) return ggufDims(model.checkpoint);
  const where = join(model.checkpoint, 'config.json');
  const c = parseLlamaConfig(JSON.parse(readFileSync(where, 'utf8')) as Record<string, unknown>, where);
  const h = c.hiddenSize;
  const kv = c.numKvHeads * c.headDim;
  const perLayer = h * c.numHeads * c.headDim * 2 + 2 * h * kv + 3 * h * c.intermediateSize + 2 * h;
  const params = c.vocabSize * h * (c.tieEmbeddings ? 1 : 2) + c.numLayers * perLayer + h;
  return {
    vocab: c.vocabSize, width: h, layers: c.numLayers, heads: c.numHeads, ffn: c.intermediateSize, kvWidth: kv, params,
    fields: [`model.checkpoint (${c.numLayers} layers × hidden_size ${h}, ${(params / 1e6).toFixed(0)}M parameters)`],
  };
}

/** How much of a GGUF file is read for its header (metadata, tokenizer vocabulary, tensor infos). */
const GGUF_HEADER_BYTES = 64 * 2 ** 20;

/**
 * A GGUF checkpoint's sizes from its header: parameters are counted from the tensor infos (the
 * loader dequantizes every tensor to float32, so a 4-bit file still needs 4 bytes a weight); null
 * when the header does not fit in the first 64 MiB or the file cannot be read (the schema reports it).
 */
function ggufDims(path: string): ModelDims | null {
  let header;
  try {
    const fd = openSync(path, 'r');
    try {
      const buf = Buffer.alloc(Math.min(fstatSync(fd).size, GGUF_HEADER_BYTES));
      readSync(fd, buf, 0, buf.length, 0);
      header = readGgufHeader(buf, path);
    } finally {
      closeSync(fd);
    }
  } catch {
    return null;
  }
  const meta = (key: string) => Number(header.metadata.get(`llama.${key}`) ?? 0);
  const params = header.tensors.reduce((sum, t) => sum + t.dims.reduce((a, b) => a * b, 1), 0);
  const width = meta('embedding_length');
  const heads = meta('attention.head_count') || 1;
  const kvHeads = meta('attention.head_count_kv') || heads;
  const tokens = header.metadata.get('tokenizer.ggml.tokens');
  const vocab = Array.isArray(tokens) ? tokens.length : 0;
  const layers = meta('block_count');
  return {
    vocab, width, layers, heads, ffn: meta('feed_forward_length'), kvWidth: (width / heads) * kvHeads, params,
    fields: [`model.checkpoint (${layers} layers × embedding_length ${width}, ${(params / 1e6).toFixed(0)}M parameters)`],
  };
}

/** Sequences in the largest training pass of the run, and the fields that set it. */
function trainBatch(run: AnyConfig): { sequences: number; fields: string[] } {
  if (run.kind === 'preference') {
    const o = run.config.optimizer;
    // chosen and rejected of every pair, through the policy.
    return { sequences: 2 * o.batchSize, fields: ['optimizer.batchSize'] };
  }
  const { rollout, optimizer } = run.config;
  const batch = rollout.promptsPerIteration * rollout.groupSize;
  if (optimizer.microBatchSize !== undefined) return { sequences: Math.min(optimizer.microBatchSize, batch), fields: ['optimizer.microBatchSize'] };
  if (optimizer.miniBatchSize !== undefined) return { sequences: Math.min(optimizer.miniBatchSize, batch), fields: ['optimizer.miniBatchSize'] };
  return { sequences: batch, fields: ['rollout.promptsPerIteration', 'rollout.groupSize'] };
}

/** The run's estimated peak memory on its worker; null when the model's sizes cannot be read (a GGUF header past 64 MiB). */
export function estimateRunMemory(run: AnyConfig): MemoryEstimate | null {
  const dims = modelDims(run.config.model);
  if (!dims) return null;
  const T = run.config.model.maxSeqLen;
  const lengthFields = ['model.maxSeqLen'];
  const hasReference = run.kind === 'preference' || run.config.objective.klCoef > 0;
  const state: MemoryTerm = {
    what: `weights, gradients and AdamW moments${hasReference ? ', and the frozen reference' : ''}`,
    bytes: dims.params * (hasReference ? 5 : 4) * BYTES,
    fields: [...dims.fields, ...(run.kind === 'rl' && hasReference ? ['objective.klCoef'] : [])],
  };
  const activations = (sequences: number) =>
    BYTES * (dims.layers * (sequences * T * (8 * dims.width + 2 * dims.ffn) + 2 * sequences * dims.heads * T * T) + 4 * sequences * T * dims.vocab);
  const batch = trainBatch(run);
  const warm = run.config.warmStart.batchSize;
  const passes: MemoryTerm[] = [
    { what: `activations of one update (${batch.sequences} sequences)`, bytes: activations(batch.sequences), fields: [...batch.fields, ...lengthFields, ...dims.fields] },
    { what: `activations of one warm-start step (${warm} sequences)`, bytes: run.config.warmStart.steps > 0 ? activations(warm) : 0, fields: ['warmStart.batchSize', ...lengthFields, ...dims.fields] },
  ];
  let largestTensor = { values: batch.sequences * dims.heads * T * T, what: 'attention maps of one update', fields: [...batch.fields, ...lengthFields] };
  if (run.kind === 'rl') {
    const sampled = run.config.rollout.promptsPerIteration * run.config.rollout.groupSize;
    passes.push({
      what: `KV cache of sampling (${sampled} completions)`,
      bytes: BYTES * 2 * dims.layers * sampled * T * dims.kvWidth,
      fields: ['rollout.promptsPerIteration', 'rollout.groupSize', ...lengthFields, 'model.nLayers'],
    });
  }
  const oneHot = batch.sequences * T * dims.vocab;
  if (oneHot > largestTensor.values) largestTensor = { values: oneHot, what: 'logits of one update', fields: [...batch.fields, ...lengthFields] };
  const widest = Math.max(dims.vocab * dims.width, dims.width * dims.ffn);
  if (widest > largestTensor.values) largestTensor = { values: widest, what: 'the largest weight matrix', fields: dims.fields };
  const peak = passes.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  return { totalBytes: state.bytes + peak.bytes, terms: [state, peak], largestTensor };
}

const mib = (bytes: number) => `${Math.ceil(bytes / 2 ** 20).toLocaleString('en-US')} MiB`;

/**
 * Problems of a run that does not fit: over the budget (with the terms and their fields), or a
 * tensor larger than a typed array holds. Empty when it fits.
 */
export function memoryProblems(run: AnyConfig, budgetMb: number): string[] {
  const estimate = estimateRunMemory(run);
  if (!estimate) return [];
  const problems: string[] = [];
  const { largestTensor: big } = estimate;
  if (big.values > MAX_TENSOR_VALUES) {
    problems.push(`${[...new Set(big.fields)].join(', ')}: ${big.what} would be one tensor of ${big.values.toExponential(2)} values, more than the ${MAX_TENSOR_VALUES.toLocaleString('en-US')} one typed array can hold`);
  }
  if (estimate.totalBytes > budgetMb * 2 ** 20) {
    const parts = estimate.terms.filter((t) => t.bytes > 0).map((t) => `${t.what} ${mib(t.bytes)} (from ${[...new Set(t.fields)].join(', ')})`);
    problems.push(`the run needs an estimated ${mib(estimate.totalBytes)}, over the worker memory budget of ${budgetMb.toLocaleString('en-US')} MiB: ${parts.join('; ')}. `
      + 'Make those fields smaller, or if the worker has the room give submit the budget it runs with (--memory-budget-mb, as `creditflow worker --memory-budget-mb`)');
  }
  return problems;
}
