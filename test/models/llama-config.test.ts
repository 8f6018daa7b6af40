/**
 * config.json as transformers 5 reads it: per-type defaults, head_dim, GQA, biases, rope settings in
 * both spellings, sliding windows; unsupported values fail naming the field. (Log-prob parity of the
 * rope types against transformers is in reference-tiny.test.ts; this file covers the parsing rules.)
 * npx vitest run test/models/llama-config.test.ts
 */
import { describe, expect, it } from 'vitest';
import { parseLlamaConfig, toHfConfig } from '../../models/llama/config.js';
import { ropeFrequencies } from '../../models/llama/rope.js';

const llama = { model_type: 'llama', vocab_size: 100, hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: 4 };

describe('parseLlamaConfig', () => {
  it('applies each model type’s own defaults, as the transformers config classes do', () => {
    expect(parseLlamaConfig(llama)).toMatchObject({ numKvHeads: 4, maxSeqLen: 2048, headDim: 16, bosTokenId: 1, eosTokenIds: [2], rope: { type: 'default', theta: 10000 } });
    expect(parseLlamaConfig({ ...llama, model_type: 'qwen2', num_attention_heads: 32 })).toMatchObject({ numKvHeads: 32, maxSeqLen: 32768, bosTokenId: undefined, eosTokenIds: [], qkvBias: true, oBias: false });
    expect(() => parseLlamaConfig({ ...llama, model_type: 'qwen2' })).toThrow(/multiple of num_key_value_heads \(32\)/);
    expect(parseLlamaConfig({ ...llama, model_type: 'mistral', num_attention_heads: 8 })).toMatchObject({ numKvHeads: 8, slidingWindow: 4096, maxSeqLen: 131072 });
  });

  it('reads head_dim, GQA, biases, tied embeddings and EOS lists', () => {
    const c = parseLlamaConfig({ ...llama, head_dim: 24, num_key_value_heads: 1, attention_bias: true, mlp_bias: true, tie_word_embeddings: true, eos_token_id: [5, 7], bos_token_id: null });
    expect(c).toMatchObject({ headDim: 24, numKvHeads: 1, qkvBias: true, oBias: true, mlpBias: true, tieEmbeddings: true, eosTokenIds: [5, 7], bosTokenId: undefined });
    // Only Llama reads attention_bias / mlp_bias.
    expect(parseLlamaConfig({ ...llama, model_type: 'mistral', num_key_value_heads: 4, attention_bias: true, mlp_bias: true })).toMatchObject({ qkvBias: false, mlpBias: false });
  });

  it('reads rope_theta where transformers does: rope_parameters, then the top level, then 10000', () => {
    expect(parseLlamaConfig({ ...llama, rope_parameters: { rope_type: 'default', rope_theta: 100000 } }).rope.theta).toBe(100000);
    expect(parseLlamaConfig({ ...llama, rope_theta: 500000 }).rope.theta).toBe(500000);
    expect(parseLlamaConfig({ ...llama, rope_theta: 1, rope_parameters: { rope_type: 'default', rope_theta: 3 } }).rope.theta).toBe(3);
    // rope_scaling replaces rope_parameters; its own rope_theta is absent, so the top level counts.
    expect(parseLlamaConfig({ ...llama, rope_theta: 7, rope_parameters: { rope_theta: 3 }, rope_scaling: { type: 'linear', factor: 2 } }).rope).toEqual({ type: 'linear', theta: 7, factor: 2 });
    // llama3 / yarn take original_max_position_embeddings from the dict, else the top level, else max_position_embeddings.
    const l3 = { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4 };
    expect(parseLlamaConfig({ ...llama, max_position_embeddings: 512, rope_parameters: l3 }).rope.originalMaxPositions).toBe(512);
    expect(parseLlamaConfig({ ...llama, original_max_position_embeddings: 64, rope_parameters: { ...l3, original_max_position_embeddings: 32 } }).rope.originalMaxPositions).toBe(64);
  });

  it.each([
    [{ rope_scaling: { rope_type: 'longrope', factor: 2 } }, /rope_scaling\.rope_type 'longrope' is not supported/],
    [{ rope_parameters: { type: 'su' } }, /rope_parameters\.type 'su' is not supported/],
    [{ rope_parameters: { rope_type: 'llama3', factor: 8 } }, /rope_parameters\.low_freq_factor is required/],
    [{ rope_scaling: { type: 'linear' } }, /rope_scaling\.factor is required/],
    [{ rope_parameters: { rope_type: 'linear', factor: -1 } }, /rope_parameters\.factor must be a positive number/],
    [{ rope_theta: 'big' }, /rope_theta must be a positive number/],
    [{ partial_rotary_factor: 0.5 }, /partial_rotary_factor 0\.5 is not supported/],
    [{ rope_parameters: { full_attention: { rope_type: 'default' } } }, /rope_parameters\.full_attention: per-layer rope settings/],
    [{ hidden_act: 'gelu' }, /hidden_act 'gelu'/],
    [{ num_key_value_heads: 3 }, /num_attention_heads \(4\) must be a multiple of num_key_value_heads \(3\)/],
    [{ hidden_size: 66 }, /hidden_size \(66\) must be a multiple of num_attention_heads/],
    [{ head_dim: 15 }, /head_dim 15 must be even/],
    [{ eos_token_id: 'x' }, /eos_token_id must be a token id/],
    [{ tie_word_embeddings: 'yes' }, /tie_word_embeddings must be true or false/],
    [{ model_type: 'gpt2' }, /model_type 'gpt2' is not supported/],
  ])('refuses %j naming the field', (over, message) => {
    expect(() => parseLlamaConfig({ ...llama, ...over }, 'ck/config.json')).toThrow(message);
    expect(() => parseLlamaConfig({ ...llama, ...over }, 'ck/config.json')).toThrow(/^ck\/config\.json: /);
  });

  it('knows sliding windows: Mistral always, Qwen2 only with use_sliding_window on a sliding layer', () => {
    expect(parseLlamaConfig({ ...llama, model_type: 'mistral', num_key_value_heads: 4, sliding_window: null }).slidingWindow).toBeUndefined();
    const qwen = { ...llama, model_type: 'qwen2', num_key_value_heads: 4, sliding_window: 64 };
    expect(parseLlamaConfig(qwen).slidingWindow).toBeUndefined();
    expect(parseLlamaConfig({ ...qwen, use_sliding_window: true }).slidingWindow).toBeUndefined(); // layers 0-1 < max_window_layers 28
    expect(parseLlamaConfig({ ...qwen, use_sliding_window: true, max_window_layers: 1 }).slidingWindow).toBe(64);
    const { sliding_window: _, ...noWindow } = qwen; // Qwen2Config's default window: 4096
    expect(parseLlamaConfig({ ...noWindow, use_sliding_window: true, layer_types: ['full_attention', 'sliding_attention'] }).slidingWindow).toBe(4096);
  });
});

