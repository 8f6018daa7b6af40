/**
 * Batched sampling from a {@link CausalLM} (the built-in Transformer or a loaded Llama-style model).
 *
 * Prompts of different lengths are left-padded to a common length; each row's position ids start
 * at 0 at its first real token and padded keys are masked out, so a prompt decodes exactly as it
 * would alone. With `useCache` (default) the prompt is run once (prefill) and each new token costs
 * one position through the KV cache; `useCache: false` recomputes the whole prefix every step (kept
 * as the reference the cache is tested against).
 *
 * Per sampled token we report the log-probability under the sampling distribution, i.e. the
 * softmax of logits / temperature (temperature 0 = greedy, reported under the untempered softmax),
 * and the entropy of that same distribution. All randomness comes from the given {@link Rng}.
 *
 * Top-k and top-p (nucleus) only restrict which tokens can be drawn: the token is drawn from the
 * renormalised kept set, but its reported log-prob and the entropy are those of the full tempered
 * distribution, because that is what the update recomputes (`sequenceLogProbs`) for the PPO ratio.
 * Reporting the truncated distribution's log-prob instead would make every first-epoch ratio
 * differ from 1 by the kept mass. Stop strings end a row once its decoded completion ends with one
 * of them (checked on the decoded tail, so a stop string spanning several tokens is found).
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../common/rng.js';
import { EOS, PAD } from './tokenizer.js';
import type { CausalLM, KVCache } from './causal-lm.js';
import { packSequences } from './packing.js';
import { disposeCache } from './transformer.js';

export interface GenerateOptions {
  /** Most tokens to generate per row (EOS included). Clamped so prompt + completion fits maxSeqLen + 1. */
  maxNewTokens: number;
  /** 0 = greedy; otherwise softmax(logits / temperature). */
  temperature: number;
  /**
   * Required when temperature > 0. One generator for the batch (draws in row order each step), or
   * one per row, which makes each row's sample independent of how rows are batched.
   */
  rng?: Rng | Rng[];
  /** The EOS id, or several: a row stops at any of them (a checkpoint's generation_config.json may list more than one). */
  eosId?: number | readonly number[];
  padId?: number;
  /** Incremental decoding with a KV cache (default true). */
  useCache?: boolean;
  /**
   * Prefill the prompts bin-packed into rows (models/packing.ts) instead of left-padded to the
   * longest, then unpack their keys/values into the padded cache (Prepacking, arXiv 2404.09529).
   * Same samples; cheaper when prompt lengths differ a lot. Needs `useCache` and a model with
   * `prefillPacked` (default false).
   */
  packedPrefill?: boolean;
  /** Draw only from the k most likely tokens (0 or absent = no limit). */
  topK?: number;
  /** Draw only from the smallest set of tokens whose probability reaches p (1 or absent = no limit). */
  topP?: number;
  /**
   * Stop strings: one list for every row, or one list per row. Needs `decode`, which turns a row's
   * generated tokens into text.
   */
  stop?: string[] | string[][];
  decode?: (tokens: number[]) => string;
}

export interface SamplingFilter {
  topK?: number;
  topP?: number;
}

export interface Generation {
  /** Generated tokens, ending with EOS when the row stopped on its own. */
  tokens: number[];
  /** log p(token) under the sampling distribution, one per token. */
  logprobs: number[];
  /** Entropy (nats) of the sampling distribution at each step. */
  entropies: number[];
  /** True when the row emitted EOS or hit a stop string (false: cut at maxNewTokens). */
  finished: boolean;
  /** The stop string that ended the row, when one did. */
  stoppedBy?: string;
}

/**
 * Tokens allowed by top-k / top-p, as a 0/1 mask over the vocabulary, given probabilities `p`.
 * Ties at the boundary are kept together, so the result does not depend on sort stability.
 */
export function allowedTokens(p: Float64Array, filter: SamplingFilter): Uint8Array | null {
  const k = filter.topK && filter.topK > 0 ? Math.min(filter.topK, p.length) : p.length;
  const topP = filter.topP ?? 1;
  if (!(topP > 0 && topP <= 1)) throw new Error(`generate: topP must be in (0, 1], got ${topP}`);
  if (k >= p.length && topP >= 1) return null;
  const order = Array.from(p.keys()).sort((a, b) => p[b] - p[a]);
  const keep = new Uint8Array(p.length);
  let mass = 0;
  let kept = 0;
  let threshold = Infinity;
  for (const i of order) {
    if ((kept >= k || mass >= topP) && p[i] < threshold) break;
    keep[i] = 1;
    kept++;
    mass += p[i];
    threshold = p[i];
  }
  return keep;
}

/**
 * sampleRow's probabilities, reused from call to call (every entry is written before it is read): a
 * new array per row and step was ~3% of what the compute host allocates in a demo run.
 */
let probs = new Float64Array(0);

