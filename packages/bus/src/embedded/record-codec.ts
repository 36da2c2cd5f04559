/**
 * The on-disk record frame of the embedded journal.
 *
 * ```
 * u32  body length (bytes after this 8-byte prefix)
 * u32  CRC32 of the body
 * body:
 *   u8   format version (1)
 *   u64  offset
 *   u64  timestamp (ms since the epoch)
 *   i32  key length in bytes, -1 for a null key; then the UTF-8 key
 *   u16  header count; per header: u16 name length, name, u32 value length, value (UTF-8)
 *   u32  value length; then the value bytes
 * ```
 *
 * All integers are big-endian. A frame is only valid when its CRC matches,
 * so a record torn by a crash mid-write is detected, never misread.
 */
import { crc32 } from 'node:zlib';
import type { BusMessage, ProduceRecord } from '../bus.js';

/** Bytes before the checksummed body: body length and CRC32. */
export const FRAME_PREFIX_BYTES = 8;
const FORMAT_V1 = 1;
/** version + offset + timestamp + key length + header count + value length */
const FIXED_BODY_BYTES = 1 + 8 + 8 + 4 + 2 + 4;
/** Guards against reading a garbage length prefix as a huge allocation. */
const MAX_BODY_BYTES = 0x7fff_ffff;
const U32 = 0x1_0000_0000;

/** {@link frameSize} result: the bytes end before the frame does. */
export const FRAME_INCOMPLETE = -1;
/** {@link frameSize} result: the frame is malformed or its CRC does not match. */
export const FRAME_CORRUPT = -2;

/**
 * Size in bytes of the frame for `record`. Throws a `RangeError` for header
 * names or counts the format cannot hold.
 */
export function encodedSize(record: ProduceRecord): number {
  let n = FRAME_PREFIX_BYTES + FIXED_BODY_BYTES;
  if (record.key !== null) n += Buffer.byteLength(record.key);
  if (record.headers !== undefined) {
    let count = 0;
    for (const [name, value] of Object.entries(record.headers)) {
      const nameBytes = Buffer.byteLength(name);
      if (nameBytes > 0xffff)
        throw new RangeError(`header name over 65535 bytes: ${name.slice(0, 40)}...`);
      n += 2 + nameBytes + 4 + Buffer.byteLength(value);
      count++;
    }
    if (count > 0xffff) throw new RangeError('more than 65535 headers');
  }
  n += typeof record.value === 'string' ? Buffer.byteLength(record.value) : record.value.length;
  return n;
}

/**
 * Writes the frame for `record` at `pos` in `buf` and returns the bytes written.
 * `size` must be {@link encodedSize}(record).
 */
export function encodeInto(
  buf: Buffer,
  pos: number,
  size: number,
  offset: number,
  timestamp: number,
  record: ProduceRecord,
): number {
  let p = pos + FRAME_PREFIX_BYTES;
  buf[p++] = FORMAT_V1;
  p = writeU64(buf, p, offset);
  p = writeU64(buf, p, timestamp);
  if (record.key === null) {
    buf.writeInt32BE(-1, p);
    p += 4;
  } else {
    const n = buf.write(record.key, p + 4, 'utf8');
    buf.writeInt32BE(n, p);
    p += 4 + n;
  }
  const countAt = p;
  p += 2;
  let count = 0;
  if (record.headers !== undefined) {
    for (const [name, value] of Object.entries(record.headers)) {
      const nn = buf.write(name, p + 2, 'utf8');
      buf.writeUInt16BE(nn, p);
      p += 2 + nn;
      const vn = buf.write(value, p + 4, 'utf8');
      buf.writeUInt32BE(vn, p);
      p += 4 + vn;
      count++;
    }
  }
  buf.writeUInt16BE(count, countAt);
  if (typeof record.value === 'string') {
    const vn = buf.write(record.value, p + 4, 'utf8');
    buf.writeUInt32BE(vn, p);
    p += 4 + vn;
  } else {
    buf.writeUInt32BE(record.value.length, p);
    p += 4 + record.value.copy(buf, p + 4);
  }
  if (p - pos !== size)
    throw new Error(`record frame size mismatch: expected ${size}, wrote ${p - pos}`);
  buf.writeUInt32BE(size - FRAME_PREFIX_BYTES, pos);
  buf.writeUInt32BE(crc32(buf.subarray(pos + FRAME_PREFIX_BYTES, p)), pos + 4);
  return size;
}

