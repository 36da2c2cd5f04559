import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fcParameters } from '@cdp/testkit';
import { createIdentityGraph, importIdentityGraph } from './graph.js';
import type { IdentityGraph, ResolveKind } from './graph-types.js';
import { identifierKey, type Identifier } from './identifier.js';
import { provisionalId } from './provisional-id.js';
import { compileRules, createIdentityRules } from './rules.js';
import { ident } from './test-builders.js';

// Small limits and a small universe, so that random streams collide often
// and every rule is exercised.
const rules = createIdentityRules({
  defaultRegion: 'GB',
  limits: { anonymous_id: 5, device_id: 3, email: 2, phone: 2, 'external:*': 2 },
});
const compiled = compileRules(rules);

const UNIVERSE: readonly Identifier[] = [
  ...['u0', 'u1', 'u2', 'u3'].map((v) => ident('user_id', v)),
  ...['a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8', 'a9'].map((v) =>
    ident('anonymous_id', v),
  ),
  ...['d0', 'd1', 'd2', 'd3', 'd4'].map((v) => ident('device_id', v)),
  ...['e0@example.com', 'e1@example.com', 'e2@example.com'].map((v) => ident('email', v, rules)),
  ...['020 7946 0950', '020 7946 0951'].map((v) => ident('phone', v, rules)),
  ...['x0', 'x1'].map((v) => ident('external:shop_buyer_id', v)),
];
const JUNK: readonly Identifier[] = [
  { type: 'anonymous_id', value: 'null' },
  { type: 'user_id', value: '0' },
  { type: 'device_id', value: '00000000-0000-0000-0000-000000000000' },
];
const KINDS: readonly ResolveKind[] = ['track', 'identify', 'page', 'screen', 'group', 'alias'];
const T = 1_700_000_000_000;

type Op =
  | {
      readonly op: 'resolve';
      readonly ids: readonly Identifier[];
      readonly previousId: string | undefined;
      readonly kind: ResolveKind;
      readonly at: number;
      /** Stamped by a stateless stamper (the provisional id) before resolving. */
      readonly stamp: boolean;
    }
  | { readonly op: 'split'; readonly person: number; readonly pick: readonly number[] }
  | { readonly op: 'delete'; readonly person: number };

const resolveOp: fc.Arbitrary<Op> = fc.record({
  op: fc.constant('resolve' as const),
  ids: fc.array(
    fc.oneof(
      { weight: 10, arbitrary: fc.constantFrom(...UNIVERSE) },
      { weight: 1, arbitrary: fc.constantFrom(...JUNK) },
    ),
    {
      minLength: 1,
      maxLength: 3,
    },
  ),
  previousId: fc.option(fc.constantFrom('u0', 'u1', 'a0', 'a5', 'p9'), { nil: undefined }),
  kind: fc.constantFrom(...KINDS),
  // Not monotonic: late events happen.
  at: fc.integer({ min: 0, max: 10_000 }).map((n) => T + n),
  stamp: fc.boolean(),
});
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 12, arbitrary: resolveOp },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('split' as const),
      person: fc.nat(),
      pick: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), person: fc.nat() }) },
);
const streamArb = fc.array(opArb, { minLength: 1, maxLength: 80, size: 'max' });

/** Live persons in export order. */
function livePersons(g: IdentityGraph): string[] {
  return [...new Set(g.export().identities.map((r) => r.one_id))];
}

/** Ids the stream has produced, and the pairs of persons split apart. */
interface Seen {
  readonly ids: Set<string>;
  readonly splits: (readonly [string, string])[];
}
const newSeen = (): Seen => ({ ids: new Set(), splits: [] });

/** Runs one op; split and delete pick their person and identifiers from the current graph. */
function apply(g: IdentityGraph, op: Op, seen: Seen): unknown {
  switch (op.op) {
    case 'resolve': {
      const o = g.resolve({
        identifiers: op.ids,
        previousId: op.previousId,
        at: op.at,
        kind: op.kind,
        stamped: op.stamp ? provisionalId(op.ids, { rules }) : undefined,
      });
      if (o.oneId !== undefined) seen.ids.add(o.oneId);
      for (const m of o.merges) seen.ids.add(m.from).add(m.into);
      return o;
    }
    case 'split': {
      const persons = livePersons(g);
      if (persons.length === 0) return undefined;
      const oneId = persons[op.person % persons.length]!;
      const ids = g.person(oneId)!.identifiers;
      const chosen = [...new Set(op.pick.map((i) => i % ids.length))].map((i) => ({
        type: ids[i]!.type,
        value: ids[i]!.value,
      }));
      const res = g.split(oneId, chosen, T + 20_000);
      if (res.ok) {
        seen.ids.add(res.oneId);
        seen.splits.push([res.from, res.oneId]);
      }
      return res;
    }
    case 'delete': {
      const persons = livePersons(g);
      if (persons.length === 0) return undefined;
      return g.delete(persons[op.person % persons.length]!, T + 20_000);
    }
  }
}

