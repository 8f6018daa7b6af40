/**
 * One forward pass over (prompt + response) sequences, returning what the preference objectives
 * read at the response tokens: per-token log-probs, optionally the full-vocabulary logits (KL,
 * contrastive scores) and the per-layer hidden states (SparsePO's activation mask).
 *
 * Layout: rows are right-padded to the longest sequence and run through `Transformer.forward`
 * (or `forwardWithHiddenStates`). Response token j of row b is predicted at position
 * start_b + j − 1; those rows are gathered into a [B, Tr] layout (Tr = longest response) with
 * `selectRows`, whose gradient works on every backend (wasm has no `gather` gradient). Padding slots
 * are zero rows: their logits are 0 (a uniform distribution), so every value there is finite, and
 * `mask` is 0. Hidden states are taken at the same predicting positions as the logits.
 */
import * as tf from '@tensorflow/tfjs';
import { selectRows } from '../models/ops.js';
import type { Transformer } from '../models/transformer.js';

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
 * @param seqs  full sequences (BOS + prompt + response), one per row
 * @param start index of each row's first response token (≥ 1)
 */
export function responseForward(model: Transformer, seqs: number[][], start: number[], opts: { logits?: boolean; hidden?: boolean; padId?: number } = {}): ResponseForward {
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
  const source = new Int32Array(B * Tr).fill(-1);
  const ids = new Int32Array(B * Tr);
  const mask = new Float32Array(B * Tr);
  for (let b = 0; b < B; b++) {
    seqs[b].forEach((id, t) => { tokens[b * T + t] = id; });
    for (let j = 0; j < respLen[b]; j++) {
      source[b * Tr + j] = b * T + start[b] + j - 1;
      ids[b * Tr + j] = seqs[b][start[b] + j];
      mask[b * Tr + j] = 1;
    }
  }
  return tf.tidy(() => {
    const input = tf.tensor2d(tokens, [B, T], 'int32');
    const out = opts.hidden ? model.forwardWithHiddenStates(input) : { logits: model.forward(input), hidden: undefined };
    const pick = (x: tf.Tensor3D) => {
      const d = x.shape[2];
      return tf.reshape(selectRows(tf.reshape(x, [B * T, d]), source), [B, Tr, d]) as tf.Tensor3D;
    };
    const logits = pick(out.logits);
    const idsT = tf.tensor2d(ids, [B, Tr], 'int32');
    const logp = tf.sum(tf.mul(tf.logSoftmax(logits), tf.oneHot(idsT, V)), -1) as tf.Tensor2D;
    const result: ResponseForward = { logp, mask: tf.tensor2d(mask, [B, Tr]), ids: idsT };
    if (opts.logits) result.logits = logits;
    if (out.hidden) result.hidden = out.hidden.map(pick);
    return result as unknown as tf.TensorContainerObject;
  }) as unknown as ResponseForward;
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
