/**
 * Webhook signatures: `x-cdp-timestamp` (unix seconds) and
 * `x-cdp-signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`.
 * A receiver recomputes the HMAC over the exact bytes it received and refuses
 * a timestamp too far from its clock (a replayed request).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const TIMESTAMP_HEADER = 'x-cdp-timestamp';
export const SIGNATURE_HEADER = 'x-cdp-signature';

/** The signature header's value for `body` sent at `timestamp` (unix seconds). */
export function signWebhook(secret: string, timestamp: number, body: string | Buffer): string {
  const mac = createHmac('sha256', secret);
  mac.update(`${Math.trunc(timestamp)}.`);
  mac.update(body);
  return `sha256=${mac.digest('hex')}`;
}

/** The two headers to send with `body`. */
export function webhookHeaders(
  secret: string,
  body: string | Buffer,
  nowMs: number = Date.now(),
): Record<string, string> {
  const ts = Math.floor(nowMs / 1000);
  return { [TIMESTAMP_HEADER]: String(ts), [SIGNATURE_HEADER]: signWebhook(secret, ts, body) };
}

export type VerifyResult = { ok: true } | { ok: false; reason: 'missing' | 'stale' | 'mismatch' };

/**
 * Checks a received request: both headers present, the timestamp within
 * `toleranceSeconds` (default 300) of `nowMs`, the signature equal (in
 * constant time) to the one computed over `body`.
 */
export function verifyWebhook(
  secret: string,
  headers: Readonly<Record<string, string | string[] | undefined>>,
  body: string | Buffer,
  opts: { nowMs?: number; toleranceSeconds?: number } = {},
): VerifyResult {
  const one = (v: string | string[] | undefined): string | undefined =>
    Array.isArray(v) ? v[0] : v;
  const ts = one(headers[TIMESTAMP_HEADER]);
  const sig = one(headers[SIGNATURE_HEADER]);
  if (ts === undefined || sig === undefined || !/^\d+$/.test(ts))
    return { ok: false, reason: 'missing' };
  const now = Math.floor((opts.nowMs ?? Date.now()) / 1000);
  if (Math.abs(now - Number(ts)) > (opts.toleranceSeconds ?? 300))
    return { ok: false, reason: 'stale' };
  const want = Buffer.from(signWebhook(secret, Number(ts), body));
  const got = Buffer.from(sig);
  return want.length === got.length && timingSafeEqual(want, got)
    ? { ok: true }
    : { ok: false, reason: 'mismatch' };
}
