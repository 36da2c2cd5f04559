import { createHash } from 'node:crypto';

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The 16 bytes of a UUID in its 8-4-4-4-12 text form. */
export function uuidBytes(uuid: string): Buffer {
  if (!UUID_PATTERN.test(uuid)) throw new TypeError(`not a UUID: ${uuid}`);
  return Buffer.from(uuid.replaceAll('-', ''), 'hex');
}

/** ASCII codes of the hex digits. */
const HEX_CODES = Buffer.from('0123456789abcdef', 'latin1');

/**
 * A name-based UUID, version 5 (RFC 9562 section 5.5): SHA-1 of the namespace's
 * 16 bytes followed by the UTF-8 name, first 16 bytes, version and variant set.
 */
export function uuidV5(name: string, namespace: Buffer): string {
  const h = createHash('sha1').update(namespace).update(name, 'utf8').digest();
  h.writeUInt8((h.readUInt8(6) & 0x0f) | 0x50, 6);
  h.writeUInt8((h.readUInt8(8) & 0x3f) | 0x80, 8);
  // Written into one buffer so the id is a single flat string: ids are kept
  // for every person, and a string built by concatenation stays a tree of
  // pieces several times its size.
  const out = Buffer.allocUnsafe(36);
  let o = 0;
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) out.writeUInt8(0x2d, o++);
    const b = h.readUInt8(i);
    out.writeUInt8(HEX_CODES.readUInt8(b >> 4), o++);
    out.writeUInt8(HEX_CODES.readUInt8(b & 0x0f), o++);
  }
  return out.toString('latin1');
}
