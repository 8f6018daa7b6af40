/**
 * Llama/Qwen2-style checkpoints from a local folder: a tiny random model that the test writes itself
 * (config.json, model.safetensors, tokenizer.json), checked against a plain-JS reference forward.
 * npx vitest run test/models/llama.test.ts
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveRng } from '../../common/rng.js';
import { generate } from '../../models/generate.js';
import { parseLlamaConfig, type LlamaConfig } from '../../models/llama/config.js';
import { hfConfig, TOK, writeCheckpoint } from '../support/tiny-llama.js';
import { loadHfCheckpoint, saveHfCheckpoint } from '../../models/llama/checkpoint.js';
import { readSafetensors, writeSafetensors, type SafeTensor } from '../../models/llama/safetensors.js';
import { sequenceLogProbs } from '../../models/logprobs.js';
import { AdamW } from '../../models/optimizer.js';
import { sftLoss, sftSteps } from '../../tasks/recipe.js';
import { useWasm } from './helpers.js';

beforeAll(useWasm);
const root = mkdtempSync(join(tmpdir(), 'creditflow-llama-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));


/** Plain-JS Llama forward (transformers' LlamaModel semantics): logits [T][V] of one sequence. */
function referenceLogits(cfg: LlamaConfig, w: Map<string, SafeTensor>, tokens: number[]): number[][] {
  const { hiddenSize: d, headDim: hd, numHeads: H, numKvHeads: K, intermediateSize: F, vocabSize: V, rmsNormEps: eps } = cfg;
  const W = (n: string) => w.get(n)?.data;
  const matvec = (m: Float32Array, x: number[], out: number, bias?: Float32Array) =>
    Array.from({ length: out }, (_, o) => {
      let s = bias ? bias[o] : 0;
      for (let i = 0; i < x.length; i++) s += m[o * x.length + i] * x[i];
      return s;
    });
  const rms = (x: number[], g: Float32Array) => {
    const r = 1 / Math.sqrt(x.reduce((a, v) => a + v * v, 0) / x.length + eps);
    return x.map((v, i) => v * r * g[i]);
  };
  const rope = (u: number[], t: number) => {
    const h = hd / 2;
    return u.map((_, i) => {
      const j = i % h;
      const ang = t / Math.pow(cfg.rope.theta, (2 * j) / hd);
      return i < h ? u[i] * Math.cos(ang) - u[i + h] * Math.sin(ang) : u[i] * Math.cos(ang) + u[i - h] * Math.sin(ang);
    });
  };
  const E = W('model.embed_tokens.weight')!;
  let x = tokens.map((t) => Array.from(E.subarray(t * d, (t + 1) * d)));
  for (let l = 0; l < cfg.numLayers; l++) {
    const p = `model.layers.${l}`;
    const a = x.map((r) => rms(r, W(`${p}.input_layernorm.weight`)!));
    const q = a.map((r) => matvec(W(`${p}.self_attn.q_proj.weight`)!, r, H * hd, W(`${p}.self_attn.q_proj.bias`)));
    const k = a.map((r) => matvec(W(`${p}.self_attn.k_proj.weight`)!, r, K * hd, W(`${p}.self_attn.k_proj.bias`)));
    const v = a.map((r) => matvec(W(`${p}.self_attn.v_proj.weight`)!, r, K * hd, W(`${p}.self_attn.v_proj.bias`)));
    const head = (m: number[][], t: number, h: number) => m[t].slice(h * hd, (h + 1) * hd);
    const y = x.map((_, t) => {
      const out: number[] = [];
      for (let h = 0; h < H; h++) {
        const kvh = Math.floor(h / (H / K)); // repeat_kv
        const qh = rope(head(q, t, h), t);
        const s = Array.from({ length: t + 1 }, (_, j) => rope(head(k, j, kvh), j).reduce((acc, kv, i) => acc + kv * qh[i], 0) / Math.sqrt(hd));
        const mx = Math.max(...s);
        const e = s.map((z) => Math.exp(z - mx));
        const z = e.reduce((a2, b) => a2 + b, 0);
        for (let i = 0; i < hd; i++) out.push(e.reduce((acc, p2, j) => acc + (p2 / z) * head(v, j, kvh)[i], 0));
      }
      return out;
    });
    x = x.map((r, t) => {
      const o = matvec(W(`${p}.self_attn.o_proj.weight`)!, y[t], d, W(`${p}.self_attn.o_proj.bias`));
      const h1 = r.map((val, i) => val + o[i]);
      const m = rms(h1, W(`${p}.post_attention_layernorm.weight`)!);
      const gate = matvec(W(`${p}.mlp.gate_proj.weight`)!, m, F);
      const up = matvec(W(`${p}.mlp.up_proj.weight`)!, m, F);
      const act = gate.map((g, i) => (g / (1 + Math.exp(-g))) * up[i]);
      const dn = matvec(W(`${p}.mlp.down_proj.weight`)!, act, d);
      return h1.map((val, i) => val + dn[i]);
    });
  }
  const headW = cfg.tieEmbeddings ? E : W('lm_head.weight')!;
  return x.map((r) => matvec(headW, rms(r, W('model.norm.weight')!), V));
}

