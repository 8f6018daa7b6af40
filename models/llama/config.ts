/**
 * The Hugging Face `config.json` fields of a Llama- or Qwen2-style decoder, read into a typed record
 * with the transformers library's defaults (LlamaConfig / Qwen2Config). Unsupported features fail
 * here, by name, rather than loading a model that computes something else.
 */

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
  ropeTheta: number;
  /** Longest sequence the model is used for (max_position_embeddings). */
  maxSeqLen: number;
  tieEmbeddings: boolean;
  /** Biases on q/k/v projections (Qwen2: true; Llama: `attention_bias`, default false). */
  qkvBias: boolean;
  /** Bias on the output projection (Llama `attention_bias` covers it too; Qwen2: none). */
  oBias: boolean;
  /** Biases on the MLP projections (Llama `mlp_bias`, default false). */
  mlpBias: boolean;
  bosTokenId?: number;
  eosTokenId?: number;
}

const SUPPORTED = ['llama', 'qwen2', 'mistral'];

/** Parse a config.json object; `where` names the file in errors. */
export function parseLlamaConfig(raw: Record<string, unknown>, where = 'config.json'): LlamaConfig {
  const modelType = String(raw.model_type ?? '');
  if (!SUPPORTED.includes(modelType)) throw new Error(`${where}: model_type '${modelType}' is not supported (supported: ${SUPPORTED.join(', ')})`);
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
  const rs = raw.rope_scaling as { rope_type?: string; type?: string } | null | undefined;
  const ropeType = rs?.rope_type ?? rs?.type;
  if (rs && ropeType !== 'default') throw new Error(`${where}: rope_scaling '${String(ropeType)}' is not supported (only plain rotary positions with rope_theta)`);
  if (modelType === 'mistral' && raw.sliding_window != null && int('sliding_window') < int('max_position_embeddings')) {
    throw new Error(`${where}: sliding_window attention (${String(raw.sliding_window)}) is not supported`);
  }
  const hiddenSize = int('hidden_size');
  const numHeads = int('num_attention_heads');
  const numKvHeads = int('num_key_value_heads', numHeads);
  if (numHeads % numKvHeads !== 0) throw new Error(`${where}: num_attention_heads (${numHeads}) must be a multiple of num_key_value_heads (${numKvHeads})`);
  const headDim = raw.head_dim == null ? hiddenSize / numHeads : int('head_dim');
  if (!Number.isInteger(headDim) || headDim % 2 !== 0) throw new Error(`${where}: head dimension ${headDim} must be an even integer`);
  const hiddenAct = String(raw.hidden_act ?? 'silu');
  if (hiddenAct !== 'silu') throw new Error(`${where}: hidden_act '${hiddenAct}' is not supported (silu)`);
  const attentionBias = Boolean(raw.attention_bias ?? false);
  const firstId = (v: unknown) => (Array.isArray(v) ? (v[0] as number) : typeof v === 'number' ? v : undefined);
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
    ropeTheta: num('rope_theta', 10000),
    maxSeqLen: int('max_position_embeddings', 2048),
    tieEmbeddings: Boolean(raw.tie_word_embeddings ?? false),
    qkvBias: modelType === 'qwen2' ? true : attentionBias,
    oBias: modelType === 'qwen2' ? false : attentionBias,
    mlpBias: modelType === 'llama' ? Boolean(raw.mlp_bias ?? false) : false,
    bosTokenId: firstId(raw.bos_token_id),
    eosTokenId: firstId(raw.eos_token_id),
  };
}

/** The config.json object of a config (HF field names), merged over `base` (unknown keys kept). */
export function toHfConfig(c: LlamaConfig, base: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ...base,
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
    rope_theta: c.ropeTheta,
    max_position_embeddings: c.maxSeqLen,
    tie_word_embeddings: c.tieEmbeddings,
    ...(c.modelType === 'llama' ? { attention_bias: c.qkvBias, mlp_bias: c.mlpBias } : {}),
    ...(c.bosTokenId !== undefined ? { bos_token_id: c.bosTokenId } : {}),
    ...(c.eosTokenId !== undefined ? { eos_token_id: c.eosTokenId } : {}),
  };
}
