/**
 * The Hugging Face `config.json` fields of a Llama-, Qwen2- or Mistral-style decoder, read into a
 * typed record exactly as transformers 5 reads them (LlamaConfig / Qwen2Config / MistralConfig and
 * their modeling code): each model type's own defaults, `head_dim` when given (else hidden/heads),
 * grouped-query heads, Qwen2's q/k/v biases, Llama's `attention_bias` / `mlp_bias`, tied embeddings,
 * rotary settings in either spelling (models/llama/rope.ts), sliding windows. A value the model code
 * here does not compute is an error naming the field, never a silent default.
 */
import { parseRope, ropeToHf, ROPE_KEYS, type RopeConfig } from './rope.js';

export interface LlamaConfig {
  /** `llama`, `qwen2` or `mistral` (same block; they differ in defaults and biases). */
  modelType: string;
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  /** Grouped-query attention: key/value heads (divides numHeads; = numHeads for plain MHA). */
  numKvHeads: number;
  headDim: number;
  rmsNormEps: number;
  rope: RopeConfig;
  /** Longest sequence the model is used for (max_position_embeddings). */
  maxSeqLen: number;
  /**
   * Smallest sliding-attention window of any layer (Mistral `sliding_window`, Qwen2 with
   * `use_sliding_window`), if one applies: attention is plain causal attention only up to this
   * many positions, so longer sequences are refused.
   */
  slidingWindow?: number;
  tieEmbeddings: boolean;
  /** Biases on q/k/v projections (Qwen2: true; Llama: `attention_bias`, default false). */
  qkvBias: boolean;
  /** Bias on the output projection (Llama `attention_bias` covers it too; Qwen2: none). */
  oBias: boolean;
  /** Biases on the MLP projections (Llama `mlp_bias`, default false). */
  mlpBias: boolean;
  bosTokenId?: number;
  /** config.json `eos_token_id` (an id or a list of ids). */
  eosTokenIds: number[];
}

/** Each model type's class defaults (transformers 5 configuration_*.py) for the fields a config may leave out. */
const DEFAULTS: Record<string, { numKvHeads: (heads: number) => number; maxPositions: number; slidingWindow?: number; bos?: number; eos: number[] }> = {
  llama: { numKvHeads: (h) => h, maxPositions: 2048, bos: 1, eos: [2] },
  qwen2: { numKvHeads: () => 32, maxPositions: 32768, slidingWindow: 4096, eos: [] },
  mistral: { numKvHeads: () => 8, maxPositions: 4096 * 32, slidingWindow: 4096, bos: 1, eos: [2] },
};

type Raw = Record<string, unknown>;

/** Parse a config.json object; `where` names the file in errors. */
export function parseLlamaConfig(raw: Raw, where = 'config.json'): LlamaConfig {
  const modelType = String(raw.model_type ?? '');
  const defaults = DEFAULTS[modelType];
  if (!defaults) throw new Error(`${where}: model_type '${modelType}' is not supported (supported: ${Object.keys(DEFAULTS).join(', ')})`);
  const int = (key: string, dflt?: number): number => {
    const v = raw[key] ?? dflt;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new Error(`${where}: ${key} must be a positive integer, got ${JSON.stringify(v)}`);
    return v;
  };
  const num = (key: string, dflt: number): number => {
    const v = raw[key] ?? dflt;
    if (typeof v !== 'number' || !(v > 0)) throw new Error(`${where}: ${key} must be a positive number, got ${JSON.stringify(v)}`);
    return v;
  };
  const bool = (key: string, dflt: boolean): boolean => {
    const v = raw[key] ?? dflt;
    if (typeof v !== 'boolean') throw new Error(`${where}: ${key} must be true or false, got ${JSON.stringify(v)}`);
    return v;
  };
  const hiddenSize = int('hidden_size');
  const numHeads = int('num_attention_heads');
  const numKvHeads = int('num_key_value_heads', defaults.numKvHeads(numHeads));
  if (numHeads % numKvHeads !== 0) throw new Error(`${where}: num_attention_heads (${numHeads}) must be a multiple of num_key_value_heads (${numKvHeads})`);
  if (modelType === 'llama' && hiddenSize % numHeads !== 0) throw new Error(`${where}: hidden_size (${hiddenSize}) must be a multiple of num_attention_heads (${numHeads})`);
  const headDim = raw.head_dim == null ? Math.floor(hiddenSize / numHeads) : int('head_dim');
  if (headDim % 2 !== 0) throw new Error(`${where}: head_dim ${headDim} must be even (rotary positions pair its halves)`);
  const hiddenAct = String(raw.hidden_act ?? 'silu');
  if (hiddenAct !== 'silu') throw new Error(`${where}: hidden_act '${hiddenAct}' is not supported (silu)`);
  const maxSeqLen = int('max_position_embeddings', defaults.maxPositions);
  const attentionBias = modelType === 'llama' && bool('attention_bias', false);
  const mlpBias = modelType === 'llama' && bool('mlp_bias', false);
  const ids = (key: string, dflt: number[]): number[] => {
    const v = key in raw ? raw[key] : dflt;
    const list = v == null ? [] : Array.isArray(v) ? v : [v];
    if (!list.every((x) => Number.isInteger(x) && (x as number) >= 0)) throw new Error(`${where}: ${key} must be a token id or a list of them, got ${JSON.stringify(v)}`);
    return list as number[];
  };
  const bos = ids('bos_token_id', defaults.bos === undefined ? [] : [defaults.bos]);
  if (bos.length > 1) throw new Error(`${where}: bos_token_id must be one token id, got ${JSON.stringify(raw.bos_token_id)}`);
  return {
    modelType,
    vocabSize: int('vocab_size'),
    hiddenSize,
    intermediateSize: int('intermediate_size'),
    numLayers: int('num_hidden_layers'),
    numHeads,
    numKvHeads,
    headDim,
    rmsNormEps: num('rms_norm_eps', 1e-6),
    rope: parseRope(raw, maxSeqLen, where),
    maxSeqLen,
    slidingWindow: slidingWindow(raw, modelType, defaults.slidingWindow, where),
    tieEmbeddings: bool('tie_word_embeddings', false),
    qkvBias: modelType === 'qwen2' || attentionBias,
    oBias: attentionBias,
    mlpBias,
    bosTokenId: bos[0],
    eosTokenIds: ids('eos_token_id', defaults.eos),
  };
}