/** Sample one token from a logits row; returns [token, logprob, entropy]. */
export function sampleRow(logits: Float32Array | number[], temperature: number, rng: Rng | undefined, filter: SamplingFilter = {}): [number, number, number] {
  const V = logits.length;
  const t = temperature > 0 ? temperature : 1;
  let max = -Infinity;
  for (let i = 0; i < V; i++) max = Math.max(max, logits[i] / t);
  if (probs.length !== V) probs = new Float64Array(V);
  const p = probs;
  let z = 0;
  for (let i = 0; i < V; i++) z += p[i] = Math.exp(logits[i] / t - max);
  const logZ = Math.log(z);
  let entropy = 0;
  for (let i = 0; i < V; i++) {
    p[i] /= z;
    if (p[i] > 0) entropy -= p[i] * (logits[i] / t - max - logZ);
  }
  let tok = 0;
  if (temperature > 0) {
    if (!rng) throw new Error('generate: temperature > 0 needs an rng');
    const keep = allowedTokens(p, filter);
    let kept = 1;
    if (keep) {
      kept = 0;
      for (let i = 0; i < V; i++) if (keep[i]) kept += p[i];
    }
    const u = rng.next() * kept;
    let c = 0;
    tok = -1;
    for (let i = 0; i < V; i++) {
      if (keep && !keep[i]) continue;
      c += p[i];
      tok = i; // the last allowed token absorbs rounding at the top of the range
      if (u < c) break;
    }
  } else {
    for (let i = 1; i < V; i++) if (logits[i] > logits[tok]) tok = i;
  }
  return [tok, logits[tok] / t - max - logZ, entropy];
}

