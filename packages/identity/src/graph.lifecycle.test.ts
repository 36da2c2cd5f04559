import { describe, expect, it } from 'vitest';
import { IdentityError } from './errors.js';
import { createIdentityGraph, importIdentityGraph } from './graph.js';
import { sha256Hex } from './hash.js';
import { personIdFor, provisionalId } from './provisional-id.js';
import type { GraphSnapshot } from './snapshot.js';
import {
  alias,
  device,
  Harness,
  ident,
  identify,
  page,
  track,
  type Message,
} from './test-builders.js';

const T = 1_700_000_000_000;

describe('split', () => {
  /** u1's person, wrongly holding a2 (a shared browser) and d2 through it. */
  function wronglyMerged() {
    const h = new Harness();
    h.send(identify('u1', 'a1', {}, device('d1')));
    h.send(page('a2', device('d2')));
    h.send(identify('u1', 'a2', {}, device('d2')));
    const oneId = h.who('user_id', 'u1')!;
    return { h, oneId };
  }

  it('moves the identifiers to a new person and reports what moved', () => {
    const { h, oneId } = wronglyMerged();
    const moving = [ident('anonymous_id', 'a2'), ident('device_id', 'd2')];
    const res = h.graph.split(oneId, moving, T);
    if (!res.ok) throw new Error(res.reason);
    expect(res.from).toBe(oneId);
    expect(res.oneId).not.toBe(oneId);
    // In the order they joined the person.
    expect(res.moved).toEqual([moving[1], moving[0]]);
    expect(h.who('anonymous_id', 'a2')).toBe(res.oneId);
    expect(h.who('device_id', 'd2')).toBe(res.oneId);
    expect(h.who('anonymous_id', 'a1')).toBe(oneId);
    expect(h.graph.person(oneId)?.identifiers.map((i) => i.value)).toEqual(['u1', 'd1', 'a1']);
    expect(h.graph.person(res.oneId)?.blockedWith).toEqual([oneId]);
    expect(res.audit).toEqual([
      {
        at: T,
        kind: 'split',
        oneId,
        otherId: res.oneId,
        identifierType: 'device_id',
        identifierHash: sha256Hex('d2'),
        reason: 'manual_split',
      },
      {
        at: T,
        kind: 'split',
        oneId,
        otherId: res.oneId,
        identifierType: 'anonymous_id',
        identifierHash: sha256Hex('a2'),
        reason: 'manual_split',
      },
    ]);
  });

  it('does not re-merge by the same path, nor by a new identifier that bridges the two', () => {
    const { h, oneId } = wronglyMerged();
    const res = h.graph.split(oneId, [ident('anonymous_id', 'a2'), ident('device_id', 'd2')], T);
    if (!res.ok) throw new Error(res.reason);
    const again = h.send(identify('u1', 'a2', {}, device('d2')));
    expect(again.oneId).toBe(oneId);
    expect(again.merges).toEqual([]);
    expect(again.refusals.map((r) => [r.identifierType, r.reason, r.otherId])).toEqual([
      ['device_id', 'split_block', res.oneId],
      ['anonymous_id', 'split_block', res.oneId],
    ]);
    h.send(track({ anonymousId: 'a2', context: { traits: { email: 'bridge@example.com' } } }));
    const bridge = h.send(identify('u1', undefined, { email: 'bridge@example.com' }));
    expect(bridge.merges).toEqual([]);
    expect(bridge.refusals.map((r) => r.reason)).toEqual(['split_block']);
    expect(h.who('anonymous_id', 'a2')).toBe(res.oneId);
    expect(h.who('user_id', 'u1')).toBe(oneId);
  });

  it('keeps the block through later merges of either side', () => {
    const { h, oneId } = wronglyMerged();
    const res = h.graph.split(oneId, [ident('anonymous_id', 'a2'), ident('device_id', 'd2')], T);
    if (!res.ok) throw new Error(res.reason);
    // The split-off person absorbs a third person, which is then seen with u1.
    h.send(page('a9'));
    h.send(page('a9', device('d2')));
    expect(h.who('anonymous_id', 'a9')).toBe(h.graph.canonical(res.oneId));
    const o = h.send(identify('u1', 'a9'));
    expect(o.merges).toEqual([]);
    expect(o.refusals.map((r) => r.reason)).toEqual(['split_block']);
  });

  it('gives the new person a fresh id even when the moved identifier named the original', () => {
    const h = new Harness();
    const first = h.send(page('a1')).oneId!;
    h.send(identify('u1', 'a1'));
    expect(first).toBe(personIdFor({ type: 'anonymous_id', value: 'a1' }));
    const res = h.graph.split(first, [ident('anonymous_id', 'a1')], T);
    if (!res.ok) throw new Error(res.reason);
    expect(res.oneId).toBe(personIdFor({ type: 'anonymous_id', value: 'a1' }, 1));
    expect(h.graph.canonical(first)).toBe(first);
    expect(h.who('user_id', 'u1')).toBe(first);
  });

  it.each([
    ['unknown person', 'nope', [ident('anonymous_id', 'a1')], 'unknown_person'],
    [
      'identifier of another person',
      'u1',
      [ident('anonymous_id', 'b1')],
      'identifier_not_in_person',
    ],
    ['unknown identifier', 'u1', [ident('anonymous_id', 'zz')], 'identifier_not_in_person'],
    ['nothing', 'u1', [], 'nothing_to_split'],
    ['everything', 'u1', [ident('user_id', 'u1'), ident('anonymous_id', 'a1')], 'split_all'],
  ] as const)('refuses to split %s', (_name, who, ids, reason) => {
    const h = new Harness();
    h.send(identify('u1', 'a1'));
    h.send(page('b1'));
    const oneId = who === 'u1' ? h.who('user_id', 'u1')! : who;
    const before = h.graph.export();
    expect(h.graph.split(oneId, ids, T)).toMatchObject({ ok: false, reason });
    expect(h.graph.export()).toEqual(before);
  });
});

