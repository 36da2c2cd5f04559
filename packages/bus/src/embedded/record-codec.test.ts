import { describe, expect, it } from 'vitest';
import type { ProduceRecord } from '../bus.js';
import {
  FRAME_CORRUPT,
  FRAME_INCOMPLETE,
  decodeFrame,
  encodeInto,
  encodedSize,
  frameOffset,
  frameSize,
} from './record-codec.js';

function encode(record: ProduceRecord, offset = 7, timestamp = 1_700_000_000_123): Buffer {
  const size = encodedSize(record);
  const buf = Buffer.alloc(size);
  expect(encodeInto(buf, 0, size, offset, timestamp, record)).toBe(size);
  return buf;
}

describe('record codec', () => {
  it.each<[string, ProduceRecord]>([
    ['a string value with a key', { key: 'user-1', value: 'hello ✓' }],
    ['a null key', { key: null, value: 'x' }],
    ['an empty key and value', { key: '', value: Buffer.alloc(0) }],
    [
      'binary value and unicode headers',
      { key: 'k', value: Buffer.from([0, 255, 10, 13]), headers: { 'ü-name': 'välue', empty: '' } },
    ],
  ])('round-trips %s', (_name, record) => {
    const buf = encode(record, 2 ** 40 + 3, 1_700_000_000_123);
    expect(frameSize(buf, 0, buf.length)).toBe(buf.length);
    expect(frameOffset(buf, 0)).toBe(2 ** 40 + 3);
    const m = decodeFrame(buf, 0, 't', 2);
    expect(m).toEqual({
      topic: 't',
      partition: 2,
      offset: String(2 ** 40 + 3),
      key: record.key,
      value: Buffer.from(record.value),
      timestamp: 1_700_000_000_123,
      headers: record.headers ?? {},
    });
  });

  it('reports a frame cut short as incomplete, at every cut point', () => {
    const buf = encode({ key: 'k', value: 'some value', headers: { h: 'v' } });
    for (let end = 0; end < buf.length; end++)
      expect(frameSize(buf, 0, end)).toBe(FRAME_INCOMPLETE);
  });

  it('reports any flipped bit as corrupt', () => {
    const clean = encode({ key: 'k', value: 'some value', headers: { h: 'v' } });
    for (let i = 4; i < clean.length; i++) {
      const buf = Buffer.from(clean);
      buf[i]! ^= 0x10;
      expect(frameSize(buf, 0, buf.length), `byte ${i}`).toBe(FRAME_CORRUPT);
    }
  });

  it('refuses header names the format cannot hold', () => {
    expect(() =>
      encodedSize({ key: null, value: 'v', headers: { ['n'.repeat(70_000)]: 'v' } }),
    ).toThrow(RangeError);
  });
});
