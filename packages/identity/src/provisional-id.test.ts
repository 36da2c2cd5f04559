import { describe, expect, it } from 'vitest';
import {
  allocatePersonId,
  highestPriority,
  ONEID_NAMESPACE,
  personIdFor,
  provisionalId,
} from './provisional-id.js';
import { stampOneId } from './stamp.js';
import { createIdentityRules } from './rules.js';
import { uuidBytes, uuidV5 } from './uuid-v5.js';

// Vectors: RFC 9562's DNS example, and values computed with the `uuid` npm
// package (v5) as an independent implementation.
const DNS = uuidBytes('6ba7b810-9dad-11d1-80b4-00c04fd430c8');
const URL = uuidBytes('6ba7b811-9dad-11d1-80b4-00c04fd430c8');

describe('uuidV5', () => {
  it.each([
    ['www.example.com', DNS, '2ed6657d-e927-568b-95e1-2665a8aea6a2'],
    ['https://cdp.dev/oneid', URL, ONEID_NAMESPACE],
    ['email:é', URL, '741507a0-1ed7-5f4f-87c6-3bd38add9269'],
  ])('v5(%j) = %s', (name, ns, expected) => {
    expect(uuidV5(name, ns)).toBe(expected);
  });

  it('derives person ids in the OneID namespace from type and stored value', () => {
    expect(personIdFor({ type: 'user_id', value: 'u-1' })).toBe(
      '53b3a4cf-d3f0-500d-a638-399897b6654a',
    );
    expect(personIdFor({ type: 'user_id', value: 'u-1' }, 1)).toBe(
      uuidV5('user_id:u-1#1', uuidBytes(ONEID_NAMESPACE)),
    );
  });
});

describe('provisionalId', () => {
  const ids = [
    { type: 'anonymous_id', value: 'a-1' },
    { type: 'email', value: 'e'.repeat(64) },
    { type: 'user_id', value: 'u-1' },
  ] as const;

  it('is the person id of the highest-priority identifier, in any order', () => {
    const expected = personIdFor({ type: 'user_id', value: 'u-1' });
    expect(provisionalId(ids)).toBe(expected);
    expect(provisionalId([...ids].reverse())).toBe(expected);
    expect(provisionalId([])).toBeUndefined();
  });

  it('follows the configured priority; the first given wins among equals', () => {
    const rules = createIdentityRules({
      priority: ['email', 'user_id', 'external:*', 'phone', 'device_id', 'anonymous_id'],
    });
    expect(highestPriority(ids, rules)).toEqual(ids[1]);
    expect(
      highestPriority([
        { type: 'anonymous_id', value: 'b' },
        { type: 'anonymous_id', value: 'a' },
      ]),
    ).toEqual({ type: 'anonymous_id', value: 'b' });
  });

  it('skips taken ids deterministically', () => {
    const top = { type: 'user_id', value: 'u-1' } as const;
    const taken = new Set([personIdFor(top), personIdFor(top, 1)]);
    expect(allocatePersonId(top, (id) => taken.has(id))).toBe(personIdFor(top, 2));
    expect(provisionalId(ids, { isTaken: (id) => taken.has(id) })).toBe(personIdFor(top, 2));
  });
});

describe('stampOneId', () => {
  const ids = [
    { type: 'anonymous_id', value: 'a-1' },
    { type: 'device_id', value: 'd-1' },
  ] as const;

  it('stamps the person of the highest-priority known identifier', () => {
    const known = new Map([
      ['anonymous_id:a-1', 'person-a'],
      ['device_id:d-1', 'person-d'],
    ]);
    expect(stampOneId(ids, (i) => known.get(`${i.type}:${i.value}`))).toEqual({
      oneId: 'person-d',
      provisional: false,
    });
  });

  it('stamps the provisional id when nothing is known', () => {
    expect(stampOneId(ids, () => undefined)).toEqual({
      oneId: personIdFor({ type: 'device_id', value: 'd-1' }),
      provisional: true,
    });
    expect(stampOneId([], () => undefined)).toBeUndefined();
  });
});