describe('delete', () => {
  it('removes the person and its identifiers, returning a tombstone without personal data', () => {
    const h = new Harness();
    const anon = h.send(page('a1')).oneId!;
    h.send(page('a2'));
    h.send(identify('u1', 'a1', { email: 'gone@example.com' }));
    const merged = h.send(identify('u1', 'a2'));
    const oneId = merged.oneId!;
    expect(oneId).toBe(anon);
    const mergedAway = merged.merges[0]!.from;

    const res = h.graph.delete(mergedAway, T);
    if (!res.ok) throw new Error(res.reason);
    expect(res.oneId).toBe(oneId);
    expect(res.removed).toEqual([
      ident('anonymous_id', 'a1'),
      ident('user_id', 'u1'),
      ident('email', 'gone@example.com'),
      ident('anonymous_id', 'a2'),
    ]);
    expect(res.retiredIds).toEqual([oneId, mergedAway]);
    expect(res.audit).toEqual([{ at: T, kind: 'delete', oneId, reason: 'gdpr_delete' }]);
    for (const [t, v] of [
      ['anonymous_id', 'a1'],
      ['anonymous_id', 'a2'],
      ['user_id', 'u1'],
      ['email', 'gone@example.com'],
    ] as const) {
      expect(h.who(t, v)).toBeUndefined();
    }
    expect(h.graph.canonical(oneId)).toBeUndefined();
    expect(h.graph.canonical(mergedAway)).toBeUndefined();
    expect(h.graph.person(oneId)).toBeUndefined();
    const snapshot = h.graph.export();
    expect(snapshot.identities).toEqual([]);
    expect(snapshot.overrides).toEqual([]);
    expect(snapshot.tombstones).toEqual([
      { one_id: oneId, deleted_at: T },
      { one_id: mergedAway, deleted_at: T },
    ]);
    expect(JSON.stringify(snapshot)).not.toMatch(/a1|u1|gone/);
    expect(h.graph.delete(oneId, T)).toEqual({ ok: false, reason: 'unknown_person' });
  });

  it('starts a new person with a new id when the same identifiers come back', () => {
    const h = new Harness();
    const before = h.send(identify('u1', 'a1')).oneId!;
    expect(h.graph.delete(before, T).ok).toBe(true);
    // A stateless stamper computes the old id and learns better from the
    // resolver; one that knows the taken ids computes the resolver's answer.
    const ids = [ident('user_id', 'u1'), ident('anonymous_id', 'a1')];
    const stateless = provisionalId(ids);
    const informed = provisionalId(ids, { isTaken: h.graph.isTaken });
    const after = h.send(identify('u1', 'a1'));
    expect(after.created).toBe(true);
    expect(after.oneId).not.toBe(before);
    expect(after.oneId).toBe(personIdFor({ type: 'user_id', value: 'u1' }, 1));
    expect(stateless).toBe(before);
    expect(informed).toBe(after.oneId);
    expect(h.graph.delete(after.oneId!, T + 1).ok).toBe(true);
    expect(h.send(page('a1')).oneId).not.toBe(after.oneId);
  });

  it('lifts the split blocks of a deleted person', () => {
    const h = new Harness();
    h.send(identify('u1', 'a1'));
    h.send(identify('u1', 'a2'));
    const oneId = h.who('user_id', 'u1')!;
    const res = h.graph.split(oneId, [ident('anonymous_id', 'a2')], T);
    if (!res.ok) throw new Error(res.reason);
    expect(h.graph.delete(res.oneId, T).ok).toBe(true);
    expect(h.graph.person(oneId)?.blockedWith).toEqual([]);
    expect(h.graph.export().blocks).toEqual([]);
    expect(h.send(identify('u1', 'a2')).refusals).toEqual([]);
  });
});

