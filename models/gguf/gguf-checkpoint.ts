/**
 * A llama-architecture GGUF file loaded as transformers 5 loads it with `from_pretrained(...,
 * gguf_file=...)` (modeling_gguf_pytorch_utils.py), into the same {@link HfCheckpoint} a folder gives:
 *  - config.json fields from the metadata (integrations/ggml.py's llama mapping: context_length ->
 *    max_position_embeddings, rope.freq_base -> rope_theta, ...), special token ids from the
 *    tokenizer keys, tied embeddings when the file has no `output.weight`;
 *  - every tensor dequantized to float32 (models/gguf/dequantize.ts), renamed to HF names, q and k
 *    projections un-permuted (llama.cpp's converter interleaves each head's two rotary halves;
 *    transformers' LlamaTensorProcessor undoes it);
 *  - the tokenizer rebuilt from the metadata (models/gguf/gguf-tokenizer.ts).
 * Export writes it as an ordinary HF folder (float32 unless asked otherwise).
 */
import { readFile } from 'node:fs/promises';
import { parseLlamaConfig, type LlamaConfig } from '../llama/config.js';
import type { HfCheckpoint } from '../llama/checkpoint.js';
import { HfTokenizer } from '../llama/hf-tokenizer.js';
import { llamaParamShapes, LlamaModel } from '../llama/model.js';
import type { SafeDtype } from '../llama/safetensors.js';
import { dequantize, ggmlBytes } from './dequantize.js';
import { readGgufHeader, readGgufHeaderFile, type GgufFile, type GgufValue } from './gguf-file.js';
import { ggufTokenizer } from './gguf-tokenizer.js';

/** llama.cpp tensor names -> HF names (per block `blk.N.` -> `model.layers.N.`). */
const BLOCK_NAMES: Record<string, string> = {
  attn_norm: 'input_layernorm', attn_q: 'self_attn.q_proj', attn_k: 'self_attn.k_proj', attn_v: 'self_attn.v_proj',
  attn_output: 'self_attn.o_proj', ffn_norm: 'post_attention_layernorm', ffn_gate: 'mlp.gate_proj', ffn_up: 'mlp.up_proj', ffn_down: 'mlp.down_proj',
};
const TOP_NAMES: Record<string, string> = { token_embd: 'model.embed_tokens', output_norm: 'model.norm', output: 'lm_head' };

function hfName(name: string): string | undefined {
  const block = /^blk\.(\d+)\.(\w+)\.(weight|bias)$/.exec(name);
  if (block) return BLOCK_NAMES[block[2]] && `model.layers.${block[1]}.${BLOCK_NAMES[block[2]]}.${block[3]}`;
  const top = /^(\w+)\.(weight|bias)$/.exec(name);
  return top && TOP_NAMES[top[1]] ? `${TOP_NAMES[top[1]]}.${top[2]}` : undefined;
}

/** The config.json transformers derives from a llama GGUF's metadata. */
function ggufConfig(meta: Map<string, GgufValue>, tensorNames: Set<string>, where: string): Record<string, unknown> {
  const arch = meta.get('general.architecture');
  if (arch !== 'llama') throw new Error(`${where}: general.architecture '${String(arch)}' is not supported (llama)`);
  for (const key of meta.keys()) {
    if (key.startsWith('llama.rope.scaling.')) throw new Error(`${where}: ${key} (rope scaling in a GGUF) is not supported; use the model's HF folder`);
  }
  if (tensorNames.has('rope_freqs.weight')) throw new Error(`${where}: tensor rope_freqs.weight (rope scaling in a GGUF) is not supported; use the model's HF folder`);
  const k = (key: string) => meta.get(`llama.${key}`);
  const tokens = meta.get('tokenizer.ggml.tokens');
  const config: Record<string, unknown> = {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    max_position_embeddings: k('context_length'),
    num_hidden_layers: k('block_count'),
    intermediate_size: k('feed_forward_length'),
    hidden_size: k('embedding_length'),
    head_dim: k('rope.dimension_count'),
    rope_theta: k('rope.freq_base'),
    num_attention_heads: k('attention.head_count'),
    num_key_value_heads: k('attention.head_count_kv'),
    rms_norm_eps: k('attention.layer_norm_rms_epsilon'),
    vocab_size: k('vocab_size') ?? (Array.isArray(tokens) ? tokens.length : undefined),
    tie_word_embeddings: !tensorNames.has('output.weight'),
  };
  for (const [name, key] of [['bos_token_id', 'bos_token_id'], ['eos_token_id', 'eos_token_id'], ['pad_token_id', 'padding_token_id'], ['unk_token_id', 'unknown_token_id']]) {
    const v = meta.get(`tokenizer.ggml.${key}`);
    if (v !== undefined) config[name] = v;
  }
  for (const [key, v] of Object.entries(config)) if (v === undefined) delete config[key];
  return config;
}

