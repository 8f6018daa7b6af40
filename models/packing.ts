/**
 * Padding-free batches: sequences of different lengths are bin-packed into rows (first-fit
 * decreasing), each sequence's positions restart at 0, and a block-diagonal causal mask keeps
 * every sequence attending only to its own earlier tokens. A batch whose lengths range 10x then
 * costs about its real token count instead of B · Tmax (Prepacking, arXiv 2404.09529, applies the
 * same layout to prefill; here it is used for training forward/backward passes).
 *
 * Rows are `rowLen` long (default: the longest sequence); the tail of a row that no sequence fills
 * is padding in a segment of its own (it attends only to itself and earlier padding; nothing reads
 * its outputs).
 */
import * as tf from '@tensorflow/tfjs';
import { NEG_INF } from './ops.js';

export interface PackLayout {
  rows: number;
  rowLen: number;
  /** Per sequence: its row and its first column in that row. */
  row: Int32Array;
  offset: Int32Array;
}

/** First-fit decreasing bin packing of `lengths` into rows of `rowLen` (ties by index: deterministic). */
export function packLengths(lengths: readonly number[], rowLen: number): PackLayout {
  const B = lengths.length;
  for (const [b, n] of lengths.entries()) {
    if (!Number.isInteger(n) || n < 1 || n > rowLen) throw new Error(`packLengths: sequence ${b} has length ${n}, outside [1, ${rowLen}]`);
  }
  const order = [...lengths.keys()].sort((a, b) => lengths[b] - lengths[a] || a - b);
  const used: number[] = [];
  const row = new Int32Array(B);
  const offset = new Int32Array(B);
  for (const b of order) {
    let r = used.findIndex((u) => u + lengths[b] <= rowLen);
    if (r < 0) {
      r = used.length;
      used.push(0);
    }
    row[b] = r;
    offset[b] = used[r];
    used[r] += lengths[b];
  }
  return { rows: used.length, rowLen, row, offset };
}

export interface PackedBatch {
  layout: PackLayout;
  /** [R,T] token ids (padId in unused tails). */
  tokens: tf.Tensor2D;
  /** [R,T] position of each token within its own sequence. */
  positions: tf.Tensor2D;
  /** [R,1,T,T] additive block-diagonal causal mask. */
  attnBias: tf.Tensor4D;
}

/** Pack token sequences into rows; the caller disposes the three tensors. */
export function packSequences(seqs: readonly (readonly number[])[], opts: { rowLen?: number; padId: number }): PackedBatch {
  const longest = Math.max(...seqs.map((s) => s.length));
  const layout = packLengths(
    seqs.map((s) => s.length),
    Math.max(opts.rowLen ?? 0, longest),
  );
  const { rows: R, rowLen: T } = layout;
  const tokens = new Int32Array(R * T).fill(opts.padId);
  const positions = new Int32Array(R * T);
  const segment = new Int32Array(R * T).fill(-1);
  seqs.forEach((s, b) => {
    const base = layout.row[b] * T + layout.offset[b];
    for (let t = 0; t < s.length; t++) {
      tokens[base + t] = s[t];
      positions[base + t] = t;
      segment[base + t] = b;
    }
  });
  const bias = new Float32Array(R * T * T).fill(NEG_INF);
  for (let r = 0; r < R; r++) {
    for (let i = 0; i < T; i++) {
      const si = segment[r * T + i];
      const q = (r * T + i) * T;
      // keys j <= i of the same segment (padding: segment -1, a segment of its own)
      for (let j = i; j >= 0 && segment[r * T + j] === si; j--) bias[q + j] = 0;
    }
  }
  return {
    layout,
    tokens: tf.tensor2d(tokens, [R, T], 'int32'),
    positions: tf.tensor2d(positions, [R, T], 'int32'),
    attnBias: tf.tensor4d(bias, [R, 1, T, T]),
  };
}
