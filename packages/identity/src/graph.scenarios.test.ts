import { describe, expect, it } from 'vitest';
import { extractIdentifiers } from './extract.js';
import { sha256Hex } from './hash.js';
import { personIdFor, provisionalId } from './provisional-id.js';
import type { JunkCounts, RefusalReason, InvalidReason } from './reason-codes.js';
import type { IdentityRulesInput } from './rules.js';
import { alias, device, Harness, identify, page, track, type Message } from './test-builders.js';

type Raw = readonly [type: string, value: string];

interface Scenario {
  readonly name: string;
  readonly rules?: IdentityRulesInput;
  /** Messages in arrival order; `[message, at]` to give the event time explicitly. */
  readonly steps: readonly (Message | readonly [Message, number])[];
  /** Each group resolves to one person. */
  readonly same?: readonly (readonly Raw[])[];
  /** Each identifier resolves to a different person. */
  readonly apart?: readonly Raw[];
  /** Identifiers the graph must not hold. */
  readonly unknown?: readonly Raw[];
  readonly persons: number;
  readonly merges: number;
  readonly refusals?: Partial<Record<RefusalReason | InvalidReason, number>>;
  readonly junk?: JunkCounts;
}

const T = 1_700_000_000_000;

const scenarios: readonly Scenario[] = [
  {
    name: 'anonymous browsing, then login',
    steps: [page('a1'), page('a1'), identify('u1', 'a1', { email: 'u1@example.com' })],
    same: [
      [
        ['anonymous_id', 'a1'],
        ['user_id', 'u1'],
        ['email', 'U1@example.com'],
      ],
    ],
    persons: 1,
    merges: 0,
  },
  {
    name: 'anonymous browsing in two browsers, login in both',
    steps: [page('a1'), page('a2'), identify('u1', 'a1'), identify('u1', 'a2'), page('a2')],
    same: [
      [
        ['anonymous_id', 'a1'],
        ['anonymous_id', 'a2'],
        ['user_id', 'u1'],
      ],
    ],
    persons: 1,
    merges: 1,
  },
  {
    name: 'same user on two devices',
    steps: [
      page('a1', device('phone-1')),
      page('a2', device('laptop-1')),
      identify('u1', 'a1', {}, device('phone-1')),
      identify('u1', 'a2', {}, device('laptop-1')),
    ],
    same: [
      [
        ['device_id', 'phone-1'],
        ['device_id', 'laptop-1'],
        ['anonymous_id', 'a1'],
        ['anonymous_id', 'a2'],
        ['user_id', 'u1'],
      ],
    ],
    persons: 1,
    merges: 1,
  },
  {
    name: 'shared family tablet: two logged-in users are never merged',
    steps: [
      page('tablet', device('tab-1')),
      identify('mum', 'tablet', {}, device('tab-1')),
      page('tablet', device('tab-1')),
      identify('son', 'tablet', {}, device('tab-1')),
      identify('mum', 'tablet', {}, device('tab-1')),
      identify('son', 'tablet', {}, device('tab-1')),
    ],
    same: [
      [
        ['user_id', 'mum'],
        ['anonymous_id', 'tablet'],
        ['device_id', 'tab-1'],
      ],
    ],
    apart: [
      ['user_id', 'mum'],
      ['user_id', 'son'],
    ],
    persons: 2,
    merges: 0,
    // Each of son's identify calls refuses the tablet's anonymous id and device id.
    refusals: { user_id_conflict: 4 },
  },
  {
    name: 'shared family email: two user ids are never merged',
    steps: [
      identify('mum', 'a1', { email: 'family@example.com' }),
      identify('dad', 'a2', { email: 'Family@Example.com' }),
      page('a2'),
    ],
    same: [
      [
        ['user_id', 'mum'],
        ['email', 'family@example.com'],
        ['anonymous_id', 'a1'],
      ],
      [
        ['user_id', 'dad'],
        ['anonymous_id', 'a2'],
      ],
    ],
    apart: [
      ['user_id', 'mum'],
      ['user_id', 'dad'],
    ],
    persons: 2,
    merges: 0,
    refusals: { user_id_conflict: 1 },
  },
  {
    name: 'junk ids never link and are counted',
    steps: [
      page('null'),
      page('00000000-0000-0000-0000-000000000000'),
      identify('undefined', 'a1'),
      identify('"0"', 'a2'),
      identify('[object Object]', 'a3'),
      track({ anonymousId: ' ', userId: 'guest' }),
    ],
    apart: [
      ['anonymous_id', 'a1'],
      ['anonymous_id', 'a2'],
      ['anonymous_id', 'a3'],
    ],
    unknown: [
      ['anonymous_id', 'a-never-sent'],
      ['user_id', 'undefined2'],
    ],
    persons: 3,
    merges: 0,
    junk: { junk_placeholder: 5, junk_zeros: 1, junk_empty: 1 },
  },
  {
    name: 'a block-listed id never links',
    rules: { blockList: ['Emulator-Device'] },
    steps: [page('a1', device('emulator-device')), page('a2', device('emulator-device'))],
    apart: [
      ['anonymous_id', 'a1'],
      ['anonymous_id', 'a2'],
    ],
    persons: 2,
    merges: 0,
    junk: { junk_block_list: 2 },
  },
  {
    name: 'merge chain: c <- b <- a',
    steps: [
      page('c'),
      page('b'),
      page('a'),
      track({ anonymousId: 'a', context: { device: { id: 'b-dev' } } }),
      page('b', device('b-dev')),
      page('c', device('b-dev')),
    ],
    same: [
      [
        ['anonymous_id', 'a'],
        ['anonymous_id', 'b'],
        ['anonymous_id', 'c'],
        ['device_id', 'b-dev'],
      ],
    ],
    persons: 1,
    merges: 2,
  },
  {
    name: 'identify arriving before the anonymous events it covers',
    steps: [
      [identify('u1', 'a1'), T + 10_000],
      [page('a1'), T + 1_000],
      [page('a1'), T + 2_000],
    ],
    same: [
      [
        ['user_id', 'u1'],
        ['anonymous_id', 'a1'],
      ],
    ],
    persons: 1,
    merges: 0,
  },
  {
    name: 'alias: previousId as an anonymous id',
    steps: [page('a-old'), page('a-new'), alias('u1', 'a-old', 'a-new')],
    same: [
      [
        ['anonymous_id', 'a-old'],
        ['anonymous_id', 'a-new'],
        ['user_id', 'u1'],
      ],
    ],
    persons: 1,
    merges: 1,
  },
  {
    name: 'alias: previousId unknown is linked as an anonymous id',
    steps: [alias('u1', 'p-1'), page('p-1')],
    same: [
      [
        ['anonymous_id', 'p-1'],
        ['user_id', 'u1'],
      ],
    ],
    unknown: [['user_id', 'p-1']],
    persons: 1,
    merges: 0,
  },
  {
    name: 'alias: a previous user id never joins a person with another user id',
    steps: [identify('old-login', 'a1'), alias('new-login', 'old-login')],
    apart: [
      ['user_id', 'old-login'],
      ['user_id', 'new-login'],
    ],
    unknown: [['anonymous_id', 'old-login']],
    persons: 2,
    merges: 0,
    refusals: { user_id_conflict: 1 },
  },
  {
    name: 'alias: a previous user id links a person without a user id',
    steps: [identify('u1', 'a1'), page('a2'), alias('u1', 'a2')],
    same: [
      [
        ['user_id', 'u1'],
        ['anonymous_id', 'a1'],
        ['anonymous_id', 'a2'],
      ],
    ],
    persons: 1,
    merges: 1,
  },
  {
    name: 'email in different formats resolves to one person',
    steps: [
      identify('u1', 'a1', { email: ' Foo@Example.COM ' }),
      track({ anonymousId: 'a2', context: { traits: { email: 'foo@example.com' } } }),
    ],
    same: [
      [
        ['user_id', 'u1'],
        ['anonymous_id', 'a2'],
        ['email', 'FOO@example.com'],
      ],
    ],
    persons: 1,
    merges: 0,
  },
  {
    name: 'phone in different formats resolves to one person (default region GB)',
    rules: { defaultRegion: 'GB' },
    steps: [
      identify('u1', 'a1', { phone: '+44 20 7946 0958' }),
      track({ anonymousId: 'a2', context: { traits: { phone: '020 7946 0958' } } }),
      track({ anonymousId: 'a3', context: { traits: { phone: '0044 20 7946 0958' } } }),
    ],
    same: [
      [
        ['user_id', 'u1'],
        ['anonymous_id', 'a2'],
        ['anonymous_id', 'a3'],
        ['phone', '(020) 7946-0958'],
      ],
    ],
    persons: 1,
    merges: 0,
  },
  {
    name: 'over-long values are rejected and link nothing',
    steps: [
      identify('x'.repeat(1025), 'a1'),
      identify('x'.repeat(1025), 'a2'),
      identify('y'.repeat(1024), 'a3'),
    ],
    apart: [
      ['anonymous_id', 'a1'],
      ['anonymous_id', 'a2'],
    ],
    same: [
      [
        ['user_id', 'y'.repeat(1024)],
        ['anonymous_id', 'a3'],
      ],
    ],
    persons: 3,
    merges: 0,
  },
  {
    name: 'per-type limit: the identifier over the limit is refused, the rest still links',
    rules: { limits: { anonymous_id: 2 } },
    steps: [identify('u1', 'a1'), identify('u1', 'a2'), identify('u1', 'a3', {}, device('d3'))],
    same: [
      [
        ['user_id', 'u1'],
        ['anonymous_id', 'a1'],
        ['anonymous_id', 'a2'],
        ['device_id', 'd3'],
      ],
    ],
    unknown: [['anonymous_id', 'a3']],
    persons: 1,
    merges: 0,
    refusals: { limit_exceeded: 1 },
  },
  {
    name: 'per-type limit blocks a merge that would exceed it',
    rules: { limits: { device_id: 2 } },
    steps: [
      page('a1', device('d1')),
      page('a1', device('d2')),
      page('a2', device('d3')),
      page('a2', device('d1')),
    ],
    same: [
      [
        ['anonymous_id', 'a1'],
        ['device_id', 'd1'],
        ['device_id', 'd2'],
      ],
      [
        ['anonymous_id', 'a2'],
        ['device_id', 'd3'],
      ],
    ],
    apart: [
      ['anonymous_id', 'a1'],
      ['anonymous_id', 'a2'],
    ],
    persons: 2,
    merges: 0,
    refusals: { limit_exceeded: 1 },
  },
  {
    name: 'platform ids link across sources; company ids do not',
    steps: [
      track({
        anonymousId: 'web-1',
        context: { externalIds: [{ id: 'B-1', type: 'shop_buyer_id', collection: 'users' }] },
      }),
      track({
        anonymousId: 'app-1',
        context: { externalIds: [{ id: 'B-1', type: 'shop_buyer_id' }] },
      }),
      track({
        anonymousId: 'web-2',
        context: { externalIds: [{ id: 'acme', type: 'company', collection: 'accounts' }] },
      }),
      track({
        anonymousId: 'web-3',
        context: { externalIds: [{ id: 'acme', type: 'company', collection: 'accounts' }] },
      }),
    ],
    same: [
      [
        ['anonymous_id', 'web-1'],
        ['anonymous_id', 'app-1'],
        ['external:shop_buyer_id', 'B-1'],
      ],
    ],
    apart: [
      ['anonymous_id', 'web-2'],
      ['anonymous_id', 'web-3'],
    ],
    persons: 3,
    merges: 0,
  },
];

