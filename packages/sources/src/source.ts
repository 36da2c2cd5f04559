import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** What to keep of a client's IP address. */
export type IpPolicy = 'keep' | 'strip_last_octet' | 'drop';
export const IP_POLICIES: readonly IpPolicy[] = ['keep', 'strip_last_octet', 'drop'];

/** A source: one website, app or server that sends events with its own write key. */
export interface Source {
  readonly id: string;
  readonly name: string;
  /** SHA-256 hex of the write key: the key itself is shown once, at creation or rotation. */
  readonly writeKeyHash: string;
  /** The first characters of the key, to tell keys apart in listings. */
  readonly writeKeyPrefix: string;
  /** Browser origins allowed to send (`https://shop.example`), `*` for any; empty: none (server-side only). */
  readonly allowedOrigins: readonly string[];
  /** Hosts the click redirect may send people to (`shop.example`, `*.shop.example`). */
  readonly redirectAllowlist: readonly string[];
  readonly ipPolicy: IpPolicy;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly version: number;
}

/** A new write key: `wk_` and 32 random URL-safe characters. */
export function newWriteKey(): string {
  return `wk_${randomBytes(24).toString('base64url')}`;
}

/** A new admin token: `cdp_admin_` and 43 random URL-safe characters. */
export function newAdminToken(): string {
  return `cdp_admin_${randomBytes(32).toString('base64url')}`;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Compares two secrets in constant time. */
export function secretsEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** Whether a browser origin may send to this source. */
export function originAllowed(source: Source, origin: string): boolean {
  return (
    source.allowedOrigins.includes('*') || source.allowedOrigins.includes(origin.toLowerCase())
  );
}

/**
 * Whether the click redirect may send people to `target`: http(s) only, and
 * the host equal to an allow-list entry or under a `*.` entry.
 */
export function redirectAllowed(source: Source, target: URL): boolean {
  if (target.protocol !== 'https:' && target.protocol !== 'http:') return false;
  if (target.username !== '' || target.password !== '') return false;
  const host = target.hostname.toLowerCase();
  return source.redirectAllowlist.some((entry) => {
    const e = entry.toLowerCase();
    if (e.startsWith('*.')) return host.endsWith(e.slice(1)) && host.length > e.length - 1;
    return host === e;
  });
}

/** Normalises an origin as browsers send it: scheme://host[:port], lower-case, no trailing slash. */
export function normalizeOrigin(origin: string): string | undefined {
  if (origin === '*') return '*';
  try {
    const u = new URL(origin);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
    return u.origin.toLowerCase();
  } catch {
    return undefined;
  }
}
