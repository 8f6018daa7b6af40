/**
 * The GGUF container (llama.cpp's model file, version 2 and 3): a little-endian header
 *   "GGUF" magic, u32 version, u64 tensor count, u64 metadata count,
 *   metadata: (string key, u32 value type, value)*,
 *   tensor infos: (string name, u32 n_dims, u64 dims[n_dims], u32 ggml type, u64 offset)*,
 * then, aligned to `general.alignment` (default 32), the tensor data; each tensor at its offset from
 * the data start. Strings are a u64 length and UTF-8 bytes. dims are innermost first, so an HF
 * [out, in] matrix has dims [in, out].
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export type GgufValue = number | bigint | boolean | string | GgufValue[];

export interface GgufTensorInfo {
  name: string;
  /** Innermost first (ggml `ne`). */
  dims: number[];
  /** ggml type id (0 F32, 1 F16, 2 Q4_0, 3 Q4_1, 8 Q8_0, 30 BF16, ...). */
  type: number;
  /** Byte offset of the data from the file's data start. */
  offset: number;
}

export interface GgufFile {
  version: number;
  metadata: Map<string, GgufValue>;
  tensors: GgufTensorInfo[];
  /** Byte offset of the tensor data in the file. */
  dataStart: number;
}

class Reader {
  private at = 0;
  private readonly view: DataView;
  constructor(
    private readonly buf: Uint8Array,
    private readonly where: string,
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  get offset(): number {
    return this.at;
  }
  private need(n: number): void {
    if (this.at + n > this.buf.length) throw new Error(`${this.where}: truncated GGUF header at byte ${this.at}`);
  }
  u8(): number {
    this.need(1);
    return this.view.getUint8(this.at++);
  }
  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.at, true);
    this.at += 4;
    return v;
  }
  u64(): number {
    this.need(8);
    const v = this.view.getBigUint64(this.at, true);
    this.at += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`${this.where}: 64-bit value ${v} too large`);
    return Number(v);
  }
  string(): string {
    const n = this.u64();
    this.need(n);
    const s = new TextDecoder().decode(this.buf.subarray(this.at, this.at + n));
    this.at += n;
    return s;
  }
  value(type: number): GgufValue {
    const v = this.view;
    const take = <T>(n: number, read: (o: number) => T): T => {
      this.need(n);
      const r = read(this.at);
      this.at += n;
      return r;
    };
    switch (type) {
      case 0: return take(1, (o) => v.getUint8(o));
      case 1: return take(1, (o) => v.getInt8(o));
      case 2: return take(2, (o) => v.getUint16(o, true));
      case 3: return take(2, (o) => v.getInt16(o, true));
      case 4: return take(4, (o) => v.getUint32(o, true));
      case 5: return take(4, (o) => v.getInt32(o, true));
      case 6: return take(4, (o) => v.getFloat32(o, true));
      case 7: return take(1, (o) => v.getUint8(o) !== 0);
      case 8: return this.string();
      case 9: {
        const itemType = this.u32();
        const n = this.u64();
        const out: GgufValue[] = new Array(n);
        for (let i = 0; i < n; i++) out[i] = this.value(itemType);
        return out;
      }
      case 10: return take(8, (o) => v.getBigUint64(o, true));
      case 11: return take(8, (o) => v.getBigInt64(o, true));
      case 12: return take(8, (o) => v.getFloat64(o, true));
      default: throw new Error(`${this.where}: unknown GGUF value type ${type} at byte ${this.at}`);
    }
  }
}

/** Parse the header of a GGUF file's bytes (the tensor data is left in `buf`). */
export function readGgufHeader(buf: Uint8Array, where = 'gguf'): GgufFile {
  const r = new Reader(buf, where);
  const magic = String.fromCharCode(r.u8(), r.u8(), r.u8(), r.u8());
  if (magic !== 'GGUF') throw new Error(`${where}: not a GGUF file (magic ${JSON.stringify(magic)})`);
  const version = r.u32();
  if (version !== 2 && version !== 3) throw new Error(`${where}: GGUF version ${version} is not supported (2, 3)`);
  const nTensors = r.u64();
  const nKv = r.u64();
  const metadata = new Map<string, GgufValue>();
  for (let i = 0; i < nKv; i++) {
    const key = r.string();
    metadata.set(key, r.value(r.u32()));
  }
  const tensors: GgufTensorInfo[] = [];
  for (let i = 0; i < nTensors; i++) {
    const name = r.string();
    const nDims = r.u32();
    const dims = Array.from({ length: nDims }, () => r.u64());
    tensors.push({ name, dims, type: r.u32(), offset: r.u64() });
  }
  const alignment = Number(metadata.get('general.alignment') ?? 32);
  const dataStart = Math.ceil(r.offset / alignment) * alignment;
  return { version, metadata, tensors, dataStart };
}

/** Bytes read first for a header (metadata, the tokenizer's vocabulary, tensor infos); the whole file only if it is longer. */
const HEADER_PREFIX_BYTES = 64 * 2 ** 20;

/**
 * The header of the GGUF file at `path`, reading only its first 64 MiB unless the header is longer
 * (a checkpoint's size and tokenizer without reading gigabytes of weights).
 */
export function readGgufHeaderFile(path: string): GgufFile {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const prefix = Buffer.alloc(Math.min(size, HEADER_PREFIX_BYTES));
    readSync(fd, prefix, 0, prefix.length, 0);
    try {
      return readGgufHeader(prefix, path);
    } catch (err) {
      if (prefix.length === size || !/truncated GGUF header/.test((err as Error).message)) throw err;
    }
    const whole = Buffer.alloc(size);
    readSync(fd, whole, 0, size, 0);
    return readGgufHeader(whole, path);
  } finally {
    closeSync(fd);
  }
}
