/**
 * One forward pass over (prompt + response) sequences, returning what the preference objectives
 * read at the response tokens: per-token log-probs, optionally the full-vocabulary logits (KL,
 * contrastive scores) and the per-layer hidden states (SparsePO's activation mask).
 *
 * Works on any {@link CausalLM}: the built-in transformer or a loaded checkpoint. Rows are
 * right-padded to the longest sequence and run through `hiddenStates` (positions 0..T-1, causal
 * mask; padding on the right is never seen by an earlier position). Response token j of row b is
 * predicted at position start_b + j − 1; those rows of the final hidden states are gathered into a
 * [B·Tr] layout (Tr = longest response) with `selectRows`, whose gradient works on every backend
 * (wasm has no `gather` gradient), and only they go through the output head. Without `logits`, the
 * head, log-softmax and target pick are the fused, chunked {@link headLogProbs}, so a checkpoint's
 * [rows, vocab] logits (49152 wide for SmolLM2) never exist whole. Padding slots are zero rows:
 * their logits are 0 (a uniform distribution), so every value there is finite, and `mask` is 0.
 * Hidden states are taken at the same predicting positions as the logits.
 */
import * as tf from '@tensorflow/tfjs';
import type { CausalLM } from '../models/causal-lm.js';
import { headLogProbs, outputHeadOf } from '../models/head-logprobs.js';
import { causalBias, selectRows } from '../models/ops.js';

export interface ResponseForward {
  /** [B, Tr] log π(y_t | prefix); differentiable in the model's weights. */
  logp: tf.Tensor2D;
  /** [B, Tr] 1 on response tokens. */
  mask: tf.Tensor2D;
  /** [B, Tr] int32 response token ids (0 on padding). */
  ids: tf.Tensor2D;
  /** [B, Tr, V] logits at the response tokens, when asked for. */
  logits?: tf.Tensor3D;
  /** One [B, Tr, d] tensor per layer, when asked for. */
  hidden?: tf.Tensor3D[];
}

/**
 * @param seqs  full sequences (prompt + response), one per row
 * @param start index of each row's first response token (≥ 1)
 */
export function responseForward(model: CausalLM, seqs: number[][], start: number[], opts: { logits?: boolean; hidden?: boolean; padId?: number } = {}): ResponseForward {
  const B = seqs.length;
  if (B === 0 || start.length !== B) throw new Error(`responseForward: ${B} sequences but ${start.length} response starts`);
  const respLen = seqs.map((s, b) => {
    if (!(start[b] >= 1 && start[b] <= s.length)) throw new Error(`responseForward: row ${b}: response start ${start[b]} outside [1, ${s.length}]`);
    return s.length - start[b];
  });
  const T = Math.max(...seqs.map((s) => s.length));
  const Tr = Math.max(1, ...respLen);
  const V = model.config.vocabSize;
  const tokens = new Int32Array(B * T).fill(opts.padId ?? 0);
  const positions = new Int32Array(B * T);
  const source = new Int32Array(B * Tr).fill(-1);
  const ids = new Int32Array(B * Tr);
  const mask = new Float32Array(B * Tr);
  for (let b = 0; b < B; b++) {
    seqs[b].forEach((id, t) => { tokens[b * T + t] = id; });
    for (let t = 0; t < T; t++) positions[b * T + t] = t;
    for (let j = 0; j < respLen[b]; j++) {
      source[b * Tr + j] = b * T + start[b] + j - 1;
      ids[b * Tr + j] = seqs[b][start[b] + j];
      mask[b * Tr + j] = 1;
    }
  }
  const head = opts.logits ? null : outputHeadOf(model);
  if (opts.hidden && !model.layerStates) throw new Error('responseForward: this model does not give per-layer hidden states');
  return tf.tidy(() => {
    const input = tf.tensor2d(tokens, [B, T], 'int32');
    const pos = tf.tensor2d(positions, [B, T], 'int32');
    const bias = causalBias(T, 0);
    const out = opts.hidden ? model.layerStates!(input, pos, bias) : { hidden: model.hiddenStates(input, pos, bias), layers: undefined };
    const pick = (x: tf.Tensor3D) => selectRows(tf.reshape(x, [B * T, x.shape[2]]), source);
    const h = pick(out.hidden);
    const idsT = tf.tensor2d(ids, [B, Tr], 'int32');
    const logits = head ? undefined : tf.reshape(model.logitsFromHidden(h), [B, Tr, V]) as tf.Tensor3D;
    const logp = head
      ? tf.reshape(tf.slice(headLogProbs(h, head, ids, 1), [0, 0], [B * Tr, 1]), [B, Tr]) as tf.Tensor2D
      : tf.sum(tf.mul(tf.logSoftmax(logits!), tf.oneHot(idsT, V)), -1) as tf.Tensor2D;
    const result: ResponseForward = { logp, mask: tf.tensor2d(mask, [B, Tr]), ids: idsT };
    if (opts.logits) result.logits = logits;
    if (out.layers) result.hidden = out.layers.map((x) => tf.reshape(pick(x), [B, Tr, x.shape[2]]) as tf.Tensor3D);
    return result as unknown as tf.TensorContainerObject;
  }) as unknown as ResponseForward;
}

/**
 * Pairs per no-gradient scoring pass: 128, fewer where one side's [pairs, tokens, vocab] logits would
 * pass 64 Mi floats (256 MB): a checkpoint's vocabulary is thousands of times the built-in model's.
 */
export function pairsPerPass(vocab: number, longestSequence: number): number {
  return Math.max(1, Math.min(128, Math.floor(2 ** 26 / (vocab * Math.max(1, longestSequence)))));
}

/** Rows [from, from + n) of a [2B, …] tensor (chosen rows first, then rejected). */
export function rowsOf<T extends tf.Tensor>(x: T, from: number, n: number): T {
  const begin = x.shape.map((_, i) => (i === 0 ? from : 0));
  const size = x.shape.map((s, i) => (i === 0 ? n : s));
  return tf.slice(x, begin, size) as T;
}

/** [B, Tr] float tensor from per-row arrays (shorter rows padded with `fill`). */
export function paddedRows(rows: readonly (readonly number[])[], width: number, fill = 0): tf.Tensor2D {
  const out = new Float32Array(rows.length * width).fill(fill);
  rows.forEach((r, b) => {
    if (r.length > width) throw new Error(`paddedRows: row ${b} has ${r.length} values, more than ${width}`);
    out.set(r, b * width);
  });
  return tf.tensor2d(out, [rows.length, width]);
}

/** Per-row arrays of the first `lengths[b]` values of a [B, Tr] tensor. */
export function unpadRows(x: tf.Tensor2D, lengths: readonly number[]): number[][] {
  const [, Tr] = x.shape;
  const data = x.dataSync();
  return lengths.map((n, b) => Array.from(data.subarray(b * Tr, b * Tr + n)));
}
