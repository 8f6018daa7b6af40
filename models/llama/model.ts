/**
 * A Llama / Qwen2 / Mistral-style decoder on TensorFlow.js ops, with the Hugging Face parameter
 * names and layouts (`model.layers.N.self_attn.q_proj.weight` as [out, in], ...), so that a
 * checkpoint loads and saves without renaming or reshaping (models/llama/checkpoint.ts).
 *
 * Block (transformers' `LlamaDecoderLayer`):
 *   h = x + o_proj(attn(rope(q_proj(rms(x))), rope(k_proj(rms(x))), v_proj(rms(x))))
 *   y = h + down_proj(silu(gate_proj(rms(h))) * up_proj(rms(h)))
 *  - RMSNorm: x · rsqrt(mean(x²) + eps) · w;
 *  - rotary positions, "rotate-half" convention: q·cos + rotate_half(q)·sin with
 *    inv_freq_i = θ^(−2i/headDim), θ = `rope_theta`, rescaled as the config's rope type says
 *    (linear, llama3, yarn: models/llama/rope.ts), the angle table duplicated over both halves and
 *    cos/sin multiplied by the type's attention factor (yarn; 1 otherwise);
 *  - grouped-query attention: query head h reads key/value head ⌊h / (nHeads/nKV)⌋ (HF `repeat_kv`).
 *    Queries are regrouped to [B, nKV, g·T, hd] so keys and values are never repeated in memory,
 *    and the KV cache holds nKV heads;
 *  - output head tied to `model.embed_tokens.weight` or a separate `lm_head.weight`.
 * Implements {@link CausalLM}: generate, sequenceLogProbs (padded or packed) and the recipe's
 * training steps run on it unchanged.
 *
 * Not here: sliding-window attention (sequences longer than the window are refused), dropout.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../common/rng.js';
import { copyParams, countParams, disposeParams, type CausalLM, type KVCache } from '../causal-lm.js';
import { causalBias, denseT, embedLookup } from '../ops.js';
import type { LlamaConfig } from './config.js';
import { ropeFrequencies } from './rope.js';
import { recomputed } from '../recompute.js';

/** HF parameter names and shapes of a config, in checkpoint order (embeddings, layers, norm, head). */
export function llamaParamShapes(c: LlamaConfig): [string, number[]][] {
  const { hiddenSize: d, headDim: hd, numHeads: H, numKvHeads: K, intermediateSize: F, vocabSize: V } = c;
  const out: [string, number[]][] = [['model.embed_tokens.weight', [V, d]]];
  for (let l = 0; l < c.numLayers; l++) {
    const p = `model.layers.${l}`;
    out.push([`${p}.input_layernorm.weight`, [d]]);
    out.push([`${p}.self_attn.q_proj.weight`, [H * hd, d]]);
    if (c.qkvBias) out.push([`${p}.self_attn.q_proj.bias`, [H * hd]]);
    out.push([`${p}.self_attn.k_proj.weight`, [K * hd, d]]);
    if (c.qkvBias) out.push([`${p}.self_attn.k_proj.bias`, [K * hd]]);
    out.push([`${p}.self_attn.v_proj.weight`, [K * hd, d]]);
    if (c.qkvBias) out.push([`${p}.self_attn.v_proj.bias`, [K * hd]]);
    out.push([`${p}.self_attn.o_proj.weight`, [d, H * hd]]);
    if (c.oBias) out.push([`${p}.self_attn.o_proj.bias`, [d]]);
    out.push([`${p}.post_attention_layernorm.weight`, [d]]);
    out.push([`${p}.mlp.gate_proj.weight`, [F, d]]);
    out.push([`${p}.mlp.up_proj.weight`, [F, d]]);
    out.push([`${p}.mlp.down_proj.weight`, [d, F]]);
    if (c.mlpBias) for (const [n, s] of [['gate_proj', F], ['up_proj', F], ['down_proj', d]] as const) out.push([`${p}.mlp.${n}.bias`, [s]]);
  }
  out.push(['model.norm.weight', [d]]);
  if (!c.tieEmbeddings) out.push(['lm_head.weight', [V, d]]);
  return out;
}

/**
 * x [N, in] @ Wᵀ (W [out, in], HF layout) + b. Activations stay 2-D ([B·T, d]) between layers, so no
 * Reshape is needed around the matmul (on libtensorflow each is a kernel of its own, forward and backward).
 */
function linearT(x: tf.Tensor, w: tf.Tensor, b?: tf.Tensor): tf.Tensor2D {
  const y = denseT(x as tf.Tensor2D, w as tf.Tensor2D);
  return b ? tf.add(y, b) : y;
}

function rmsNorm(x: tf.Tensor, w: tf.Tensor, eps: number): tf.Tensor {
  return tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), eps))), w);
}