/**
 * Checks the frame starting at `pos` (bytes up to `end` are available) and
 * returns its total size, {@link FRAME_INCOMPLETE} or {@link FRAME_CORRUPT}.
 * With `verifyCrc` false only the length prefix is looked at (for skipping).
 */
export function frameSize(buf: Buffer, pos: number, end: number, verifyCrc = true): number {
  if (end - pos < FRAME_PREFIX_BYTES) return FRAME_INCOMPLETE;
  const bodyLen = buf.readUInt32BE(pos);
  if (bodyLen < FIXED_BODY_BYTES || bodyLen > MAX_BODY_BYTES) return FRAME_CORRUPT;
  const size = FRAME_PREFIX_BYTES + bodyLen;
  if (end - pos < size) return FRAME_INCOMPLETE;
  if (!verifyCrc) return size;
  const body = buf.subarray(pos + FRAME_PREFIX_BYTES, pos + size);
  if (crc32(body) !== buf.readUInt32BE(pos + 4)) return FRAME_CORRUPT;
  if (body[0] !== FORMAT_V1 || !innerLengthsFit(body)) return FRAME_CORRUPT;
  return size;
}

/** The declared total frame size from a length prefix at `pos` (at least 8 bytes must be there). */
export function declaredFrameSize(buf: Buffer, pos: number): number {
  return FRAME_PREFIX_BYTES + buf.readUInt32BE(pos);
}

/** The offset of the (valid) frame at `pos`. */
export function frameOffset(buf: Buffer, pos: number): number {
  return readU64(buf, pos + FRAME_PREFIX_BYTES + 1);
}

/** The timestamp of the (valid) frame at `pos`. */
export function frameTimestamp(buf: Buffer, pos: number): number {
  return readU64(buf, pos + FRAME_PREFIX_BYTES + 9);
}

/**
 * Decodes the valid frame at `pos`. The value is copied out, so the message
 * does not keep the (large) read buffer alive.
 */
export function decodeFrame(
  buf: Buffer,
  pos: number,
  topic: string,
  partition: number,
): BusMessage {
  let p = pos + FRAME_PREFIX_BYTES + 1;
  const offset = readU64(buf, p);
  const timestamp = readU64(buf, p + 8);
  p += 16;
  const keyLen = buf.readInt32BE(p);
  p += 4;
  let key: string | null = null;
  if (keyLen >= 0) {
    key = buf.toString('utf8', p, p + keyLen);
    p += keyLen;
  }
  const headerCount = buf.readUInt16BE(p);
  p += 2;
  const headers: Record<string, string> = {};
  for (let i = 0; i < headerCount; i++) {
    const nn = buf.readUInt16BE(p);
    const name = buf.toString('utf8', p + 2, p + 2 + nn);
    p += 2 + nn;
    const vn = buf.readUInt32BE(p);
    headers[name] = buf.toString('utf8', p + 4, p + 4 + vn);
    p += 4 + vn;
  }
  const valueLen = buf.readUInt32BE(p);
  const value = Buffer.from(buf.subarray(p + 4, p + 4 + valueLen));
  return { topic, partition, offset: String(offset), key, value, timestamp, headers };
}

/** Walks the variable-length fields of a body and checks they end exactly at its end. */
function innerLengthsFit(body: Buffer): boolean {
  const end = body.length;
  let p = 17;
  if (p + 4 > end) return false;
  const keyLen = body.readInt32BE(p);
  p += 4 + Math.max(keyLen, 0);
  if (keyLen < -1 || p + 2 > end) return false;
  const headerCount = body.readUInt16BE(p);
  p += 2;
  for (let i = 0; i < headerCount; i++) {
    if (p + 2 > end) return false;
    p += 2 + body.readUInt16BE(p);
    if (p + 4 > end) return false;
    p += 4 + body.readUInt32BE(p);
  }
  if (p + 4 > end) return false;
  return p + 4 + body.readUInt32BE(p) === end;
}

function writeU64(buf: Buffer, pos: number, n: number): number {
  buf.writeUInt32BE(Math.floor(n / U32), pos);
  buf.writeUInt32BE(n >>> 0, pos + 4);
  return pos + 8;
}

function readU64(buf: Buffer, pos: number): number {
  return buf.readUInt32BE(pos) * U32 + buf.readUInt32BE(pos + 4);
}
