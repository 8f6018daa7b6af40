/**
 * A tiny random Llama-style checkpoint that a test writes itself: config.json, model.safetensors
 * (matrices in BF16, norms and biases in F32) and a byte-level BPE tokenizer.json over printable
 * ASCII. Shared by the loader tests (test/models/llama.test.ts) and the run tests that fine-tune it.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deriveRng } from '../../common/rng.js';
import { parseLlamaConfig, type LlamaConfig } from '../../models/llama/config.js';
import { llamaParamShapes } from '../../models/llama/model.js';
import { readSafetensors, writeSafetensors, type SafeDtype, type SafeTensor } from '../../models/llama/safetensors.js';

/** A byte-level BPE tokenizer.json over printable ASCII, with a few merges. */
export function tinyTokenizer(): { json: Record<string, unknown>; config: Record<string, unknown>; size: number } {
  const specials = ['<pad>', '<s>', '</s>'];
  const vocab: Record<string, number> = {};
  for (const s of specials) vocab[s] = Object.keys(vocab).length;
  for (let c = 33; c < 127; c++) vocab[String.fromCharCode(c)] = Object.keys(vocab).length;
  vocab['Ġ'] = Object.keys(vocab).length;
  const merges = [['1', '2'], ['Ġ', '='], ['h', 'e'], ['he', 'l']];
  for (const [a, b] of merges) vocab[a + b] = Object.keys(vocab).length;
  const special = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map((s, i) => special(i, s)),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    // BOS before every text, as Llama-2 style tokenizer.json files say (transformers' tokenizer(text) adds it).
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '<s>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, vocab, merges },
  };
  return { json, config: { bos_token: '<s>', eos_token: '</s>', pad_token: '<pad>' }, size: Object.keys(vocab).length };
}

export const TOK = tinyTokenizer();

export function hfConfig(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: TOK.size,
    hidden_size: 32,
    intermediate_size: 48,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    rms_norm_eps: 1e-6,
    rope_theta: 500000,
    max_position_embeddings: 48,
    tie_word_embeddings: false,
    bos_token_id: 1,
    eos_token_id: 2,
    torch_dtype: 'bfloat16',
    ...over,
  };
}

/** Random weights in HF names; matrices stored as BF16 (values pre-rounded), norms and biases F32. */
export function randomTensors(cfg: LlamaConfig, seed: number): Map<string, SafeTensor> {
  const rng = deriveRng(seed, 'llama-test');
  const out = new Map<string, SafeTensor>();
  for (const [name, shape] of llamaParamShapes(cfg)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    const isNorm = name.endsWith('norm.weight');
    for (let i = 0; i < n; i++) data[i] = isNorm ? 1 + 0.1 * rng.normal() : (name.endsWith('.bias') ? 0.05 : 0.08) * rng.normal();
    const dtype: SafeDtype = shape.length === 2 ? 'BF16' : 'F32';
    // Round to bf16 so the float32 values are exactly what the file holds.
    const stored = dtype === 'BF16' ? readSafetensors(writeSafetensors([['x', { dtype, shape, data }]])).tensors.get('x')!.data : data;
    out.set(name, { dtype, shape, data: stored });
  }
  return out;
}

export function writeCheckpoint(dir: string, raw: Record<string, unknown>, seed = 1): Map<string, SafeTensor> {
  rmSync(dir, { recursive: true, force: true });
  const cfg = parseLlamaConfig(raw);
  const tensors = randomTensors(cfg, seed);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(raw));
  writeFileSync(join(dir, 'model.safetensors'), writeSafetensors(tensors, { format: 'pt' }));
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(TOK.json));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(TOK.config));
  return tensors;
}
