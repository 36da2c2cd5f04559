import { describe, expect, it } from 'vitest';
import { createIdentityGraph } from './graph.js';
import { identifierKey, type Identifier } from './identifier.js';
import { provisionalId } from './provisional-id.js';
import { DEFAULT_IDENTITY_RULES } from './rules.js';
import { stampEvent } from './stamp-event.js';

const rules = DEFAULT_IDENTITY_RULES;
const anon = (v: string): Identifier => ({ type: 'anonymous_id', value: v });

function lookupFrom(known: Record<string, string>): (i: Identifier) => string | undefined {
  return (i) => known[identifierKey(i)];
}

const msg = (event: Record<string, unknown>, type = 'track') => ({
  type,
  messageId: 'm1',
  at: 1_700_000_000_000,
  event: { type, ...event },
});

describe('stampEvent', () => {
  it('stamps the provisional id and asks the resolver when nothing is known', () => {
    const s = stampEvent(msg({ anonymousId: 'a1' }), { rules, lookup: () => undefined });
    expect(s.oneId).toBe(provisionalId([anon('a1')]));
    expect(s.provisional).toBe(true);
    expect(s.uncertain).toBe(false);
    expect(s.link).toMatchObject({
      op: 'resolve',
      messageId: 'm1',
      kind: 'track',
      identifiers: [anon('a1')],
      stamped: s.oneId,
    });
  });

  it('sends nothing to the resolver when every identifier already belongs to the person', () => {
    const s = stampEvent(msg({ anonymousId: 'a1', userId: 'u1' }), {
      rules,
      lookup: lookupFrom({ 'anonymous_id:a1': 'P', 'user_id:u1': 'P' }),
    });
    expect(s).toEqual({ oneId: 'P', provisional: false, link: undefined, uncertain: false });
  });

  it.each([
    [
      'an unknown user id beside a known device',
      { anonymousId: 'tab', userId: 'kid' },
      { 'anonymous_id:tab': 'MUM' },
      true,
    ],
    [
      'identifiers of two persons',
      { anonymousId: 'a1', userId: 'u1' },
      { 'anonymous_id:a1': 'A', 'user_id:u1': 'U' },
      true,
    ],
    ['only unknown identifiers', { anonymousId: 'n1', userId: 'n2' }, {}, false],
  ])('%s: a link, uncertain = %s', (_name, event, known, uncertain) => {
    const s = stampEvent(msg(event), {
      rules,
      lookup: lookupFrom(known),
    });
    expect(s.link).toBeDefined();
    expect(s.uncertain).toBe(uncertain);
  });

  it('an alias always goes to the resolver, with its previousId', () => {
    const s = stampEvent(msg({ userId: 'u1', previousId: 'old' }, 'alias'), {
      rules,
      lookup: lookupFrom({ 'user_id:u1': 'P' }),
    });
    expect(s.link).toMatchObject({ kind: 'alias', previousId: 'old' });
    expect(s.uncertain).toBe(true);
  });

  it('junk links nothing and stamps no person, but is sent to be counted', () => {
    const s = stampEvent(msg({ userId: 'null', anonymousId: 'undefined' }), {
      rules,
      lookup: () => undefined,
    });
    expect(s.oneId).toBe('');
    expect(s.link).toBeUndefined();
    const withJunk = stampEvent(msg({ userId: 'null', anonymousId: 'a9' }), {
      rules,
      lookup: lookupFrom({ 'anonymous_id:a9': 'P' }),
    });
    expect(withJunk.oneId).toBe('P');
    expect(withJunk.link?.junk).toEqual({ junk_placeholder: 1 });
  });

  it('agrees with the graph: the stamp of a new person is the id the resolver gives it', () => {
    const g = createIdentityGraph(rules);
    const s = stampEvent(msg({ anonymousId: 'x1', userId: 'ux' }), {
      rules,
      lookup: (i) => g.lookup(i),
      isTaken: g.isTaken,
    });
    const out = g.resolve({
      identifiers: s.link?.identifiers ?? [],
      at: 1,
      kind: 'track',
      stamped: s.oneId,
    });
    expect(out.oneId).toBe(s.oneId);
    expect(out.merges).toEqual([]);
    expect(out.restamp).toBe(false);
  });
});
