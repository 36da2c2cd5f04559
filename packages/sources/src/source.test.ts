import { describe, expect, it } from 'vitest';
import {
  hashSecret,
  newAdminToken,
  newWriteKey,
  normalizeOrigin,
  originAllowed,
  redirectAllowed,
  secretsEqual,
  type Source,
} from './source.js';

const source = (over: Partial<Source> = {}): Source => ({
  id: 's1',
  name: 'web',
  writeKeyHash: hashSecret('wk'),
  writeKeyPrefix: 'wk',
  allowedOrigins: ['https://shop.example'],
  redirectAllowlist: ['shop.example', '*.brand.example'],
  ipPolicy: 'keep',
  createdAt: 0,
  updatedAt: 0,
  version: 0,
  ...over,
});

describe('redirectAllowed', () => {
  it.each([
    ['https://shop.example/p/1?utm_source=x', true],
    ['http://shop.example/', true],
    ['https://www.brand.example/x', true],
    ['https://a.b.brand.example/x', true],
    ['https://brand.example/x', false],
    ['https://evilbrand.example/', false],
    ['https://shop.example.evil.com/', false],
    ['https://evil.com/?shop.example', false],
    ['https://user:pw@shop.example/', false],
    ['javascript:alert(1)', false],
    ['ftp://shop.example/', false],
    ['https://SHOP.EXAMPLE/', true],
  ])('%s -> %s', (url, ok) => expect(redirectAllowed(source(), new URL(url))).toBe(ok));
});

describe('origins', () => {
  it('allows listed origins and * only', () => {
    expect(originAllowed(source(), 'https://shop.example')).toBe(true);
    expect(originAllowed(source(), 'https://evil.example')).toBe(false);
    expect(originAllowed(source({ allowedOrigins: ['*'] }), 'https://any.example')).toBe(true);
    expect(originAllowed(source({ allowedOrigins: [] }), 'https://shop.example')).toBe(false);
  });
  it.each([
    ['https://Shop.Example/', 'https://shop.example'],
    ['http://localhost:3000', 'http://localhost:3000'],
    ['*', '*'],
    ['shop.example', undefined],
    ['ftp://x', undefined],
  ])('normalizeOrigin(%s) = %s', (o, n) => expect(normalizeOrigin(o)).toBe(n));
});

describe('secrets', () => {
  it('makes distinct keys with recognisable prefixes and compares them in constant time', () => {
    const a = newWriteKey();
    expect(a).toMatch(/^wk_[A-Za-z0-9_-]{32}$/);
    expect(newAdminToken()).toMatch(/^cdp_admin_/);
    expect(a).not.toBe(newWriteKey());
    expect(secretsEqual(a, a)).toBe(true);
    expect(secretsEqual(a, `${a}x`)).toBe(false);
  });
});
