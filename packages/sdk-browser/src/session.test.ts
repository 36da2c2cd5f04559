import { describe, expect, it } from 'vitest';
import { parseSession, touchSession } from './session.js';

const T = 30 * 60_000;

describe('touchSession', () => {
  it.each([
    { what: 'no session: starts one at now', prev: undefined, now: 1000, id: 1000, started: true },
    {
      what: 'active: continues',
      prev: { id: 1000, last: 5000 },
      now: 5000 + T - 1,
      id: 1000,
      started: false,
    },
    {
      what: 'inactive for the timeout: a new one',
      prev: { id: 1000, last: 5000 },
      now: 5000 + T,
      id: 5000 + T,
      started: true,
    },
    {
      what: 'clock went back: continues',
      prev: { id: 1000, last: 5000 },
      now: 4000,
      id: 1000,
      started: false,
    },
    {
      what: 'new id never repeats the old one (stored by a clock ahead)',
      prev: { id: 9000, last: 9000 - T },
      now: 9000,
      id: 9001,
      started: true,
    },
  ])('$what', ({ prev, now, id, started }) => {
    const r = touchSession(prev, now, T);
    expect(r).toEqual({ state: expect.objectContaining({ id, last: now }), started });
  });

  it('keeps the landing campaign while the session lasts and drops it with a new session', () => {
    const prev = { id: 1, last: 1, campaign: { source: 'news' } };
    expect(touchSession(prev, 2, T).state.campaign).toEqual({ source: 'news' });
    expect(touchSession(prev, 1 + T, T).state.campaign).toBeUndefined();
  });
});

describe('parseSession', () => {
  it.each([
    [null, undefined],
    ['', undefined],
    ['{', undefined],
    ['{"id":"1","last":2}', undefined],
    ['{"id":1,"last":2}', { id: 1, last: 2 }],
    ['{"id":1,"last":2,"campaign":{"source":"x"}}', { id: 1, last: 2, campaign: { source: 'x' } }],
    ['{"id":1,"last":2,"campaign":[1]}', { id: 1, last: 2 }],
  ])('%j', (json, expected) => {
    expect(parseSession(json)).toEqual(expected);
  });
});