/** The smallest window of a sliding-attention layer, if any layer slides. */
function slidingWindow(raw: Raw, modelType: string, dflt: number | undefined, where: string): number | undefined {
  if (modelType === 'llama') return undefined;
  const window = 'sliding_window' in raw ? raw.sliding_window : dflt;
  if (window == null) return undefined;
  if (typeof window !== 'number' || !Number.isInteger(window) || window < 1) throw new Error(`${where}: sliding_window must be a positive integer or null, got ${JSON.stringify(window)}`);
  if (modelType === 'mistral') return window;
  // Qwen2: only with use_sliding_window, and only on layers marked sliding_attention (by default the
  // layers from max_window_layers on).
  if (raw.use_sliding_window !== true) return undefined;
  const n = Number(raw.num_hidden_layers);
  const from = typeof raw.max_window_layers === 'number' ? raw.max_window_layers : 28;
  const types = Array.isArray(raw.layer_types) ? (raw.layer_types as unknown[]) : Array.from({ length: n }, (_, i) => (i >= from ? 'sliding_attention' : 'full_attention'));
  return types.includes('sliding_attention') ? window : undefined;
}

/**
 * The config.json object of a config (HF field names), merged over `base` (its other keys kept).
 * Rope settings are written in `base`'s spelling only (ropeToHf), so transformers reads back the
 * rotary positions that were trained, and no stale key can contradict them.
 */
export function toHfConfig(c: LlamaConfig, base: Raw = {}): Raw {
  const kept = Object.fromEntries(Object.entries(base).filter(([k]) => !ROPE_KEYS.includes(k)));
  const eos = c.eosTokenIds.length === 1 ? c.eosTokenIds[0] : c.eosTokenIds;
  return {
    ...kept,
    architectures: base.architectures ?? [c.modelType === 'qwen2' ? 'Qwen2ForCausalLM' : c.modelType === 'mistral' ? 'MistralForCausalLM' : 'LlamaForCausalLM'],
    model_type: c.modelType,
    vocab_size: c.vocabSize,
    hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize,
    num_hidden_layers: c.numLayers,
    num_attention_heads: c.numHeads,
    num_key_value_heads: c.numKvHeads,
    head_dim: c.headDim,
    hidden_act: 'silu',
    rms_norm_eps: c.rmsNormEps,
    ...ropeToHf(c.rope, base),
    max_position_embeddings: c.maxSeqLen,
    tie_word_embeddings: c.tieEmbeddings,
    ...(c.modelType === 'llama' ? { attention_bias: c.qkvBias, mlp_bias: c.mlpBias } : {}),
    bos_token_id: c.bosTokenId ?? null,
    eos_token_id: c.eosTokenIds.length === 0 ? null : eos,
  };
}