function expectClose(a: number[][], b: number[][], tol: number): void {
  let worst = 0;
  a.forEach((row, i) => row.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - b[i][j])))));
  expect(worst).toBeLessThan(tol);
}

describe('safetensors', () => {
  it('round-trips F32, F16 and BF16 with an 8-byte-aligned little-endian header', () => {
    const data = Float32Array.from([0, 1, -2.5, 65504, 1e-7, 3.140625]);
    const buf = writeSafetensors([
      ['b', { dtype: 'F16', shape: [2, 3], data }],
      ['a', { dtype: 'F32', shape: [6], data }],
      ['c', { dtype: 'BF16', shape: [3, 2], data }],
    ]);
    const n = Number(new DataView(buf.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    expect(Object.keys(JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + n))))).toEqual(['a', 'b', 'c']);
    const { tensors } = readSafetensors(buf);
    expect([...tensors.get('a')!.data]).toEqual([...data]);
    expect(tensors.get('b')!.shape).toEqual([2, 3]);
    expect([...tensors.get('b')!.data].map((v) => Number(v.toPrecision(3)))).toEqual([0, 1, -2.5, 65500, 1.19e-7, 3.14]);
    expect([...tensors.get('c')!.data]).toEqual([0, 1, -2.5, 65536, 1.0011717677116394e-7, 3.140625]);
    // F16/BF16 -> F32 -> F16/BF16 is exact: the file comes back byte for byte.
    expect(Buffer.from(writeSafetensors(tensors)).equals(Buffer.from(buf))).toBe(true);
    expect(() => readSafetensors(buf.subarray(0, 20))).toThrow(/header length/);
  });
});

