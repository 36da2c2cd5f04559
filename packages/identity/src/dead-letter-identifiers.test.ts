import { describe, expect, it } from 'vitest';
import { deadLetterIdentifierHashes, identifierHash } from './dead-letter-identifiers.js';
import { normaliseIdentifier } from './normalise.js';

const hashOf = (type: string, value: string): string => {
  const r = normaliseIdentifier(type, value);
  if (!r.ok) throw new Error(`not an identifier: ${type} ${value}`);
  return identifierHash(r.identifier);
};

describe('deadLetterIdentifierHashes', () => {
  const user = hashOf('user_id', 'u-42');
  const anon = hashOf('anonymous_id', 'a-42');
  const email = hashOf('email', 'Ann@Example.com');

  it('finds the identifiers of a call, a batch and a cut JSON text, hashed as the audit trail has them', () => {
    const call = {
      type: 'track',
      userId: 'u-42',
      anonymousId: 'a-42',
      traits: { email: 'ann@example.com ' },
    };
    expect(deadLetterIdentifierHashes(JSON.stringify(call))).toEqual([user, anon, email].sort());
    expect(
      deadLetterIdentifierHashes(JSON.stringify({ batch: [call, { userId: 'u-7' }] })),
    ).toEqual([user, anon, email, hashOf('user_id', 'u-7')].sort());
    const cut = JSON.stringify(call).slice(0, -12); // not JSON any more
    expect(deadLetterIdentifierHashes(cut)).toEqual(expect.arrayContaining([user, anon]));
  });

  it('finds them in a pixel query string', () => {
    expect(
      deadLetterIdentifierHashes(
        '/v1/pixel.gif?writeKey=[redacted]&userId=u-42&t.email=ANN%40example.com',
      ),
    ).toEqual([user, email].sort());
  });

  it('finds nothing in a payload without identifiers', () => {
    expect(deadLetterIdentifierHashes('{"event":"E"}')).toEqual([]);
    expect(deadLetterIdentifierHashes('not json at all')).toEqual([]);
  });

  it('hashes clear types and keeps the stored hash of hashed types', () => {
    expect(user).toMatch(/^[0-9a-f]{64}$/);
    expect(user).not.toBe('u-42');
    const stored = normaliseIdentifier('email', 'ann@example.com');
    expect(stored.ok && identifierHash(stored.identifier)).toBe(
      stored.ok && stored.identifier.value,
    );
  });
});
