/**
 * TensorBoard event files, written by hand: small enough that a dependency would be larger than
 * the code. The format is TensorFlow's:
 *
 * - the file is a sequence of TFRecords: `uint64 length` (little-endian), `uint32 masked_crc32c(length)`,
 *   `length` bytes of data, `uint32 masked_crc32c(data)`; masked = ((crc >>> 15) | (crc << 17)) + 0xa282ead8;
 * - each record is an `Event` protobuf (tensorflow/core/util/event.proto): wall_time = 1 (double),
 *   step = 2 (int64), file_version = 3 (string), summary = 5 (Summary);
 * - a `Summary` (tensorflow/core/framework/summary.proto) holds repeated `value` = 1, each a
 *   `Summary.Value` with tag = 1 (string) and simple_value = 2 (float).
 *
 * The first event of a file carries `file_version: "brain.Event:2"`. Scalars are written as
 * simple_value, which every TensorBoard version reads (and migrates to its scalars plugin).
 */

// --- CRC-32C (Castagnoli), reflected polynomial 0x82F63B78 ---------------------------------------
const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = CRC_TABLE[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

export function maskedCrc32c(data: Uint8Array): number {
  const crc = crc32c(data);
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

// --- protobuf wire format: only what Event and Summary need --------------------------------------
const WIRE_VARINT = 0;
const WIRE_64BIT = 1;
const WIRE_BYTES = 2;
const WIRE_32BIT = 5;

function varint(value: bigint): number[] {
  const out: number[] = [];
  let v = BigInt.asUintN(64, value);
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

const key = (field: number, wire: number) => varint(BigInt((field << 3) | wire));

function double(field: number, value: number): number[] {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, value, true);
  return [...key(field, WIRE_64BIT), ...b];
}

function float(field: number, value: number): number[] {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setFloat32(0, value, true);
  return [...key(field, WIRE_32BIT), ...b];
}

function bytes(field: number, data: Uint8Array | number[]): number[] {
  return [...key(field, WIRE_BYTES), ...varint(BigInt(data.length)), ...data];
}

const text = (field: number, s: string) => bytes(field, new TextEncoder().encode(s));
const int64 = (field: number, value: number) => [...key(field, WIRE_VARINT), ...varint(BigInt(value))];

// --- Event and Summary ----------------------------------------------------------------------------
export interface Scalar { tag: string; value: number }

/** An `Event` with `file_version` (the first record of every event file). */
export function fileVersionEvent(wallTimeSeconds: number): Uint8Array {
  return Uint8Array.from([...double(1, wallTimeSeconds), ...text(3, 'brain.Event:2')]);
}

/** An `Event` at `step` with one `Summary` holding the scalars. */
export function scalarsEvent(wallTimeSeconds: number, step: number, scalars: Scalar[]): Uint8Array {
  const values = scalars.flatMap((s) => bytes(1, [...text(1, s.tag), ...float(2, s.value)]));
  return Uint8Array.from([...double(1, wallTimeSeconds), ...int64(2, step), ...bytes(5, values)]);
}

/** One TFRecord: length, its masked CRC, the data, the data's masked CRC. */
export function tfRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + 4 + data.length + 4);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(data.length), true);
  view.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(data, 12);
  view.setUint32(12 + data.length, maskedCrc32c(data), true);
  return out;
}
