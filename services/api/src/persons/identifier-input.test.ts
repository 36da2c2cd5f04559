import { describe, expect, it } from 'vitest';
import { CdpError } from '@cdp/core';
import { createIdentityRules, DEFAULT_IDENTITY_RULES, sha256Hex } from '@cdp/identity';
import {
  DEFAULT_PERSON_EVENTS,
  MAX_SPLIT_IDENTIFIERS,
  parseEventsLimit,
  parseIdentifier,
  parseSplitBody,
} from './identifier-input.js';

const rules = DEFAULT_IDENTITY_RULES;

function errorOf(fn: () => unknown): CdpError {
  try {
    fn();
  } catch (e) {
    if (e instanceof CdpError) return e;
    throw e;
  }
  throw new Error('expected a CdpError');
}

describe('parseIdentifier (lookup ?type=&value=)', () => {
  it.each([
    ['email', ' Ada@Example.COM ', 'email', sha256Hex('ada@example.com')],
    ['email', 'ada@example.com', 'email', sha256Hex('ada@example.com')],
    ['phone', '+44 20 7946 0958', 'phone', sha256Hex('+442079460958')],
    ['phone', '+442079460958', 'phone', sha256Hex('+442079460958')],
    ['user_id', ' U-42 ', 'user_id', ' U-42 '],
    ['anonymous_id', 'a-1', 'anonymous_id', 'a-1'],
    ['device_id', 'dev-1', 'device_id', 'dev-1'],
    ['External:Shopee_Buyer_ID', 'B1', 'external:shopee_buyer_id', 'B1'],
  ])('%s %j is stored as %s %s', (type, value, storedType, storedValue) => {
    expect(parseIdentifier(type, value, rules)).toEqual({ type: storedType, value: storedValue });
  });

  it('uses the rules: a national phone number needs the default region', () => {
    expect(errorOf(() => parseIdentifier('phone', '020 7946 0958', rules)).message).toContain(
      'phone_unparseable',
    );
    const gb = createIdentityRules({ defaultRegion: 'GB' });
    for (const national of ['020 7946 0958', '0044 20 7946 0958'])
      expect(parseIdentifier('phone', national, gb)).toEqual({
        type: 'phone',
        value: sha256Hex('+442079460958'),
      });
  });

  it.each([
    { type: undefined, value: 'x', field: 'type', reason: 'type is required' },
    { type: '', value: 'x', field: 'type', reason: 'type is required' },
    { type: 'cookie', value: 'x', field: 'type', reason: 'identifier_type_unknown' },
    { type: 'external:', value: 'x', field: 'type', reason: 'identifier_type_unknown' },
    { type: 'user_id', value: undefined, field: 'value', reason: 'value is required' },
    { type: 'user_id', value: 'null', field: 'value', reason: 'junk_placeholder' },
    { type: 'user_id', value: 'undefined', field: 'value', reason: 'junk_placeholder' },
    { type: 'user_id', value: '0', field: 'value', reason: 'junk_placeholder' },
    {
      type: 'anonymous_id',
      value: '00000000-0000-0000-0000-000000000000',
      field: 'value',
      reason: 'junk_zeros',
    },
    { type: 'user_id', value: '   ', field: 'value', reason: 'junk_empty' },
    { type: 'email', value: 'not-an-email', field: 'value', reason: 'email_invalid' },
    { type: 'phone', value: 'call me', field: 'value', reason: 'phone_unparseable' },
    { type: 'user_id', value: 'x'.repeat(1025), field: 'value', reason: 'value_too_long' },
    { type: 'user_id', value: { id: 1 }, field: 'value', reason: 'invalid_type' },
  ])('refuses $type $value: field $field, $reason', ({ type, value, field, reason }) => {
    const e = errorOf(() => parseIdentifier(type, value, rules));
    expect(e.code).toBe('CDP_ERR_IDENTITY_INVALID_IDENTIFIER');
    expect(e.statusCode).toBe(400);
    expect(e.field).toBe(field);
    expect(e.message).toContain(reason);
  });
});

describe('parseSplitBody', () => {
  it('normalises every identifier and drops duplicates after normalisation', () => {
    expect(
      parseSplitBody(
        {
          identifiers: [
            { type: 'anonymous_id', value: 'a-2' },
            { type: 'email', value: ' Ada@Example.COM ' },
            { type: 'email', value: 'ada@example.com' },
            { type: 'anonymous_id', value: 'a-2' },
          ],
        },
        rules,
      ),
    ).toEqual([
      { type: 'anonymous_id', value: 'a-2' },
      { type: 'email', value: sha256Hex('ada@example.com') },
    ]);
  });

  it.each([
    { body: {}, code: 'CDP_ERR_API_BAD_REQUEST', field: 'identifiers' },
    { body: { identifiers: [] }, code: 'CDP_ERR_API_BAD_REQUEST', field: 'identifiers' },
    { body: { identifiers: 'a-1' }, code: 'CDP_ERR_API_BAD_REQUEST', field: 'identifiers' },
    {
      body: {
        identifiers: Array.from({ length: MAX_SPLIT_IDENTIFIERS + 1 }, (_, i) => ({
          type: 'anonymous_id',
          value: `a-${i}`,
        })),
      },
      code: 'CDP_ERR_API_BAD_REQUEST',
      field: 'identifiers',
    },
    {
      body: { identifiers: [{ type: 'user_id', value: 'u' }], force: true },
      code: 'CDP_ERR_API_BAD_REQUEST',
      field: 'force',
    },
    { body: { identifiers: ['a-1'] }, code: 'CDP_ERR_API_BAD_REQUEST', field: 'identifiers[0]' },
    {
      body: { identifiers: [{ type: 'user_id', value: 'u', hashed: true }] },
      code: 'CDP_ERR_API_BAD_REQUEST',
      field: 'identifiers[0].hashed',
    },
    {
      body: {
        identifiers: [
          { type: 'user_id', value: 'u' },
          { type: 'anonymous_id', value: 'null' },
        ],
      },
      code: 'CDP_ERR_IDENTITY_INVALID_IDENTIFIER',
      field: 'identifiers[1].value',
    },
    {
      body: { identifiers: [{ type: 'cookie', value: 'c' }] },
      code: 'CDP_ERR_IDENTITY_INVALID_IDENTIFIER',
      field: 'identifiers[0].type',
    },
  ])('refuses $body with $code on $field', ({ body, code, field }) => {
    const e = errorOf(() => parseSplitBody(body, rules));
    expect({ code: e.code, field: e.field, status: e.statusCode }).toEqual({
      code,
      field,
      status: 400,
    });
  });
});

describe('parseEventsLimit (?events=)', () => {
  it.each([
    [undefined, DEFAULT_PERSON_EVENTS],
    ['', DEFAULT_PERSON_EVENTS],
    ['0', 0],
    ['5', 5],
    ['1000', 1000],
  ])('%j gives %d', (raw, n) => {
    expect(parseEventsLimit(raw)).toBe(n);
  });

  it.each(['1001', '-1', '2.5', 'ten', '1e3'])('refuses %j naming the field', (raw) => {
    expect(errorOf(() => parseEventsLimit(raw))).toMatchObject({
      code: 'CDP_ERR_API_BAD_REQUEST',
      field: 'events',
    });
  });
});