describe('stamps', () => {
  it('adopts a provisional id that lost to a known person, so stamped events follow', () => {
    const h = new Harness();
    const known = h.send(identify('u1', 'a1')).oneId!;
    // A stamper whose cache missed a1 stamps the provisional id of the event.
    const ids = [ident('device_id', 'd-new'), ident('anonymous_id', 'a1')];
    const stamped = provisionalId(ids)!;
    expect(stamped).not.toBe(known);
    const o = h.graph.resolve({ identifiers: ids, at: T, kind: 'track', stamped });
    expect(o.oneId).toBe(known);
    expect(o.restamp).toBe(false);
    expect(o.merges).toEqual([{ from: stamped, into: known, reason: 'provisional_id' }]);
    expect(h.graph.canonical(stamped)).toBe(known);
    expect(h.graph.export().overrides).toEqual([{ from_one_id: stamped, into_one_id: known }]);
    // The adopted id is never handed to a new person, and is retired with the person.
    const res = h.graph.delete(known, T);
    expect(res.ok && res.retiredIds).toEqual([known, stamped]);
  });

  it('asks for a restamp when the stamp names another person, and does nothing when it is right', () => {
    const h = new Harness();
    const deleted = h.send(identify('u1', 'a1')).oneId!;
    const other = h.send(page('b1')).oneId!;
    h.graph.delete(deleted, T);
    const ids = [ident('user_id', 'u1'), ident('anonymous_id', 'a1')];
    const afterDelete = h.graph.resolve({
      identifiers: ids,
      at: T + 1,
      kind: 'identify',
      stamped: provisionalId(ids),
    });
    expect(afterDelete).toMatchObject({ created: true, restamp: true, merges: [] });
    expect(afterDelete.oneId).not.toBe(deleted);
    const wrong = h.graph.resolve({
      identifiers: [ident('anonymous_id', 'a1')],
      at: T + 2,
      kind: 'page',
      stamped: other,
    });
    expect(wrong).toMatchObject({ oneId: afterDelete.oneId, restamp: true, merges: [] });
    const right = h.graph.resolve({
      identifiers: [ident('anonymous_id', 'b1')],
      at: T + 3,
      kind: 'page',
      stamped: other,
    });
    expect(right).toMatchObject({ oneId: other, restamp: false, merges: [] });
  });
});

/** A stream touching every operation; `ops` are run in order by `play`. */
type Op =
  | { readonly op: 'send'; readonly message: Message; readonly at: number }
  | {
      readonly op: 'split';
      readonly who: readonly [string, string];
      readonly ids: readonly (readonly [string, string])[];
    }
  | { readonly op: 'delete'; readonly who: readonly [string, string] };

