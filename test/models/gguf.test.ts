/**
 * The GGUF reader on hand-built files: header, metadata and tensor infos; block dequantization as
 * gguf-py computes it (scale and minimum in f16, products rounded to float32); clear errors.
 * (The real file, SmolLM2's Q4_1 GGUF, is checked against transformers in reference-smollm2.test.ts.)
 * npx vitest run test/models/gguf.test.ts
 */
import { describe, expect, it } from 'vitest';
import { dequantize } from '../../models/gguf/dequantize.js';
import { readGgufHeader } from '../../models/gguf/gguf-file.js';
import { ggufTokenizer } from '../../models/gguf/gguf-tokenizer.js';

/** Little-endian byte builder for GGUF test files. */
class Bytes {
  parts: number[] = [];
  u8(...v: number[]) { this.parts.push(...v); return this; }
  u32(v: number) { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, v, true); return this.u8(...b); }
  u64(v: number) { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, BigInt(v), true); return this.u8(...b); }
  f16(bits: number) { return this.u8(bits & 0xff, bits >> 8); }
  str(s: string) { const b = new TextEncoder().encode(s); return this.u64(b.length).u8(...b); }
  get bytes() { return Uint8Array.from(this.parts); }
}

const HALF_2 = 0x4000; // 2.0
const HALF_QUARTER = 0x3400; // 0.25
const HALF_NEG_1 = 0xbc00; // -1.0

describe('dequantize', () => {
  it('Q8_0: d · q', () => {
    const b = new Bytes().f16(HALF_QUARTER).u8(...Array.from({ length: 32 }, (_, i) => (i - 16) & 0xff));
    expect([...dequantize(b.bytes, 8, 32, 't')]).toEqual(Array.from({ length: 32 }, (_, i) => 0.25 * (i - 16)));
  });

  it('Q4_0: d · (q − 8), low nibbles first; Q4_1: d · q + m', () => {
    const nibbles = Array.from({ length: 16 }, (_, i) => (i & 0xf) | ((15 - i) << 4));
    const q4_0 = new Bytes().f16(HALF_2).u8(...nibbles);
    const q = [...Array.from({ length: 16 }, (_, i) => i), ...Array.from({ length: 16 }, (_, i) => 15 - i)];
    expect([...dequantize(q4_0.bytes, 2, 32, 't')]).toEqual(q.map((v) => 2 * (v - 8)));
    const q4_1 = new Bytes().f16(HALF_QUARTER).f16(HALF_NEG_1).u8(...nibbles);
    expect([...dequantize(q4_1.bytes, 3, 32, 't')]).toEqual(q.map((v) => 0.25 * v - 1));
  });

  it('refuses types it does not implement, by name', () => {
    expect(() => dequantize(new Uint8Array(210), 14, 256, 'blk.0.ffn_up.weight')).toThrow('blk.0.ffn_up.weight: ggml type Q6_K is not supported');
  });
});

describe('readGgufHeader', () => {
  it('reads metadata of every kind, tensor infos and the aligned data start', () => {
    const b = new Bytes().u8(...new TextEncoder().encode('GGUF')).u32(3).u64(1).u64(4);
    b.str('general.architecture').u32(8).str('llama');
    b.str('llama.block_count').u32(4).u32(30);
    b.str('tokenizer.ggml.tokens').u32(9).u32(8).u64(2).str('a').str('b');
    b.str('flag').u32(7).u8(1);
    b.str('token_embd.weight').u32(2).u64(32).u64(3).u32(8).u64(0);
    const file = readGgufHeader(b.bytes, 'x.gguf');
    expect(Object.fromEntries(file.metadata)).toEqual({ 'general.architecture': 'llama', 'llama.block_count': 30, 'tokenizer.ggml.tokens': ['a', 'b'], flag: true });
    expect(file.tensors).toEqual([{ name: 'token_embd.weight', dims: [32, 3], type: 8, offset: 0 }]);
    expect(file.dataStart % 32).toBe(0);
    expect(file.dataStart).toBeGreaterThanOrEqual(b.parts.length);
  });

  it('says what is wrong with a file that is not one', () => {
    expect(() => readGgufHeader(new TextEncoder().encode('PK\x03\x04 not gguf'), 'model.gguf')).toThrow('model.gguf: not a GGUF file');
    expect(() => readGgufHeader(new Bytes().u8(...new TextEncoder().encode('GGUF')).u32(3).u64(1).bytes, 'model.gguf')).toThrow(/truncated GGUF header/);
  });
});

describe('ggufTokenizer', () => {
  it('refuses tokenizers it does not rebuild, naming the key', () => {
    expect(() => ggufTokenizer(new Map([['tokenizer.ggml.model', 'llama']]), 'm.gguf')).toThrow("m.gguf: tokenizer.ggml.model 'llama' is not supported");
    expect(() => ggufTokenizer(new Map([['tokenizer.ggml.model', 'gpt2'], ['tokenizer.ggml.pre', 'qwen2']]), 'm.gguf')).toThrow("tokenizer.ggml.pre 'qwen2' is not supported");
  });
});