export function generate(model: CausalLM, prompts: number[][], opts: GenerateOptions): Generation[] {
  const B = prompts.length;
  if (B === 0) return [];
  const eos = new Set(typeof opts.eosId === 'number' ? [opts.eosId] : (opts.eosId ?? [EOS]));
  const padId = opts.padId ?? PAD;
  const V = model.config.vocabSize;
  const Lp = Math.max(...prompts.map((p) => p.length));
  if (prompts.some((p) => p.length === 0)) throw new Error('generate: empty prompt (prompts start with BOS)');
  if (Lp > model.config.maxSeqLen) throw new Error(`generate: prompt length ${Lp} > maxSeqLen ${model.config.maxSeqLen}`);
  const maxNew = Math.min(opts.maxNewTokens, model.config.maxSeqLen - Lp + 1);
  const pad = prompts.map((p) => Lp - p.length);

  // Row buffers: left-padded prompt, then generated tokens.
  const buf: number[][] = prompts.map((p, b) => [...Array(pad[b]).fill(padId), ...p]);
  // What each row samples, at row b's offset b * maxNew; copied into exact-length arrays at the end.
  // A short array grown by push holds ~2x the memory of one made at its length (199 against 94 bytes
  // for 5 doubles), and a rollout's outputs are alive whenever the compute host scavenges between
  // steps: with push, each demo scavenge copied 2.4-2.5 MB and promoted 1.7-1.9 MB; now 1.1 MB and
  // 0.3-0.4 MB (`node --trace-gc-nvp`, the host thread over the RL phase).
  const sampled = { tokens: new Int32Array(B * maxNew), logprobs: new Float64Array(B * maxNew), entropies: new Float64Array(B * maxNew) };
  const lengths = new Int32Array(B);
  const finished = new Uint8Array(B);
  const stoppedBy: (string | undefined)[] = new Array(B);
  const rowOf = (data: Int32Array | Float64Array, b: number): number[] => {
    const row = new Array<number>(lengths[b]);
    for (let i = 0; i < row.length; i++) row[i] = data[b * maxNew + i];
    return row;
  };
  const useCache = opts.useCache ?? true;
  if (Array.isArray(opts.rng) && opts.rng.length !== B) throw new Error(`generate: ${opts.rng.length} rngs for ${B} prompts`);
  const rowRng = (b: number) => (Array.isArray(opts.rng) ? opts.rng[b] : opts.rng);
  const filter: SamplingFilter = { topK: opts.topK, topP: opts.topP };
  const stopLists = opts.stop === undefined ? null : prompts.map((_, b) => (Array.isArray(opts.stop![0]) ? (opts.stop as string[][])[b] : (opts.stop as string[])) ?? []);
  if (stopLists && !opts.decode) throw new Error('generate: stop strings need a decode function');
  if (stopLists && stopLists.length !== B) throw new Error(`generate: ${stopLists.length} stop lists for ${B} prompts`);
  const stopHit = (b: number): string | undefined => {
    const list = stopLists?.[b];
    if (!list || list.length === 0) return undefined;
    const text = opts.decode!(rowOf(sampled.tokens, b));
    return list.find((s) => s.length > 0 && text.endsWith(s));
  };

  let cache: KVCache | undefined;
  const run = (from: number): Float32Array => {
    // Feed buffer positions [from, len) and return the last position's logits, [B*V]. The inputs are
    // filled into typed arrays: built as nested number arrays (which tfjs then flattens), they were
    // ~20% of everything the compute host allocated in a demo run.
    const len = buf[0].length;
    const Tn = len - from;
    const tokData = new Int32Array(B * Tn);
    const posData = new Int32Array(B * Tn);
    const biasData = new Float32Array(B * len); // a row's left padding is masked out as a key
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < Tn; i++) {
        tokData[b * Tn + i] = buf[b][from + i];
        posData[b * Tn + i] = Math.max(0, from + i - pad[b]);
      }
      biasData.fill(-1e9, b * len, b * len + pad[b]);
    }
    // Three small uploads a step, and no kernel: a key bias or position table built once and sliced
    // per step would cost a Slice kernel (with its own begin/size uploads on libtensorflow) instead.
    const tok = tf.tensor2d(tokData, [B, Tn], 'int32');
    const pos = tf.tensor2d(posData, [B, Tn], 'int32');
    const kb = tf.tensor2d(biasData, [B, len], 'float32');
    const res = model.forwardCached(tok, pos, kb, useCache ? cache : undefined, { lastOnly: true });
    tf.dispose([tok, pos, kb]);
    if (useCache) {
      disposeCache(cache);
      cache = res.cache;
    } else disposeCache(res.cache);
    // The last position's logits: [B, 1, V] already with `lastOnly` (and for a decode step); sliced
    // out of a model that gives every position.
    const T = res.logits.shape[1];
    const last = T === 1 ? res.logits : tf.tidy(() => tf.slice(res.logits, [0, T - 1, 0], [B, 1, V]));
    const data = last.dataSync() as Float32Array;
    tf.dispose([last, res.logits]);
    return data;
  };

  const prefillPacked = (): Float32Array => {
    const packed = packSequences(prompts, { padId });
    const { layout } = packed;
    const T = layout.rowLen;
    const zeroRow = layout.rows * T;
    const last = Int32Array.from(prompts, (p, b) => layout.row[b] * T + layout.offset[b] + p.length - 1);
    // Cache slot (b, j) of the left-padded layout <- packed row position, or a zero row for padding.
    const slot = new Int32Array(B * Lp);
    for (let b = 0; b < B; b++) for (let j = 0; j < Lp; j++) slot[b * Lp + j] = j < pad[b] ? zeroRow : layout.row[b] * T + layout.offset[b] + j - pad[b];
    const out = model.prefillPacked!(packed.tokens, packed.positions, packed.attnBias);
    tf.dispose([packed.tokens, packed.positions, packed.attnBias]);
    const res = tf.tidy(() => {
      const d = out.hidden.shape[2];
      const logits = model.logitsFromHidden(tf.gather(tf.reshape(out.hidden, [zeroRow, d]), tf.tensor1d(last, 'int32')) as tf.Tensor2D);
      const slots = tf.tensor1d(slot, 'int32');
      const unpack = (t: tf.Tensor4D) => {
        const [, Hk, , hd] = t.shape;
        const flat = tf.reshape(tf.transpose(t, [0, 2, 1, 3]), [zeroRow, Hk * hd]);
        const rows = tf.gather(tf.concat([flat, tf.zeros([1, Hk * hd])], 0), slots);
        return tf.transpose(tf.reshape(rows, [B, Lp, Hk, hd]), [0, 2, 1, 3]) as tf.Tensor4D;
      };
      return { logits, k: out.cache.k.map(unpack), v: out.cache.v.map(unpack) };
    });
    out.hidden.dispose();
    disposeCache(out.cache);
    cache = { k: res.k, v: res.v };
    const data = res.logits.dataSync() as Float32Array;
    res.logits.dispose();
    return data;
  };

  try {
    let logits = opts.packedPrefill && useCache && model.prefillPacked ? prefillPacked() : run(0);
    let done = 0;
    for (let s = 0; s < maxNew; s++) {
      for (let b = 0; b < B; b++) {
        let next = padId;
        if (!finished[b]) {
          const [tok, lp, ent] = sampleRow(logits.subarray(b * V, (b + 1) * V), opts.temperature, rowRng(b), filter);
          const at = b * maxNew + lengths[b]++;
          sampled.tokens[at] = tok;
          sampled.logprobs[at] = lp;
          sampled.entropies[at] = ent;
          const stop = eos.has(tok) ? undefined : stopHit(b);
          if (eos.has(tok) || stop !== undefined) {
            finished[b] = 1;
            stoppedBy[b] = stop;
            done++;
          }
          next = tok;
        }
        buf[b].push(next);
      }
      if (done === B || s === maxNew - 1) break;
      logits = run(useCache ? buf[0].length - 1 : 0);
    }
  } finally {
    disposeCache(cache);
  }
  return prompts.map((_, b) => ({
    tokens: rowOf(sampled.tokens, b), logprobs: rowOf(sampled.logprobs, b), entropies: rowOf(sampled.entropies, b),
    finished: finished[b] === 1, ...(stoppedBy[b] === undefined ? {} : { stoppedBy: stoppedBy[b] }),
  }));
}