const STREAM: readonly Op[] = [
  { op: 'send', message: page('a1', device('d1')), at: T + 1 },
  { op: 'send', message: page('a2'), at: T + 2 },
  { op: 'send', message: identify('u1', 'a1', { email: 'u1@example.com' }), at: T + 3 },
  { op: 'send', message: identify('u1', 'a2'), at: T + 4 },
  { op: 'send', message: identify('u2', 'a2'), at: T + 5 },
  { op: 'send', message: page('a3', device('d1')), at: T + 6 },
  { op: 'split', who: ['user_id', 'u1'], ids: [['anonymous_id', 'a2']] },
  { op: 'send', message: alias('u3', 'a4'), at: T + 7 },
  { op: 'send', message: identify('u1', 'a2'), at: T + 8 },
  { op: 'delete', who: ['user_id', 'u3'] },
  { op: 'send', message: alias('u3', 'a4'), at: T + 9 },
  { op: 'send', message: track({ userId: 'null', anonymousId: 'a5' }), at: T + 10 },
];

function play(h: Harness, ops: readonly Op[]): unknown[] {
  return ops.map((o) => {
    switch (o.op) {
      case 'send':
        return h.send(o.message, o.at);
      case 'split':
        return h.graph.split(
          h.who(...o.who) ?? 'none',
          o.ids.map(([t, v]) => ident(t, v)),
          T,
        );
      case 'delete':
        return h.graph.delete(h.who(...o.who) ?? 'none', T);
    }
  });
}

describe('determinism and snapshots', () => {
  it('replaying the same calls from an empty graph gives the same outcomes and graph', () => {
    const a = new Harness();
    const b = new Harness();
    expect(play(b, STREAM)).toEqual(play(a, STREAM));
    expect(b.graph.export()).toEqual(a.graph.export());
    expect(a.graph.export().tombstones).toHaveLength(1);
    expect(a.graph.export().blocks).toHaveLength(1);
  });

  it('import(export(g)) behaves like g', () => {
    const a = new Harness();
    play(a, STREAM.slice(0, 9));
    const snapshot: GraphSnapshot = JSON.parse(JSON.stringify(a.graph.export()));
    const b = new Harness({}, importIdentityGraph(snapshot, a.rules));
    expect(b.graph.export()).toEqual(a.graph.export());
    for (const [t, v] of [
      ['user_id', 'u1'],
      ['user_id', 'u2'],
      ['anonymous_id', 'a2'],
      ['anonymous_id', 'a4'],
    ] as const) {
      expect(b.who(t, v)).toBe(a.who(t, v));
    }
    const rest = STREAM.slice(9);
    expect(play(b, rest)).toEqual(play(a, rest));
    expect(b.graph.export()).toEqual(a.graph.export());
  });

  it.each<[string, (s: GraphSnapshot) => GraphSnapshot, RegExp]>([
    ['a wrong schema version', (s) => ({ ...s, schema_version: 2 as 1 }), /schema_version/],
    [
      'two user ids in one person',
      (s) => ({
        ...s,
        identities: [
          ...s.identities,
          { ...s.identities[0]!, id_type: 'user_id', id_value: 'other' },
        ],
      }),
      /two user ids/,
    ],
    [
      'an identifier listed twice',
      (s) => ({ ...s, identities: [...s.identities, s.identities[1]!] }),
      /listed twice/,
    ],
    [
      'an unhashed email',
      (s) => ({
        ...s,
        identities: [...s.identities, { ...s.identities[0]!, id_type: 'email', id_value: 'x@y.z' }],
      }),
      /SHA-256/,
    ],
    [
      'an override to a merged-away id',
      (s) => ({ ...s, overrides: [{ from_one_id: 'x', into_one_id: 'not-live' }] }),
      /chains must be collapsed/,
    ],
    [
      'a tombstone of a live person',
      (s) => ({ ...s, tombstones: [{ one_id: s.identities[0]!.one_id, deleted_at: T }] }),
      /tombstones\[0\]/,
    ],
  ])('refuses a snapshot with %s', (_name, corrupt, message) => {
    const h = new Harness();
    h.send(identify('u1', 'a1'));
    const snapshot = corrupt(h.graph.export());
    let error: unknown;
    try {
      importIdentityGraph(snapshot);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(IdentityError);
    expect((error as IdentityError).identityCode).toBe('CDP_ERR_IDENTITY_SNAPSHOT_INVALID');
    expect((error as IdentityError).message).toMatch(message);
  });

  it('exports an empty graph as empty rows', () => {
    expect(createIdentityGraph().export()).toEqual({
      schema_version: 1,
      identities: [],
      overrides: [],
      blocks: [],
      tombstones: [],
    });
  });
});