function rotateHalf(x: tf.Tensor): tf.Tensor {
  const [x1, x2] = tf.split(x, 2, -1);
  return tf.concat([tf.neg(x2), x1], -1);
}

export class LlamaModel implements CausalLM {
  readonly config: LlamaConfig;
  readonly params: Map<string, tf.Variable>;
  private readonly invFreq: Float32Array;
  /** Factor on cos and sin (yarn's attention factor; 1 for the other rope types). */
  private readonly ropeScale: number;

  /**
   * A model whose weights are `weights` (by HF name; each must match the config's shapes), or all
   * zero (`null`: the frame a saved weights version is loaded into, without reading the checkpoint).
   */
  constructor(config: LlamaConfig, weights: Map<string, Float32Array> | null) {
    this.config = config;
    this.params = new Map();
    for (const [name, shape] of llamaParamShapes(config)) {
      const data = weights === null ? null : weights.get(name);
      const n = shape.reduce((a, b) => a * b, 1);
      if (data === undefined) throw new Error(`LlamaModel: weight '${name}' missing`);
      if (data && data.length !== n) throw new Error(`LlamaModel: weight '${name}' has ${data.length} values, want shape [${shape}]`);
      // tf.fill runs on the backend; tf.zeros would first build the zeros in JavaScript.
      const t = data ? tf.tensor(data, shape, 'float32') : tf.fill(shape, 0, 'float32');
      this.params.set(name, tf.variable(t, true));
      t.dispose();
    }
    const { invFreq, attentionScaling } = ropeFrequencies(config.rope, config.headDim, config.maxSeqLen);
    this.invFreq = invFreq;
    this.ropeScale = attentionScaling;
  }

  /** Random weights (N(0, 0.02) matrices, unit norms, zero biases), deterministic in `rng`. */
  static random(config: LlamaConfig, rng: Rng): LlamaModel {
    const w = new Map<string, Float32Array>();
    for (const [name, shape] of llamaParamShapes(config)) {
      const n = shape.reduce((a, b) => a * b, 1);
      const data = new Float32Array(n);
      if (name.endsWith('norm.weight')) data.fill(1);
      else if (!name.endsWith('.bias')) for (let i = 0; i < n; i++) data[i] = rng.normal() * 0.02;
      w.set(name, data);
    }
    return new LlamaModel(config, w);
  }

  private p(name: string): tf.Variable {
    const v = this.params.get(name);
    if (!v) throw new Error(`LlamaModel: no parameter '${name}'`);
    return v;
  }

  private pOpt(name: string): tf.Variable | undefined {
    return this.params.get(name);
  }

  variables(): tf.Variable[] {
    return [...this.params.values()];
  }

  numParams(): number {
    return countParams(this.params);
  }

  forward(tokens: tf.Tensor2D): tf.Tensor3D {
    return tf.tidy(() => {
      const [B, T] = tokens.shape;
      if (T > this.config.maxSeqLen) throw new Error(`LlamaModel.forward: sequence length ${T} > maxSeqLen ${this.config.maxSeqLen}`);
      const positions = tf.tile(tf.range(0, T, 1, 'int32').reshape([1, T]), [B, 1]) as tf.Tensor2D;
      const { h } = this.blocks(tokens, positions, causalBias(T, 0), undefined, true);
      return tf.reshape(this.logitsFromHidden(this.finalNorm(h) as tf.Tensor2D), [B, T, this.config.vocabSize]) as tf.Tensor3D;
    });
  }

  forwardCached(tokens: tf.Tensor2D, positions: tf.Tensor2D, keyBias: tf.Tensor2D, cache?: KVCache, opts: { lastOnly?: boolean } = {}): { logits: tf.Tensor3D; cache: KVCache } {
    const out = tf.tidy(() => {
      const [B, Tn] = tokens.shape;
      const past = cache ? cache.k[0].shape[2] : 0;
      if (past + Tn > this.config.maxSeqLen) throw new Error(`LlamaModel.forwardCached: length ${past + Tn} > maxSeqLen ${this.config.maxSeqLen}`);
      // One new token sees the whole buffer: its causal part is all zeros (no upload, no Add), only the key padding remains.
      const padding = tf.reshape(keyBias, [keyBias.shape[0], 1, 1, keyBias.shape[1]]);
      const bias = Tn === 1 ? padding : tf.add(causalBias(Tn, past), padding);
      const { h, kv } = this.blocks(tokens, positions, bias, cache);
      // Only the rows the caller reads go through the output head (a prefill's last positions).
      const last = opts.lastOnly && Tn > 1;
      const rows = last ? tf.gather(h, tf.tensor1d(Int32Array.from({ length: B }, (_, b) => b * Tn + Tn - 1), 'int32')) : h;
      const logits = tf.reshape(this.logitsFromHidden(this.finalNorm(rows) as tf.Tensor2D), [B, last ? 1 : Tn, this.config.vocabSize]);
      return { logits: logits as tf.Tensor3D, k: kv.k, v: kv.v };
    });
    return { logits: out.logits, cache: { k: out.k, v: out.v } };
  }

