import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhook, webhookHeaders } from './webhook-signature.js';

describe('webhook signatures', () => {
  const secret = 'whsec_test';
  const body = JSON.stringify({ audience: 'vip', version: 3, changes: [] });
  const now = Date.UTC(2026, 11, 3, 12);

  it('is HMAC-SHA256 of "timestamp.body" in hex, as a receiver computes it', () => {
    const ts = Math.floor(now / 1000);
    const want = createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex');
    expect(signWebhook(secret, ts, body)).toBe(`sha256=${want}`);
    expect(webhookHeaders(secret, body, now)).toEqual({
      'x-cdp-timestamp': String(ts),
      'x-cdp-signature': `sha256=${want}`,
    });
  });

  it('verifies what was signed, and refuses another body, another secret, a replay and a missing header', () => {
    const h = webhookHeaders(secret, body, now);
    expect(verifyWebhook(secret, h, body, { nowMs: now + 10_000 })).toEqual({ ok: true });
    expect(verifyWebhook(secret, h, `${body} `, { nowMs: now })).toEqual({
      ok: false,
      reason: 'mismatch',
    });
    expect(verifyWebhook('other', h, body, { nowMs: now })).toEqual({
      ok: false,
      reason: 'mismatch',
    });
    expect(verifyWebhook(secret, h, body, { nowMs: now + 301_000 })).toEqual({
      ok: false,
      reason: 'stale',
    });
    expect(
      verifyWebhook(secret, { 'x-cdp-timestamp': h['x-cdp-timestamp'] }, body, { nowMs: now }),
    ).toEqual({
      ok: false,
      reason: 'missing',
    });
  });
});
