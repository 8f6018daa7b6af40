/**
 * The event-file writer's pieces against known values: CRC-32C's check value (RFC 3720 B.4) and
 * the TFRecord framing. That TensorBoard itself reads whole files back is tested against its own
 * reader in trackers.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { crc32c, maskedCrc32c, scalarsEvent, tfRecord } from '../../tracking/tfevents.js';

describe('tfevents', () => {
  it('computes CRC-32C (Castagnoli) check values', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa); // RFC 3720 B.4: 32 bytes of zeros
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43); // 32 bytes of 0xff
    const crc = crc32c(new TextEncoder().encode('123456789'));
    expect(maskedCrc32c(new TextEncoder().encode('123456789'))).toBe((((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0);
  });

  it('frames a record as length, masked CRC of the length, data, masked CRC of the data', () => {
    const data = scalarsEvent(1700000000.5, 3, [{ tag: 'reward/mean', value: 0.25 }]);
    const record = tfRecord(data);
    const view = new DataView(record.buffer);
    expect(Number(view.getBigUint64(0, true))).toBe(data.length);
    expect(view.getUint32(8, true)).toBe(maskedCrc32c(record.subarray(0, 8)));
    expect(record.subarray(12, 12 + data.length)).toEqual(data);
    expect(view.getUint32(12 + data.length, true)).toBe(maskedCrc32c(data));
    // Event: wall_time (field 1, double), step (field 2, varint 3), summary (field 5) with the tag's bytes.
    expect(data[0]).toBe(0x09);
    expect(new DataView(data.buffer).getFloat64(1, true)).toBe(1700000000.5);
    expect([data[9], data[10]]).toEqual([0x10, 3]);
    expect(data[11]).toBe(0x2a);
    expect(Buffer.from(data).includes(Buffer.from('reward/mean'))).toBe(true);
  });
});