describe('toHfConfig', () => {
  it('writes the rope settings once, in the spelling the source used', () => {
    const v5 = { ...llama, rope_parameters: { rope_type: 'llama3', rope_theta: 500000, factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 32 } };
    const out5 = toHfConfig(parseLlamaConfig(v5), v5);
    expect(out5.rope_parameters).toEqual(v5.rope_parameters);
    expect('rope_theta' in out5 || 'rope_scaling' in out5).toBe(false);
    const v4 = { ...llama, rope_theta: 500000, rope_scaling: { type: 'linear', factor: 2 }, rope_parameters: null };
    const out4 = toHfConfig(parseLlamaConfig(v4), { ...v4, rope_parameters: undefined });
    expect(out4).toMatchObject({ rope_theta: 500000, rope_scaling: { rope_type: 'linear', factor: 2 } });
    expect('rope_parameters' in out4).toBe(false);
    // The config that issue 17 found exported with two thetas: one key now, the trained one.
    const smol = { ...llama, rope_parameters: { rope_theta: 100000, rope_type: 'default' } };
    const back = parseLlamaConfig(toHfConfig(parseLlamaConfig(smol), smol));
    expect(back.rope).toEqual({ type: 'default', theta: 100000 });
  });

  it('round-trips every parsed field', () => {
    const raw = { ...llama, head_dim: 24, num_key_value_heads: 2, attention_bias: true, eos_token_id: [3, 4], rope_theta: 1e6, max_position_embeddings: 99 };
    const c = parseLlamaConfig(raw);
    expect(parseLlamaConfig(toHfConfig(c, raw))).toEqual(c);
  });
});

describe('ropeFrequencies', () => {
  it('scales as each type says (float32)', () => {
    const base = ropeFrequencies({ type: 'default', theta: 10000 }, 8, 128).invFreq;
    expect([...base]).toEqual([1, 0.10000000149011612, 0.009999999776482582, 0.0010000000474974513]);
    expect([...ropeFrequencies({ type: 'linear', theta: 10000, factor: 4 }, 8, 128).invFreq]).toEqual([...base].map((v) => Math.fround(v / 4)));
    expect(ropeFrequencies({ type: 'dynamic', theta: 10000, factor: 4 }, 8, 128).invFreq).toEqual(base);
    const yarn = ropeFrequencies({ type: 'yarn', theta: 10000, factor: 4, originalMaxPositions: 32 }, 8, 128);
    expect(yarn.attentionScaling).toBeCloseTo(0.1 * Math.log(4) + 1, 12);
    expect(yarn.invFreq[0]).toBe(base[0]); // high frequencies extrapolate unchanged
  });
});
