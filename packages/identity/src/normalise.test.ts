import { describe, expect, it } from 'vitest';
import { sha256Hex } from './hash.js';
import { normaliseIdentifier } from './normalise.js';
import { createIdentityRules } from './rules.js';

const gb = createIdentityRules({ defaultRegion: 'GB' });
const LONDON = sha256Hex('+442079460958');

describe('normaliseIdentifier: email', () => {
  it.each([' Foo@Example.COM ', 'foo@example.com', 'FOO@EXAMPLE.COM', '\tfoo@Example.com\n'])(
    '%j is stored as SHA-256 of foo@example.com',
    (raw) => {
      expect(normaliseIdentifier('email', raw)).toEqual({
        ok: true,
        identifier: { type: 'email', value: sha256Hex('foo@example.com') },
      });
    },
  );

  it.each(['foo', 'foo@', '@example.com', 'foo bar@example.com', 'a@b@c'])(
    '%j is refused as email_invalid',
    (raw) => {
      expect(normaliseIdentifier('email', raw)).toEqual({
        ok: false,
        reason: 'email_invalid',
        junk: false,
      });
    },
  );

  it('never returns the raw address', () => {
    const res = normaliseIdentifier('email', 'Foo@Example.com');
    expect(JSON.stringify(res)).not.toMatch(/example/i);
  });
});

describe('normaliseIdentifier: phone', () => {
  it.each([
    '+44 20 7946 0958',
    '020 7946 0958',
    '0044 20 7946 0958',
    '(020) 7946-0958',
    '+44 (0)20 7946 0958',
    'tel:+44-20-7946-0958',
  ])('%j with default region GB is stored as SHA-256 of +442079460958', (raw) => {
    expect(normaliseIdentifier('phone', raw, gb)).toEqual({
      ok: true,
      identifier: { type: 'phone', value: LONDON },
    });
  });

  it('reads international numbers without a default region, refuses national ones', () => {
    expect(normaliseIdentifier('phone', '+44 20 7946 0958')).toMatchObject({
      ok: true,
      identifier: { value: LONDON },
    });
    expect(normaliseIdentifier('phone', '020 7946 0958')).toEqual({
      ok: false,
      reason: 'phone_unparseable',
      junk: false,
    });
  });

  it.each([
    ['abc', 'phone_unparseable'],
    ['12', 'phone_invalid'],
    ['+1 111 111 1111', 'phone_invalid'],
    ['+44 000 000 0000', 'junk_zeros'],
    ['+4420794609581234', 'phone_invalid'],
  ])('%j is refused (%s)', (raw, reason) => {
    expect(normaliseIdentifier('phone', raw, gb)).toMatchObject({ ok: false, reason });
  });

  it('accepts numbers outside the number plan when phoneValidation is "possible"', () => {
    const loose = createIdentityRules({ defaultRegion: 'GB', phoneValidation: 'possible' });
    expect(normaliseIdentifier('phone', '+1 111 111 1111', gb).ok).toBe(false);
    expect(normaliseIdentifier('phone', '+1 111 111 1111', loose)).toMatchObject({
      ok: true,
      identifier: { value: sha256Hex('+11111111111') },
    });
  });

  it('applies the block list to the E.164 form too', () => {
    const rules = createIdentityRules({ defaultRegion: 'GB', blockList: ['+442079460958'] });
    expect(normaliseIdentifier('phone', '020 7946 0958', rules)).toEqual({
      ok: false,
      reason: 'junk_block_list',
      junk: true,
    });
  });
});

describe('normaliseIdentifier: every type', () => {
  it('stores raw ids as given', () => {
    expect(normaliseIdentifier('user_id', ' U-1 ')).toEqual({
      ok: true,
      identifier: { type: 'user_id', value: ' U-1 ' },
    });
    expect(normaliseIdentifier('anonymous_id', 'a1')).toEqual({
      ok: true,
      identifier: { type: 'anonymous_id', value: 'a1' },
    });
  });

  it('turns numbers into strings and refuses other non-strings', () => {
    expect(normaliseIdentifier('user_id', 12345)).toEqual({
      ok: true,
      identifier: { type: 'user_id', value: '12345' },
    });
    expect(normaliseIdentifier('user_id', { id: 1 })).toEqual({
      ok: false,
      reason: 'invalid_type',
      junk: false,
    });
    expect(normaliseIdentifier('user_id', true)).toEqual({
      ok: false,
      reason: 'invalid_type',
      junk: false,
    });
    expect(normaliseIdentifier('user_id', 0)).toEqual({
      ok: false,
      reason: 'junk_placeholder',
      junk: true,
    });
  });

  it('refuses values over 1,024 characters, accepts 1,024', () => {
    expect(normaliseIdentifier('user_id', 'x'.repeat(1024)).ok).toBe(true);
    expect(normaliseIdentifier('user_id', 'x'.repeat(1025))).toEqual({
      ok: false,
      reason: 'value_too_long',
      junk: false,
    });
    expect(normaliseIdentifier('email', `${'x'.repeat(1020)}@example.com`)).toMatchObject({
      reason: 'value_too_long',
    });
    const short = createIdentityRules({ maxValueLength: 8 });
    expect(normaliseIdentifier('user_id', '123456789', short)).toMatchObject({
      reason: 'value_too_long',
    });
  });

  it('counts junk as junk, for every type', () => {
    expect(normaliseIdentifier('email', '"null"')).toEqual({
      ok: false,
      reason: 'junk_placeholder',
      junk: true,
    });
    expect(normaliseIdentifier('device_id', '00000000-0000-0000-0000-000000000000')).toEqual({
      ok: false,
      reason: 'junk_zeros',
      junk: true,
    });
  });

  it('reads external types in any case and refuses unknown types', () => {
    expect(normaliseIdentifier('External:Shop_Buyer_ID', 'B-1')).toEqual({
      ok: true,
      identifier: { type: 'external:shop_buyer_id', value: 'B-1' },
    });
    expect(normaliseIdentifier('cookie', 'x')).toEqual({
      ok: false,
      reason: 'identifier_type_unknown',
      junk: false,
    });
    expect(normaliseIdentifier('external:', 'x')).toMatchObject({
      reason: 'identifier_type_unknown',
    });
    expect(normaliseIdentifier('external:a:b', 'x')).toMatchObject({
      reason: 'identifier_type_unknown',
    });
  });
});