/** Every invariant the graph promises, checked through its public surface; returns what is broken. */
function violations(g: IdentityGraph, seen: Seen): string[] {
  const out: string[] = [];
  const check = (ok: boolean, what: string): void => {
    if (!ok) out.push(what);
  };
  const snapshot = g.export();
  const byPerson = new Map<string, Map<string, number>>();
  const keys = new Set<string>();
  for (const row of snapshot.identities) {
    const key = `${row.id_type}:${row.id_value}`;
    check(!keys.has(key), `${key} is held twice`);
    keys.add(key);
    check(
      g.lookup({ type: row.id_type, value: row.id_value }) === row.one_id,
      `lookup(${key}) is not its row`,
    );
    check(
      g.canonical(row.one_id) === row.one_id,
      `${row.one_id} holds identifiers but is not canonical`,
    );
    const counts = byPerson.get(row.one_id) ?? new Map<string, number>();
    counts.set(row.id_type, (counts.get(row.id_type) ?? 0) + 1);
    byPerson.set(row.one_id, counts);
  }
  for (const [oneId, counts] of byPerson) {
    check((counts.get('user_id') ?? 0) <= 1, `${oneId} holds two user ids`);
    for (const [type, n] of counts) {
      check(n <= compiled.limit(type as Identifier['type']), `${oneId} holds ${n} ${type}`);
    }
    const p = g.person(oneId)!;
    check(
      p.firstSeen === Math.min(...p.identifiers.map((i) => i.firstSeen)),
      `${oneId} first seen`,
    );
    check(p.lastSeen === Math.max(...p.identifiers.map((i) => i.lastSeen)), `${oneId} last seen`);
  }
  for (const id of UNIVERSE) {
    check(
      (g.lookup(id) !== undefined) === keys.has(identifierKey(id)),
      `lookup(${identifierKey(id)}) disagrees with the rows`,
    );
  }
  for (const id of JUNK) check(g.lookup(id) === undefined, `junk ${identifierKey(id)} is linked`);
  for (const row of snapshot.overrides) {
    check(byPerson.has(row.into_one_id), `override into dead ${row.into_one_id}`);
    check(
      g.canonical(row.from_one_id) === row.into_one_id,
      `override ${row.from_one_id} is not one hop`,
    );
  }
  for (const row of snapshot.blocks) {
    check(byPerson.has(row.one_id) && byPerson.has(row.other_one_id), 'block of a dead person');
    check(row.one_id !== row.other_one_id, 'a person blocked from itself');
  }
  for (const row of snapshot.tombstones)
    check(g.canonical(row.one_id) === undefined, `deleted ${row.one_id} resolves`);
  // canonical() is idempotent and lands on a live person (or nothing, once deleted).
  for (const id of seen.ids) {
    const c = g.canonical(id);
    if (c !== undefined) {
      check(g.canonical(c) === c, `canonical(${id}) is not idempotent`);
      check(byPerson.has(c), `canonical(${id}) is not a live person`);
    }
  }
  // Persons split apart are never merged again.
  for (const [a, b] of seen.splits) {
    const ca = g.canonical(a);
    check(ca === undefined || ca !== g.canonical(b), `split ${a} / ${b} merged again`);
  }
  return out;
}

describe('identity graph properties', () => {
  it('streams exercise merges, every refusal reason, splits and deletes', () => {
    const totals = { merges: 0, splits: 0, deletes: 0, refusals: {} as Record<string, number> };
    for (const ops of fc.sample(streamArb, { numRuns: 150, seed: 7 })) {
      const g = createIdentityGraph(rules);
      const seen = newSeen();
      for (const op of ops) {
        const res = apply(g, op, seen) as { ok?: boolean } | undefined;
        if (op.op === 'split' && res?.ok === true) totals.splits++;
        if (op.op === 'delete' && res?.ok === true) totals.deletes++;
      }
      const stats = g.stats();
      totals.merges += stats.merges;
      for (const [r, n] of Object.entries(stats.refusals))
        totals.refusals[r] = (totals.refusals[r] ?? 0) + n;
    }
    expect(totals.merges).toBeGreaterThan(50);
    expect(totals.splits).toBeGreaterThan(10);
    expect(totals.deletes).toBeGreaterThan(10);
    for (const reason of ['user_id_conflict', 'limit_exceeded', 'split_block']) {
      expect(totals.refusals[reason], reason).toBeGreaterThan(5);
    }
  });

  it('keeps every invariant after every step of a random stream', () => {
    fc.assert(
      fc.property(streamArb, (ops) => {
        const g = createIdentityGraph(rules);
        const seen = newSeen();
        for (const op of ops) {
          const res = apply(g, op, seen);
          if (op.op === 'resolve' && res !== undefined) {
            const o = res as ReturnType<IdentityGraph['resolve']>;
            // The event's person holds every identifier it added.
            expect(o.added.filter((id) => g.lookup(id) !== o.oneId)).toEqual([]);
            if (o.oneId !== undefined) expect(g.canonical(o.oneId)).toBe(o.oneId);
          }
          expect(violations(g, seen)).toEqual([]);
        }
      }),
      fcParameters({ numRuns: 150 }),
    );
  }, 60_000);

  it('gives the same outcomes and graph when a stream is replayed', () => {
    fc.assert(
      fc.property(streamArb, (ops) => {
        const a = createIdentityGraph(rules);
        const b = createIdentityGraph(rules);
        const sa = newSeen();
        const sb = newSeen();
        const outA = ops.map((op) => apply(a, op, sa));
        const outB = ops.map((op) => apply(b, op, sb));
        expect(outB).toEqual(outA);
        expect(b.export()).toEqual(a.export());
      }),
      fcParameters({ numRuns: 100 }),
    );
  });

  it('behaves identically after import(export()) at any point of a stream', () => {
    fc.assert(
      fc.property(streamArb, fc.nat(), (ops, cut) => {
        const at = cut % (ops.length + 1);
        const a = createIdentityGraph(rules);
        const seen = newSeen();
        for (const op of ops.slice(0, at)) apply(a, op, seen);
        const b = importIdentityGraph(JSON.parse(JSON.stringify(a.export())), rules);
        expect(b.export()).toEqual(a.export());
        for (const op of ops.slice(at)) expect(apply(b, op, seen)).toEqual(apply(a, op, seen));
        expect(b.export()).toEqual(a.export());
      }),
      fcParameters({ numRuns: 100 }),
    );
  });
});
