/**
 * The safetensors format (huggingface/safetensors): 8-byte little-endian header length N, N bytes
 * of JSON header `{ name: { dtype, shape, data_offsets: [begin, end] }, "__metadata__"?: {str: str} }`,
 * then the raw little-endian tensor bytes (offsets relative to the end of the header).
 *
 * Read: F32, F16 and BF16 (converted to Float32Array; the file's dtype is kept with each tensor so a
 * save can write it back). Write: F32, F16, BF16 from Float32Array (round to nearest even), tensors
 * in name order, header padded with spaces to a multiple of 8 bytes as the reference writer does.
 * BF16/F16 -> F32 -> BF16/F16 is exact, so load-then-save reproduces the original tensor bytes.
 */

export type SafeDtype = 'F32' | 'F16' | 'BF16';
const BYTES: Record<SafeDtype, number> = { F32: 4, F16: 2, BF16: 2 };

export interface SafeTensor {
  dtype: SafeDtype;
  shape: number[];
  /** Values as float32 (converted from the file's dtype). */
  data: Float32Array;
}

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('safetensors.ts assumes a little-endian host');

/** Parse a safetensors file's bytes. `where` names the file in errors. */
export function readSafetensors(buf: Uint8Array, where = 'safetensors'): { tensors: Map<string, SafeTensor>; metadata: Record<string, string> } {
  if (buf.length < 8) throw new Error(`${where}: too short for a safetensors header`);
  const n = Number(new DataView(buf.buffer, buf.byteOffset, 8).getBigUint64(0, true));
  if (n > buf.length - 8) throw new Error(`${where}: header length ${n} exceeds the file (${buf.length} bytes)`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + n))) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`${where}: bad JSON header (${(err as Error).message})`);
  }
  const data = buf.subarray(8 + n);
  const tensors = new Map<string, SafeTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = raw as Record<string, string>;
      continue;
    }
    const e = raw as { dtype: string; shape: number[]; data_offsets: [number, number] };
    if (!(e.dtype in BYTES)) throw new Error(`${where}: tensor '${name}' has dtype ${e.dtype}; supported: ${Object.keys(BYTES).join(', ')}`);
    const dtype = e.dtype as SafeDtype;
    const count = e.shape.reduce((a, b) => a * b, 1);
    const [begin, end] = e.data_offsets;
    if (!(begin >= 0 && end <= data.length && end - begin === count * BYTES[dtype])) {
      throw new Error(`${where}: tensor '${name}' offsets [${begin}, ${end}] do not fit shape [${e.shape}] ${dtype} in ${data.length} data bytes`);
    }
    // Copy out: offsets need not be aligned to the element size in the file buffer.
    const bytes = new Uint8Array(data.subarray(begin, end)); // a copy (Buffer.slice would be a view)
    tensors.set(name, { dtype, shape: [...e.shape], data: toFloat32(dtype, bytes.buffer, count) });
  }
  return { tensors, metadata };
}

/** Serialise tensors (in name order) with optional string metadata. */
export function writeSafetensors(tensors: Map<string, SafeTensor> | [string, SafeTensor][], metadata?: Record<string, string>): Uint8Array {
  const entries = [...tensors].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) header.__metadata__ = metadata;
  const blobs: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of entries) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) throw new Error(`writeSafetensors: tensor '${name}' has ${t.data.length} values for shape [${t.shape}]`);
    const bytes = fromFloat32(t.dtype, t.data);
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    blobs.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((Buffer.byteLength(json) + 8) % 8)) % 8);
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const b of blobs) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

function toFloat32(dtype: SafeDtype, buf: ArrayBuffer, count: number): Float32Array {
  if (dtype === 'F32') return new Float32Array(buf, 0, count);
  const half = new Uint16Array(buf, 0, count);
  const out = new Float32Array(count);
  if (dtype === 'BF16') {
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < count; i++) bits[i] = half[i] << 16;
  } else {
    for (let i = 0; i < count; i++) out[i] = f16ToF32(half[i]);
  }
  return out;
}

function fromFloat32(dtype: SafeDtype, data: Float32Array): Uint8Array {
  if (dtype === 'F32') return new Uint8Array(Float32Array.from(data).buffer);
  const out = new Uint16Array(data.length);
  if (dtype === 'BF16') {
    const bits = new Uint32Array(Float32Array.from(data).buffer);
    for (let i = 0; i < bits.length; i++) {
      const u = bits[i];
      // NaN stays a (quiet) NaN; otherwise round to nearest, ties to even.
      out[i] = (u & 0x7fffffff) > 0x7f800000 ? (u >>> 16) | 0x40 : (u + 0x7fff + ((u >>> 16) & 1)) >>> 16;
    }
  } else {
    for (let i = 0; i < data.length; i++) out[i] = f32ToF16(data[i]);
  }
  return new Uint8Array(out.buffer);
}

/** IEEE half bits -> its value (exact). */
export function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 -> IEEE half, round to nearest even (overflow to Inf, underflow through subnormals to 0). */
function f32ToF16(x: number): number {
  f32[0] = x;
  const u = u32[0];
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  let mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (half + (rem > mid || (rem === mid && half & 1) ? 1 : 0));
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half += 1; // a carry into the exponent is still correct
  return sign | half;
}