  hiddenStates(tokens: tf.Tensor2D, positions: tf.Tensor2D, attnBias: tf.Tensor4D): tf.Tensor3D {
    const [R, T] = tokens.shape;
    return tf.tidy(() => tf.reshape(this.finalNorm(this.blocks(tokens, positions, attnBias, undefined, true).h), [R, T, this.config.hiddenSize]) as tf.Tensor3D);
  }

  layerStates(tokens: tf.Tensor2D, positions: tf.Tensor2D, attnBias: tf.Tensor4D): { hidden: tf.Tensor3D; layers: tf.Tensor3D[] } {
    return tf.tidy(() => {
      const layers: tf.Tensor[] = [];
      const [R, T] = tokens.shape;
      const { h } = this.blocks(tokens, positions, attnBias, undefined, true, layers);
      return { hidden: tf.reshape(this.finalNorm(h), [R, T, this.config.hiddenSize]) as tf.Tensor3D, layers: layers as tf.Tensor3D[] };
    });
  }

  prefillPacked(tokens: tf.Tensor2D, positions: tf.Tensor2D, attnBias: tf.Tensor4D): { hidden: tf.Tensor3D; cache: KVCache } {
    const out = tf.tidy(() => {
      const { h, kv } = this.blocks(tokens, positions, attnBias, undefined);
      const [R, T] = tokens.shape;
      return { hidden: tf.reshape(this.finalNorm(h), [R, T, this.config.hiddenSize]) as tf.Tensor3D, k: kv.k, v: kv.v };
    });
    return { hidden: out.hidden, cache: { k: out.k, v: out.v } };
  }

  logitsFromHidden(h: tf.Tensor2D): tf.Tensor2D {
    return linearT(h, this.config.tieEmbeddings ? this.p('model.embed_tokens.weight') : this.p('lm_head.weight')) as tf.Tensor2D;
  }

  private finalNorm(h: tf.Tensor): tf.Tensor {
    return rmsNorm(h, this.p('model.norm.weight'), this.config.rmsNormEps);
  }

  /** cos, sin [B,1,T,hd] of the rotary angles at `positions` [B,T]. */
  private rotary(positions: tf.Tensor2D): [tf.Tensor, tf.Tensor] {
    const [B, T] = positions.shape;
    const ang = tf.mul(tf.reshape(tf.cast(positions, 'float32'), [B, 1, T, 1]), tf.tensor(this.invFreq, [1, 1, 1, this.invFreq.length]));
    const full = tf.concat([ang, ang], -1);
    if (this.ropeScale === 1) return [tf.cos(full), tf.sin(full)];
    return [tf.mul(tf.cos(full), this.ropeScale), tf.mul(tf.sin(full), this.ropeScale)];
  }

  /**
   * tokens/positions [B,T]; bias broadcastable to [B,1,T,Tpast+T]. With `recompute` (the training
   * paths, no cache) each layer's activations are recomputed in the backward pass instead of kept
   * (models/recompute.ts), and no keys/values are returned. `layerOutputs`, when given, collects h
   * after each layer as [B,T,d].
   */
  private blocks(tokens: tf.Tensor2D, positions: tf.Tensor2D, bias: tf.Tensor, cache: KVCache | undefined, recompute = false, layerOutputs?: tf.Tensor[]): { h: tf.Tensor; kv: KVCache } {
    const c = this.config;
    const [B, T] = tokens.shape;
    if (c.slidingWindow !== undefined) {
      // Within the window, sliding attention is plain causal attention; beyond it this code would differ.
      const last = Math.max(...(positions.dataSync() as Int32Array)) + 1;
      if (last > c.slidingWindow) throw new Error(`LlamaModel: a sequence of ${last} positions exceeds the sliding attention window (${c.slidingWindow}), which is not implemented`);
    }
    const [cos, sin] = this.rotary(positions);
    const biasG = tf.reshape(bias, [bias.shape[0], 1, 1, bias.shape[2]!, bias.shape[3]!]); // broadcast over (kv head, group)
    const ids = tokens.dataSync() as Int32Array;
    // The residual stream, [B·T, d] (2-D throughout: see linearT).
    let h: tf.Tensor = embedLookup(Int32Array.from(ids), this.p('model.embed_tokens.weight') as tf.Tensor as tf.Tensor2D);
    const kv: KVCache = { k: [], v: [] };
    for (let l = 0; l < c.numLayers; l++) {
      if (recompute) {
        const weights = [...this.params].filter(([n]) => n.startsWith(`model.layers.${l}.`)).map(([, v]) => v);
        h = recomputed((x, [cs, sn, bg]) => this.layer(l, x, B, T, cs, sn, bg, undefined).h, h, weights, [cos, sin, biasG]);
        layerOutputs?.push(tf.reshape(h, [B, T, c.hiddenSize]));
        continue;
      }
      // One tidy per layer: without it a forward pass keeps every layer's temporaries until it
      // returns (a 8 x 128-token prefill of SmolLM2-135M: ~2.5 GB; issue 17).
      const out = tf.tidy(() => this.layer(l, h, B, T, cos, sin, biasG, cache?.k[l] && { k: cache.k[l], v: cache.v[l] }));
      h = out.h;
      layerOutputs?.push(tf.reshape(h, [B, T, c.hiddenSize]));
      kv.k.push(out.k);
      kv.v.push(out.v);
    }
    return { h, kv };
  }