/** llama.cpp stores q/k rows of each head as interleaved rotary pairs; back to HF's two halves. */
function unpermute(data: Float32Array, rows: number, cols: number, heads: number): Float32Array {
  const dim = rows / heads / 2;
  const out = new Float32Array(data.length);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < dim; i++) {
      for (let p = 0; p < 2; p++) {
        const from = (h * 2 * dim + i * 2 + p) * cols;
        const to = (h * 2 * dim + p * dim + i) * cols;
        out.set(data.subarray(from, from + cols), to);
      }
    }
  }
  return out;
}

function tokenizerOf(file: GgufFile, config: LlamaConfig, path: string): HfTokenizer {
  const files = ggufTokenizer(file.metadata, path);
  return new HfTokenizer({ ...files, bosTokenId: config.bosTokenId, eosTokenIds: config.eosTokenIds, generationEos: config.eosTokenIds });
}

/** A .gguf file's header and the model config its metadata gives, without dequantizing any weight. */
function readGgufConfig(path: string): { file: GgufFile; config: LlamaConfig } {
  const file = readGgufHeaderFile(path);
  return { file, config: parseLlamaConfig(ggufConfig(file.metadata, new Set(file.tensors.map((t) => t.name)), path), `${path} (metadata)`) };
}

/** A .gguf file's tokenizer without its weights (data validation before any compute). */
export function loadGgufTokenizer(path: string): HfTokenizer {
  const { file, config } = readGgufConfig(path);
  return tokenizerOf(file, config, path);
}

/** A .gguf file's model config without its weights (a frame for saved weights to be loaded into). */
export function loadGgufConfig(path: string): LlamaConfig {
  return readGgufConfig(path).config;
}

export async function loadGgufCheckpoint(path: string): Promise<HfCheckpoint> {
  const buf = new Uint8Array(await readFile(path));
  const file = readGgufHeader(buf, path);
  const names = new Set(file.tensors.map((t) => t.name));
  const rawConfig = ggufConfig(file.metadata, names, path);
  const config = parseLlamaConfig(rawConfig, `${path} (metadata)`);
  const shapes = new Map(llamaParamShapes(config));
  const weights = new Map<string, Float32Array>();
  for (const t of file.tensors) {
    const name = hfName(t.name);
    if (!name || !shapes.has(name)) throw new Error(`${path}: tensor '${t.name}' is not a parameter of a llama model with this metadata`);
    const shape = [...t.dims].reverse();
    if (shape.join() !== shapes.get(name)!.join()) throw new Error(`${path}: tensor '${t.name}' has shape [${shape}], the metadata implies [${shapes.get(name)}]`);
    const count = shape.reduce((a, b) => a * b, 1);
    const start = file.dataStart + t.offset;
    let data = dequantize(buf.subarray(start, start + ggmlBytes(t.type, count, `${path}: ${t.name}`)), t.type, count, `${path}: ${t.name}`);
    const rows = shape[0];
    const cols = count / rows;
    if (name.includes('.q_proj.')) data = unpermute(data, rows, cols, config.numHeads);
    if (name.includes('.k_proj.')) data = unpermute(data, rows, cols, config.numKvHeads);
    weights.set(name, data);
  }
  for (const name of shapes.keys()) if (!weights.has(name)) throw new Error(`${path}: tensor for '${name}' missing`);
  const model = new LlamaModel(config, weights);
  let tokenizer: HfTokenizer;
  try {
    tokenizer = tokenizerOf(file, config, path);
  } catch (err) {
    model.dispose();
    throw err;
  }
  const dtypes = new Map<string, SafeDtype>([...shapes.keys()].map((n) => [n, 'F32']));
  // GenerationConfig.from_model_config: what transformers saves beside the folder it makes.
  const generationConfig = Object.fromEntries(['bos_token_id', 'eos_token_id', 'pad_token_id'].filter((key) => key in rawConfig).map((key) => [key, rawConfig[key]]));
  return { model, config, rawConfig, dtypes, tokenizer, generationConfig };
}