describe('identity graph scenarios', () => {
  it.each(scenarios)('$name', (s) => {
    const h = new Harness(s.rules);
    for (const step of s.steps) {
      if ('type' in step) h.send(step);
      else h.send(step[0], step[1]);
    }
    for (const group of s.same ?? []) {
      const ids = group.map(([t, v]) => h.who(t, v));
      expect(ids[0], `${group[0]!.join(':')} is known`).toBeDefined();
      expect(new Set(ids), group.map((g) => g.join(':').slice(0, 40)).join(', ')).toEqual(
        new Set([ids[0]]),
      );
    }
    if (s.apart !== undefined) {
      const ids = s.apart.map(([t, v]) => h.who(t, v));
      expect(ids.every((id) => id !== undefined)).toBe(true);
      expect(new Set(ids).size).toBe(s.apart.length);
    }
    for (const [t, v] of s.unknown ?? []) expect(h.who(t, v), `${t}:${v}`).toBeUndefined();
    const stats = h.graph.stats();
    expect(stats.persons).toBe(s.persons);
    expect(stats.merges).toBe(s.merges);
    expect(stats.refusals).toEqual(s.refusals ?? {});
    expect(stats.junk).toEqual(s.junk ?? {});
  });
});

describe('resolve outcomes', () => {
  it('keeps the anonymous person id when the visitor logs in', () => {
    const h = new Harness();
    const first = h.send(page('a1'));
    expect(first.created).toBe(true);
    const login = h.send(identify('u1', 'a1'));
    expect(login).toMatchObject({ oneId: first.oneId, created: false, merges: [], refusals: [] });
    expect(login.added).toEqual([{ type: 'user_id', value: 'u1' }]);
  });

  it('names a new person after its highest-priority identifier', () => {
    const h = new Harness();
    const o = h.send(identify('u1', 'a1', {}, device('d1')));
    expect(o.oneId).toBe(h.graph.lookup({ type: 'user_id', value: 'u1' }));
    expect(o.oneId).toBe(personIdFor({ type: 'user_id', value: 'u1' }));
    expect(o.oneId).toBe(
      provisionalId(extractIdentifiers(identify('u1', 'a1', {}, device('d1'))).identifiers),
    );
  });

  it('merges into the person seen first and reports the merge with its reason', () => {
    const h = new Harness();
    const p1 = h.send(page('a1')).oneId!;
    const p2 = h.send(page('a2')).oneId!;
    const o = h.send(identify('u1', 'a2'));
    expect(o.oneId).toBe(p2);
    const m = h.send(identify('u1', 'a1'));
    expect(m.oneId).toBe(p1);
    expect(m.merges).toEqual([{ from: p2, into: p1, reason: 'identify' }]);
    expect(m.audit).toEqual([
      {
        at: expect.any(Number),
        kind: 'merge',
        oneId: p1,
        otherId: p2,
        reason: 'identify',
        messageId: 'm4',
      },
    ]);
    expect(h.graph.canonical(p2)).toBe(p1);
    expect(h.graph.person(p2)?.oneId).toBe(p1);
    expect(h.graph.person(p1)?.mergedFrom).toEqual([p2]);
  });

  it('breaks first-seen ties by the smaller id', () => {
    const h = new Harness();
    const pa = h.send(page('a'), T).oneId!;
    const pb = h.send(page('b'), T).oneId!;
    const o = h.send(track({ anonymousId: 'a', context: { device: { id: 'x' } } }), T + 5);
    h.send(page('b', device('x')), T + 6);
    const survivor = pa < pb ? pa : pb;
    expect(h.graph.canonical(pa)).toBe(survivor);
    expect(h.graph.canonical(pb)).toBe(survivor);
    expect(o.oneId).toBe(pa);
  });

  it('collapses merge chains: every id resolves to the last survivor in one step', () => {
    const h = new Harness();
    const c = h.send(page('c')).oneId!;
    const b = h.send(page('b')).oneId!;
    const a = h.send(page('a')).oneId!;
    expect(
      h.send(track({ anonymousId: 'a', userId: undefined, context: { device: { id: 'ab' } } }))
        .oneId,
    ).toBe(a);
    expect(h.send(page('b', device('ab'))).merges).toEqual([
      { from: a, into: b, reason: 'shared_identifier' },
    ]);
    expect(h.send(page('c', device('ab'))).merges).toEqual([
      { from: b, into: c, reason: 'shared_identifier' },
    ]);
    for (const id of [a, b, c]) expect(h.graph.canonical(id)).toBe(c);
    expect(h.graph.person(c)?.mergedFrom).toEqual([b, a]);
    expect(h.graph.export().overrides).toEqual([
      { from_one_id: b, into_one_id: c },
      { from_one_id: a, into_one_id: c },
    ]);
  });

  it('records a refusal with the identifier hashed, the other person, and the reason', () => {
    const h = new Harness();
    const mum = h.send(identify('mum', 'tablet')).oneId!;
    const o = h.send(identify('son', 'tablet'));
    expect(o.created).toBe(true);
    expect(o.refusals).toEqual([
      {
        identifierType: 'anonymous_id',
        identifierHash: sha256Hex('tablet'),
        reason: 'user_id_conflict',
        otherId: mum,
        limitType: 'user_id',
      },
    ]);
    expect(o.audit).toEqual([
      {
        at: expect.any(Number),
        kind: 'refusal',
        oneId: o.oneId,
        otherId: mum,
        identifierType: 'anonymous_id',
        identifierHash: o.refusals[0]!.identifierHash,
        reason: 'user_id_conflict',
        limitType: 'user_id',
        messageId: 'm2',
      },
    ]);
    expect(JSON.stringify(o.audit)).not.toContain('tablet');
  });

  it('updates first and last seen from event times, late events included', () => {
    const h = new Harness();
    h.send(identify('u1', 'a1'), T + 10_000);
    h.send(page('a1'), T + 1_000);
    h.send(page('a1'), T + 20_000);
    const p = h.graph.person(h.who('user_id', 'u1')!)!;
    expect(p.firstSeen).toBe(T + 1_000);
    expect(p.lastSeen).toBe(T + 20_000);
    expect(p.identifiers).toEqual([
      { type: 'user_id', value: 'u1', firstSeen: T + 10_000, lastSeen: T + 10_000 },
      { type: 'anonymous_id', value: 'a1', firstSeen: T + 1_000, lastSeen: T + 20_000 },
    ]);
  });

  it('answers an event without usable identifiers with no person, counting its junk', () => {
    const h = new Harness();
    const o = h.send(track({ anonymousId: 'null', userId: '0' }));
    expect(o).toEqual({
      oneId: undefined,
      created: false,
      merges: [],
      refusals: [],
      added: [],
      restamp: false,
      junk: { junk_placeholder: 2 },
      audit: [],
    });
  });

  it('checks identifiers handed to it directly: junk, unhashed contact data, unknown types', () => {
    const h = new Harness();
    const o = h.graph.resolve({
      identifiers: [
        { type: 'anonymous_id', value: 'a1' },
        { type: 'device_id', value: 'NULL' },
        { type: 'email', value: 'foo@example.com' },
        { type: 'cookie' as 'user_id', value: 'c' },
        { type: 'user_id', value: 'u'.repeat(1025) },
      ],
      at: T,
      kind: 'track',
    });
    expect(o.oneId).toBeDefined();
    expect(o.added).toEqual([{ type: 'anonymous_id', value: 'a1' }]);
    expect(o.junk).toEqual({ junk_placeholder: 1 });
    expect(o.refusals.map((r) => [r.identifierType, r.reason])).toEqual([
      ['email', 'not_hashed'],
      ['cookie', 'identifier_type_unknown'],
      ['user_id', 'value_too_long'],
    ]);
    expect(h.graph.lookup({ type: 'email', value: 'foo@example.com' })).toBeUndefined();
  });

  it('refuses a time that is not epoch ms', () => {
    const h = new Harness();
    expect(() =>
      h.graph.resolve({
        identifiers: [{ type: 'anonymous_id', value: 'a' }],
        at: Number.NaN,
        kind: 'track',
      }),
    ).toThrow(/CDP_ERR_IDENTITY_INVALID_INPUT/);
  });
});