describe('Llama/Qwen2 checkpoints', () => {
  it('loads config, weights (HF names, GQA shapes) and tokenizer, and matches a reference forward', async () => {
    const dir = join(root, 'llama');
    const tensors = writeCheckpoint(dir, hfConfig());
    const ck = await loadHfCheckpoint(dir);
    const { model, config } = ck;
    expect(config.numKvHeads).toBeLessThan(config.numHeads);
    expect(model.params.get('model.layers.0.self_attn.q_proj.weight')!.shape).toEqual([32, 32]);
    expect(model.params.get('model.layers.1.self_attn.k_proj.weight')!.shape).toEqual([16, 32]);
    expect(model.params.get('lm_head.weight')!.shape).toEqual([TOK.size, 32]);
    expect(ck.dtypes.get('model.layers.0.mlp.up_proj.weight')).toBe('BF16');

    const tok = ck.tokenizer!;
    const ids = tok.encode('12 = 3 hello', { eos: true });
    expect(ids[0]).toBe(1);
    expect(ids.at(-1)).toBe(2);
    expect(tok.decode(ids.slice(1))).toBe('12 = 3 hello');

    const seqs = [ids, tok.encode('7+5=12')];
    const T = Math.max(...seqs.map((s) => s.length));
    const logits = model.forward(tf.tensor2d(seqs.map((s) => [...s, ...Array(T - s.length).fill(tok.pad)]), [2, T], 'int32'));
    expect(logits.shape).toEqual([2, T, TOK.size]);
    const got = logits.arraySync() as number[][][];
    seqs.forEach((s, b) => expectClose(got[b].slice(0, s.length), referenceLogits(config, tensors, s), 1e-4));
    logits.dispose();
    model.dispose();
  });

  it('is causal, and samples the same with the KV cache, packed prefill and full recomputation', async () => {
    const dir = join(root, 'causal');
    writeCheckpoint(dir, hfConfig(), 2);
    const { model } = await loadHfCheckpoint(dir);
    const a = model.forward(tf.tensor2d([[1, 10, 11, 12, 13]], [1, 5], 'int32')).arraySync()[0];
    const b = model.forward(tf.tensor2d([[1, 10, 11, 40, 41]], [1, 5], 'int32')).arraySync()[0];
    expectClose(a.slice(0, 3), b.slice(0, 3), 1e-6);
    expect(Math.abs(a[3][0] - b[3][0])).toBeGreaterThan(0);
    const prompts = [[1, 5, 6], [1, 7, 8, 9, 10]];
    const opts = { maxNewTokens: 6, temperature: 1, eosId: 2, padId: 0 };
    const cached = generate(model, prompts, { ...opts, rng: [deriveRng(1, 'a'), deriveRng(1, 'b')] });
    const full = generate(model, prompts, { ...opts, rng: [deriveRng(1, 'a'), deriveRng(1, 'b')], useCache: false });
    expect(cached.map((g) => g.tokens)).toEqual(full.map((g) => g.tokens));
    cached.forEach((g, i) => g.logprobs.forEach((lp, j) => expect(lp).toBeCloseTo(full[i].logprobs[j], 4)));
    const prepacked = generate(model, prompts, { ...opts, rng: [deriveRng(1, 'a'), deriveRng(1, 'b')], packedPrefill: true });
    expect(prepacked.map((g) => g.tokens)).toEqual(cached.map((g) => g.tokens));
    cached.forEach((g, i) => g.logprobs.forEach((lp, j) => expect(lp).toBeCloseTo(prepacked[i].logprobs[j], 4)));
    model.dispose();
  });

  it('saves back byte-identical tensors (BF16 and F32) and config', async () => {
    const src = join(root, 'src');
    writeCheckpoint(src, hfConfig(), 3);
    const ck = await loadHfCheckpoint(src);
    const out = join(root, 'saved');
    await saveHfCheckpoint(out, ck.model, { dtypes: ck.dtypes, rawConfig: ck.rawConfig, tokenizer: ck.tokenizer });
    const a = readSafetensors(readFileSync(join(src, 'model.safetensors'))).tensors;
    const b = readSafetensors(readFileSync(join(out, 'model.safetensors'))).tensors;
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    const bytes = (t: SafeTensor) => Buffer.from(writeSafetensors([['t', t]]));
    for (const [name, t] of a) {
      expect(b.get(name)!.dtype).toBe(t.dtype);
      expect(bytes(b.get(name)!).equals(bytes(t))).toBe(true);
    }
    expect(readFileSync(join(out, 'model.safetensors')).equals(readFileSync(join(src, 'model.safetensors')))).toBe(true);
    const again = await loadHfCheckpoint(out);
    expect(again.config).toEqual(ck.config);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).torch_dtype).toBe('bfloat16');
    expect(again.tokenizer!.encode('hello 12')).toEqual(ck.tokenizer!.encode('hello 12'));
    ck.model.dispose();
    again.model.dispose();
  });

  it('supports tied embeddings, Qwen2 q/k/v biases, and rope_theta', async () => {
    const dir = join(root, 'qwen');
    const raw = hfConfig({ model_type: 'qwen2', tie_word_embeddings: true, num_key_value_heads: 1, rope_theta: 10000 });
    const tensors = writeCheckpoint(dir, raw, 4);
    const { model, config } = await loadHfCheckpoint(dir);
    expect(model.params.has('lm_head.weight')).toBe(false);
    expect(model.params.get('model.layers.0.self_attn.k_proj.bias')!.shape).toEqual([8]);
    expect(model.params.has('model.layers.0.self_attn.o_proj.bias')).toBe(false);
    const seq = [1, 20, 21, 22, 23, 24, 25];
    const got = model.forward(tf.tensor2d([seq], [1, seq.length], 'int32')).arraySync()[0];
    expectClose(got, referenceLogits(config, tensors, seq), 1e-4);
    // A different rope_theta is a different model.
    const other = referenceLogits({ ...config, rope: { ...config.rope, theta: 100 } }, tensors, seq);
    expect(Math.abs(other[6][3] - got[6][3])).toBeGreaterThan(1e-4);
    model.dispose();
    expect(() => parseLlamaConfig({ ...raw, rope_scaling: { rope_type: 'llama3' } })).toThrow(/rope_scaling.factor is required/);
    expect(() => parseLlamaConfig({ ...raw, num_key_value_heads: 3 })).toThrow(/multiple/);
  });

  it('refuses sequences beyond a sliding attention window (plain causal attention within it)', async () => {
    const dir = join(root, 'mistral');
    writeCheckpoint(dir, hfConfig({ model_type: 'mistral', sliding_window: 8 }), 6);
    const { model, config } = await loadHfCheckpoint(dir);
    expect(config.slidingWindow).toBe(8);
    const ok = model.forward(tf.tensor2d([[1, 2, 3, 4, 5, 6, 7, 8]], [1, 8], 'int32'));
    ok.dispose();
    expect(() => model.forward(tf.tensor2d([[1, 2, 3, 4, 5, 6, 7, 8, 9]], [1, 9], 'int32'))).toThrow(/9 positions exceeds the sliding attention window \(8\)/);
    model.dispose();
  });

  it('trains through the recipe: packed log-probs match padded, and SFT lowers the loss', async () => {
    const dir = join(root, 'train');
    writeCheckpoint(dir, hfConfig(), 5);
    const { model, tokenizer } = await loadHfCheckpoint(dir);
    const tok = tokenizer!;
    const seqs = [tok.encode('1+2=3'), tok.encode('12+30=42 hello'), tok.encode('7=7')];
    const starts = [3, 5, 2];
    const a = sequenceLogProbs(model, seqs, starts, { padId: tok.pad });
    const b = sequenceLogProbs(model, seqs, starts, { padId: tok.pad, packed: true });
    expectClose(a.logp.arraySync(), b.logp.arraySync(), 1e-4);
    tf.dispose([a.logp, a.mask, a.entropies, b.logp, b.mask, b.entropies]);
    const demos = [
      { prompt: '1+2=', completion: '3' },
      { prompt: '2+2=', completion: '4' },
      { prompt: '12+1=', completion: '13' },
    ];
    const opt = new AdamW(model.params);
    const before = sftLoss(model, tok, demos);
    sftSteps(model, opt, demos, { steps: 8, batchSize: 3, lr: 1e-2, rng: deriveRng(1, 'sft'), tokenizer: tok });
    const after = sftLoss(model, tok, demos);
    expect(after.dataSync()[0]).toBeLessThan(before.dataSync()[0] * 0.8);
    tf.dispose([before, after]);
    opt.dispose();
    model.dispose();
  });
});
