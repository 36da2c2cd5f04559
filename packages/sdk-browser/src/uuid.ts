/** The part of Web Crypto that ids need; absent members fall back. */
export interface CryptoLike {
  randomUUID?: () => string;
  getRandomValues?: (array: Uint8Array) => Uint8Array;
}

/**
 * A random (version 4) UUID: `crypto.randomUUID` when there is one (secure
 * contexts only), else from `getRandomValues`, else from `random` (old
 * browsers; ids then only need to be unlikely to collide, not secret).
 */
export function uuidv4(crypto?: CryptoLike, random: () => number = Math.random): string {
  if (crypto?.randomUUID) return crypto.randomUUID();
  const b = new Uint8Array(16);
  if (crypto?.getRandomValues) crypto.getRandomValues(b);
  else for (let i = 0; i < 16; i++) b[i] = Math.floor(random() * 256);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  let hex = '';
  for (let i = 0; i < 16; i++) {
    hex += (b[i]! + 0x100).toString(16).slice(1);
    if (i === 3 || i === 5 || i === 7 || i === 9) hex += '-';
  }
  return hex;
}