  /** Decoder layer l on the residual stream h [B·T, d]; `past`: this layer's cached keys/values. */
  private layer(l: number, h: tf.Tensor, B: number, T: number, cos: tf.Tensor, sin: tf.Tensor, biasG: tf.Tensor, past: { k: tf.Tensor4D; v: tf.Tensor4D } | undefined): { h: tf.Tensor; k: tf.Tensor4D; v: tf.Tensor4D } {
    const { numHeads: H, numKvHeads: K, headDim: hd, rmsNormEps: eps } = this.config;
    const g = H / K;
    const scale = 1 / Math.sqrt(hd);
    const rope = (x: tf.Tensor) => tf.add(tf.mul(x, cos), tf.mul(rotateHalf(x), sin));
    // [B·T, n·hd] -> [B,n,T,hd]; with one position (a decode step) only a reshape, no data moves.
    const heads = (t: tf.Tensor, n: number) => (T === 1 ? tf.reshape(t, [B, n, 1, hd]) : tf.transpose(tf.reshape(t, [B, T, n, hd]), [0, 2, 1, 3]));
    const p = `model.layers.${l}`;
    const a = rmsNorm(h, this.p(`${p}.input_layernorm.weight`), eps);
    const q = rope(heads(linearT(a, this.p(`${p}.self_attn.q_proj.weight`), this.pOpt(`${p}.self_attn.q_proj.bias`)), H));
    const k0 = rope(heads(linearT(a, this.p(`${p}.self_attn.k_proj.weight`), this.pOpt(`${p}.self_attn.k_proj.bias`)), K));
    const v0 = heads(linearT(a, this.p(`${p}.self_attn.v_proj.weight`), this.pOpt(`${p}.self_attn.v_proj.bias`)), K);
    const k = (past ? tf.concat([past.k, k0], 2) : k0) as tf.Tensor4D;
    const v = (past ? tf.concat([past.v, v0], 2) : v0) as tf.Tensor4D;
    const Tk = k.shape[2];
    // Queries regrouped by their key/value head: [B,H,T,hd] -> [B,K,g·T,hd].
    const qg = tf.reshape(q, [B, K, g * T, hd]);
    const scores = tf.add(tf.reshape(tf.mul(tf.matMul(qg, k, false, true), scale), [B, K, g, T, Tk]), biasG);
    const att = tf.reshape(tf.softmax(scores), [B, K, g * T, Tk]);
    const yh = tf.reshape(tf.matMul(att, v), [B, H, T, hd]);
    const y = tf.reshape(T === 1 ? yh : tf.transpose(yh, [0, 2, 1, 3]), [B * T, H * hd]);
    const hAttn = tf.add(h, linearT(y, this.p(`${p}.self_attn.o_proj.weight`), this.pOpt(`${p}.self_attn.o_proj.bias`)));
    const m = rmsNorm(hAttn, this.p(`${p}.post_attention_layernorm.weight`), eps);
    const gate = linearT(m, this.p(`${p}.mlp.gate_proj.weight`), this.pOpt(`${p}.mlp.gate_proj.bias`));
    const up = linearT(m, this.p(`${p}.mlp.up_proj.weight`), this.pOpt(`${p}.mlp.up_proj.bias`));
    const hOut = tf.add(hAttn, linearT(tf.mul(tf.mul(gate, tf.sigmoid(gate)), up), this.p(`${p}.mlp.down_proj.weight`), this.pOpt(`${p}.mlp.down_proj.bias`)));
    return { h: hOut, k, v };
  }

  /** Copy every weight from `other` (same config), e.g. to freeze a reference policy. */
  copyFrom(other: LlamaModel): void {
    copyParams(this.params, other.params, 'LlamaModel');
  }

  dispose(): void {
    disposeParams(this.params);
  }
}
