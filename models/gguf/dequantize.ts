/**
 * GGUF tensor data to float32, value for value as gguf-py's `dequantize` computes it (the function
 * transformers' GGUF loader calls): per 32-value block, an f16 scale d (and f16 minimum m), values
 *   Q8_0: d · q             q: int8
 *   Q4_0: d · (q − 8)       q: 4-bit, low nibbles of the 16 bytes first, then the high nibbles
 *   Q4_1: d · q + m         q: 4-bit, same order
 * each product and sum rounded to float32 as numpy does. F32, F16 and BF16 are converted exactly.
 * Other types (the K-quants, IQ-quants) are an error naming the type.
 */
import { f16ToF32 as half } from '../llama/safetensors.js';

export const GGML_TYPES: Record<number, string> = { 0: 'F32', 1: 'F16', 2: 'Q4_0', 3: 'Q4_1', 6: 'Q5_0', 7: 'Q5_1', 8: 'Q8_0', 10: 'Q2_K', 11: 'Q3_K', 12: 'Q4_K', 13: 'Q5_K', 14: 'Q6_K', 30: 'BF16' };
const SUPPORTED = [0, 1, 2, 3, 8, 30];

const f = Math.fround;

/** Bytes a tensor of `count` values of ggml `type` takes. */
export function ggmlBytes(type: number, count: number, what: string): number {
  if (!SUPPORTED.includes(type)) throw new Error(`${what}: ggml type ${GGML_TYPES[type] ?? type} is not supported (supported: ${SUPPORTED.map((t) => GGML_TYPES[t]).join(', ')})`);
  if (type === 0) return count * 4;
  if (type === 1 || type === 30) return count * 2;
  if (count % 32 !== 0) throw new Error(`${what}: ${count} values is not a whole number of 32-value blocks`);
  return (count / 32) * (type === 2 ? 18 : type === 3 ? 20 : 34);
}

/** Float32 values of `count` values of ggml `type` stored in `bytes`. */
export function dequantize(bytes: Uint8Array, type: number, count: number, what: string): Float32Array {
  const need = ggmlBytes(type, count, what);
  if (bytes.length < need) throw new Error(`${what}: ${bytes.length} bytes, ${GGML_TYPES[type]} needs ${need}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, need);
  const out = new Float32Array(count);
  if (type === 0) {
    for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
    return out;
  }
  if (type === 1 || type === 30) {
    for (let i = 0; i < count; i++) {
      const h = view.getUint16(i * 2, true);
      out[i] = type === 1 ? half(h) : new Float32Array(new Uint32Array([h << 16]).buffer)[0];
    }
    return out;
  }
  const blockBytes = need / (count / 32);
  for (let b = 0, o = 0; o < count; b += blockBytes, o += 32) {
    const d = half(view.getUint16(b, true));
    if (type === 8) {
      for (let i = 0; i < 32; i++) out[o + i] = f(d * view.getInt8(b + 2 + i));
      continue;
    }
    const m = type === 3 ? half(view.getUint16(b + 2, true)) : 0;
    const qs = b + (type === 3 ? 4 : 2);
    for (let i = 0; i < 16; i++) {
      const byte = view.getUint8(qs + i);
      const lo = byte & 0x0f;
      const hi = byte >> 4;
      if (type === 3) {
        out[o + i] = f(f(d * lo) + m);
        out[o + 16 + i] = f(f(d * hi) + m);
      } else {
        out[o + i] = f(d * (lo - 8));
        out[o + 16 + i] = f(d * (hi - 8));
      }
    }
  }
  return out;
}
