/**
 * The Person API end to end on the all-in-one platform (embedded bus, chDB,
 * OneID): events go in over HTTP as a tracking client sends them, and every
 * check reads what a user would, through the Person API, `events_by_person`
 * over the SQL endpoint, and the `cdp persons` CLI.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '@cdp/identity';
import { waitFor } from '@cdp/testkit';
import { adminApi, sendBatch, sql, startTestPlatform, usePlatform } from './e2e-scenarios.js';

// The `cdp` binary (packages/cli, built by `npm test`), driven as a user would.
const BIN = fileURLToPath(new URL('../../cli/dist/bin.js', import.meta.url));
const run$ = promisify(execFile);

type Call = Record<string, unknown> & { type: string };
type Id = readonly [type: string, value: string];

interface Identifier {
  type: string;
  value: string;
  hashed: boolean;
  firstSeen: string;
  lastSeen: string;
}
interface Audit {
  at: string;
  kind: string;
  oneId: string;
  otherId?: string;
  identifierType?: string;
  identifierHash?: string;
  reason: string;
}
interface Person {
  oneId: string;
  requested?: string;
  mergedIds: string[];
  identifiers: Identifier[];
  traits: Record<string, unknown>;
  firstSeen: string | null;
  lastSeen: string | null;
  eventCount: number;
  events: { messageId: string; type: string; event: string; properties: Record<string, unknown> }[];
  audit: Audit[];
}

const uid = (): string => Math.random().toString(36).slice(2, 10);
/** Event times inside the last hour, in order of `minute`. */
const base = Date.now() - 3_600_000;
const at = (minute: number): string => new Date(base + minute * 60_000).toISOString();

const c = usePlatform(() => startTestPlatform());

const send = (batch: readonly Call[]): Promise<void> => sendBatch(c, batch);
const api = <T = Record<string, unknown>>(
  method: string,
  path: string,
  body?: unknown,
): ReturnType<typeof adminApi<T>> => adminApi<T>(c, method, path, body);

const lookupPath = ([type, value]: Id, events = 20): string =>
  `/v1/persons/lookup?type=${encodeURIComponent(type)}&value=${encodeURIComponent(value)}&events=${events}`;

async function lookup(id: Id): Promise<Person | undefined> {
  const r = await api<Person>('GET', lookupPath(id));
  if (r.status === 404) return undefined;
  expect(r.status, r.text).toBe(200);
  return r.json;
}

async function getPerson(oneId: string, events = 20): Promise<Person> {
  const r = await api<Person>('GET', `/v1/persons/${encodeURIComponent(oneId)}?events=${events}`);
  expect(r.status, r.text).toBe(200);
  return r.json;
}

/** Waits until the messages of a run are loaded; person_id per message suffix. */
async function personIds(run: string, n: number): Promise<Map<string, string>> {
  const rows = await waitFor(
    async () => {
      const r = await sql<{ message_id: string; person_id: string }>(
        c,
        'SELECT message_id, person_id FROM events_by_person WHERE message_id LIKE {p:String}',
        { p: `${run}-%` },
      );
      expect(r).toHaveLength(n);
      return r;
    },
    { timeoutMs: 20_000, what: `${n} events of ${run}` },
  );
  return new Map(rows.map((r) => [r.message_id.slice(run.length + 1), r.person_id]));
}

interface ResolutionCase {
  name: string;
  /** Batches sent one after the other, each loaded before the next. */
  steps: (run: string) => Call[][];
  /** The people the events must make: their identifiers and events (message suffixes). */
  people: (run: string) => { ids: Id[]; messages: string[] }[];
  /** Audit reasons that must show in the audit trail of these people. */
  auditReasons?: string[];
}

const identify = (m: string, minute: number, fields: Record<string, unknown>): Call => ({
  type: 'identify',
  messageId: m,
  timestamp: at(minute),
  ...fields,
});
const track = (m: string, minute: number, fields: Record<string, unknown>): Call => ({
  type: 'track',
  event: 'Product Viewed',
  messageId: m,
  timestamp: at(minute),
  properties: { sku: m },
  ...fields,
});

const cases: ResolutionCase[] = [
  {
    name: 'anonymous browsing then login: every earlier event resolves to the person',
    steps: (r) => [
      [
        { type: 'page', messageId: `${r}-1`, anonymousId: `anon-${r}`, timestamp: at(0) },
        track(`${r}-2`, 1, { anonymousId: `anon-${r}` }),
      ],
      [
        identify(`${r}-3`, 2, { anonymousId: `anon-${r}`, userId: `u-${r}` }),
        track(`${r}-4`, 3, { userId: `u-${r}`, event: 'Order Completed' }),
      ],
    ],
    people: (r) => [
      {
        ids: [
          ['anonymous_id', `anon-${r}`],
          ['user_id', `u-${r}`],
        ],
        messages: ['1', '2', '3', '4'],
      },
    ],
  },
  {
    name: 'the same user on two devices is one person',
    steps: (r) => [
      [
        track(`${r}-1`, 0, { anonymousId: `phone-${r}`, context: { device: { id: `dev-${r}` } } }),
        track(`${r}-2`, 1, { anonymousId: `laptop-${r}` }),
      ],
      [
        identify(`${r}-3`, 2, { anonymousId: `phone-${r}`, userId: `u-${r}` }),
        identify(`${r}-4`, 3, { anonymousId: `laptop-${r}`, userId: `u-${r}` }),
      ],
    ],
    people: (r) => [
      {
        ids: [
          ['anonymous_id', `phone-${r}`],
          ['anonymous_id', `laptop-${r}`],
          ['device_id', `dev-${r}`],
          ['user_id', `u-${r}`],
        ],
        messages: ['1', '2', '3', '4'],
      },
    ],
  },
  {
    name: 'a shared family tablet never welds two logged-in users together; the refusal is audited',
    steps: (r) => [
      [identify(`${r}-1`, 0, { anonymousId: `tablet-${r}`, userId: `mum-${r}` })],
      [
        identify(`${r}-2`, 1, { anonymousId: `tablet-${r}`, userId: `kid-${r}` }),
        track(`${r}-3`, 2, { userId: `mum-${r}` }),
        track(`${r}-4`, 3, { userId: `kid-${r}` }),
      ],
    ],
    people: (r) => [
      {
        ids: [
          ['user_id', `mum-${r}`],
          ['anonymous_id', `tablet-${r}`],
        ],
        messages: ['1', '3'],
      },
      { ids: [['user_id', `kid-${r}`]], messages: ['2', '4'] },
    ],
    auditReasons: ['user_id_conflict'],
  },
  {
    name: 'junk ids (userId "null", "undefined", "0", an all-zero anonymousId) link nobody',
    steps: (r) => [
      [
        track(`${r}-1`, 0, { anonymousId: `a1-${r}`, userId: 'null' }),
        track(`${r}-2`, 1, { anonymousId: `a2-${r}`, userId: 'null' }),
        track(`${r}-3`, 2, { anonymousId: `a3-${r}`, userId: 'undefined' }),
        track(`${r}-4`, 3, { anonymousId: `a4-${r}`, userId: '0' }),
        track(`${r}-5`, 4, {
          anonymousId: '00000000-0000-0000-0000-000000000000',
          userId: `j1-${r}`,
        }),
        track(`${r}-6`, 5, {
          anonymousId: '00000000-0000-0000-0000-000000000000',
          userId: `j2-${r}`,
        }),
      ],
    ],
    people: (r) => [
      { ids: [['anonymous_id', `a1-${r}`]], messages: ['1'] },
      { ids: [['anonymous_id', `a2-${r}`]], messages: ['2'] },
      { ids: [['anonymous_id', `a3-${r}`]], messages: ['3'] },
      { ids: [['anonymous_id', `a4-${r}`]], messages: ['4'] },
      { ids: [['user_id', `j1-${r}`]], messages: ['5'] },
      { ids: [['user_id', `j2-${r}`]], messages: ['6'] },
    ],
  },
  {
    name: 'merge chains: A into B into C resolve to one person, every identifier finds it',
    steps: (r) => [
      [
        { type: 'page', messageId: `${r}-1`, anonymousId: `A-${r}`, timestamp: at(0) },
        { type: 'page', messageId: `${r}-2`, anonymousId: `B-${r}`, timestamp: at(1) },
        { type: 'page', messageId: `${r}-3`, anonymousId: `C-${r}`, timestamp: at(2) },
      ],
      [
        identify(`${r}-4`, 3, { anonymousId: `A-${r}`, traits: { email: `chain-${r}@x.example` } }),
        identify(`${r}-5`, 4, { anonymousId: `B-${r}`, traits: { email: `chain-${r}@x.example` } }),
      ],
      [
        identify(`${r}-6`, 5, { anonymousId: `C-${r}`, userId: `u-${r}` }),
        identify(`${r}-7`, 6, { anonymousId: `B-${r}`, userId: `u-${r}` }),
      ],
    ],
    people: (r) => [
      {
        ids: [
          ['anonymous_id', `A-${r}`],
          ['anonymous_id', `B-${r}`],
          ['anonymous_id', `C-${r}`],
          ['email', `chain-${r}@x.example`],
          ['user_id', `u-${r}`],
        ],
        messages: ['1', '2', '3', '4', '5', '6', '7'],
      },
    ],
  },
  {
    name: 'identify arriving before the anonymous events it covers',
    steps: (r) => [
      [identify(`${r}-1`, 5, { anonymousId: `early-${r}`, userId: `u-${r}` })],
      [
        track(`${r}-2`, 1, { anonymousId: `early-${r}` }),
        track(`${r}-3`, 2, { anonymousId: `early-${r}` }),
      ],
    ],
    people: (r) => [
      {
        ids: [
          ['user_id', `u-${r}`],
          ['anonymous_id', `early-${r}`],
        ],
        messages: ['1', '2', '3'],
      },
    ],
  },
  {
    name: 'identify arriving after the anonymous events it covers',
    steps: (r) => [
      [
        track(`${r}-1`, 1, { anonymousId: `late-${r}` }),
        track(`${r}-2`, 2, { anonymousId: `late-${r}` }),
      ],
      [identify(`${r}-3`, 3, { anonymousId: `late-${r}`, userId: `u-${r}` })],
    ],
    people: (r) => [
      {
        ids: [
          ['user_id', `u-${r}`],
          ['anonymous_id', `late-${r}`],
        ],
        messages: ['1', '2', '3'],
      },
    ],
  },
  {
    name: 'alias links previousId (an anonymous id) to userId',
    steps: (r) => [
      [track(`${r}-1`, 0, { anonymousId: `prev-${r}` })],
      [
        {
          type: 'alias',
          messageId: `${r}-2`,
          previousId: `prev-${r}`,
          userId: `u-${r}`,
          timestamp: at(1),
        },
        track(`${r}-3`, 2, { userId: `u-${r}` }),
      ],
    ],
    people: (r) => [
      {
        ids: [
          ['anonymous_id', `prev-${r}`],
          ['user_id', `u-${r}`],
        ],
        messages: ['1', '2', '3'],
      },
    ],
  },
  {
    name: 'email and phone written differently resolve to the same person',
    steps: (r) => [
      [
        identify(`${r}-1`, 0, {
          anonymousId: `e1-${r}`,
          traits: { email: ` Ada.${r}@Example.COM ` },
        }),
        identify(`${r}-2`, 1, {
          anonymousId: `e2-${r}`,
          traits: { email: `ada.${r}@example.com` },
        }),
        identify(`${r}-3`, 2, { anonymousId: `p1-${r}`, traits: { phone: '+44 20 7946 0958' } }),
        identify(`${r}-4`, 3, { anonymousId: `p2-${r}`, traits: { phone: '+442079460958' } }),
      ],
    ],
    people: (r) => [
      {
        ids: [
          ['anonymous_id', `e1-${r}`],
          ['anonymous_id', `e2-${r}`],
          ['email', `ADA.${r}@example.com`],
          ['email', `ada.${r}@example.com`],
        ],
        messages: ['1', '2'],
      },
      {
        ids: [
          ['anonymous_id', `p1-${r}`],
          ['anonymous_id', `p2-${r}`],
          ['phone', '+44 20 7946 0958'],
          ['phone', '+442079460958'],
        ],
        messages: ['3', '4'],
      },
    ],
  },
];

describe('Person API: resolution seen through lookups, the person and events_by_person', () => {
  it.each(cases)('$name', async (k) => {
    const run = uid();
    let sent = 0;
    for (const batch of k.steps(run)) {
      await send(batch);
      sent += batch.length;
      await personIds(run, sent);
    }
    const people = k.people(run);
    // Merges land through the loader a moment after the events: wait for the
    // final picture, then check it all at once.
    const found = await waitFor(
      async () => {
        const oneIds: string[] = [];
        for (const p of people) {
          const seen = new Set<string>();
          for (const id of p.ids) {
            const person = await lookup(id);
            expect(person, `lookup ${id.join(' ')}`).toBeDefined();
            seen.add(person?.oneId ?? '');
          }
          expect(
            [...seen],
            `one person for ${p.ids.map((i) => i.join(' ')).join(', ')}`,
          ).toHaveLength(1);
          oneIds.push([...seen][0] ?? '');
        }
        expect(new Set(oneIds).size, 'different people stay apart').toBe(people.length);
        const byMessage = await personIds(run, sent);
        people.forEach((p, i) => {
          for (const m of p.messages) expect(byMessage.get(m), `event ${m}`).toBe(oneIds[i]);
        });
        return oneIds;
      },
      { timeoutMs: 20_000, what: k.name },
    );
    const audits: Audit[] = [];
    for (const [i, oneId] of found.entries()) {
      const p = await getPerson(oneId);
      expect(p.oneId).toBe(oneId);
      expect(p.eventCount, `events of person ${i}`).toBe(people[i]?.messages.length);
      for (const id of p.identifiers) {
        expect(id.hashed).toBe(id.type === 'email' || id.type === 'phone');
        if (id.hashed) expect(id.value).toMatch(/^[0-9a-f]{64}$/);
      }
      audits.push(...p.audit);
    }
    for (const reason of k.auditReasons ?? [])
      expect(audits.map((a) => a.reason)).toContain(reason);
  });
});

describe('Person API: reading a person', () => {
  it('answers the canonical person for a merged id, with identifiers, latest traits, events and audit', async () => {
    const run = uid();
    await send([
      track(`${run}-1`, 0, { anonymousId: `a-${run}`, properties: { price: 10 } }),
      identify(`${run}-2`, 1, {
        anonymousId: `b-${run}`,
        traits: { plan: 'free', name: 'Ada', email: `ada-${run}@example.com` },
      }),
    ]);
    const before = await personIds(run, 2);
    const first = before.get('1') ?? '';
    await send([
      identify(`${run}-3`, 2, {
        anonymousId: `a-${run}`,
        userId: `u-${run}`,
        traits: { plan: 'pro' },
      }),
      identify(`${run}-4`, 3, {
        anonymousId: `b-${run}`,
        userId: `u-${run}`,
        traits: { company: null },
      }),
    ]);
    const person = await waitFor(
      async () => {
        const p = await lookup(['user_id', `u-${run}`]);
        expect(p?.mergedIds.length).toBeGreaterThanOrEqual(1);
        expect(p?.eventCount).toBe(4);
        expect(p?.identifiers).toHaveLength(4);
        return p as Person;
      },
      { timeoutMs: 20_000 },
    );
    const merged = person.mergedIds[0] ?? '';
    const viaMerged = await getPerson(merged, 2);
    expect(viaMerged).toMatchObject({ oneId: person.oneId, requested: merged });
    expect(viaMerged.events.map((e) => e.messageId)).toEqual([`${run}-4`, `${run}-3`]);
    expect(person.traits).toEqual({ plan: 'pro', name: 'Ada', email: `ada-${run}@example.com` });
    expect(person.firstSeen).toBe(at(0));
    expect(person.lastSeen).toBe(at(3));
    expect(person.events.find((e) => e.messageId === `${run}-1`)?.properties).toEqual({
      price: 10,
    });
    expect(person.identifiers.map((i) => `${i.type}:${i.value}`).sort()).toEqual(
      [
        `anonymous_id:a-${run}`,
        `anonymous_id:b-${run}`,
        `email:${sha256Hex(`ada-${run}@example.com`)}`,
        `user_id:u-${run}`,
      ].sort(),
    );
    expect(person.audit.filter((a) => a.kind === 'merge').length).toBeGreaterThanOrEqual(1);
    expect([person.oneId, ...person.mergedIds]).toContain(first);
    const all = await sql<{ n: number }>(
      c,
      'SELECT count() AS n FROM events_by_person WHERE person_id = {p:String}',
      { p: person.oneId },
    );
    expect(all).toEqual([{ n: 4 }]);
  });

  it.each([
    { id: ['user_id', 'null'] as Id, status: 400, field: 'value', says: 'junk_placeholder' },
    {
      id: ['anonymous_id', '00000000-0000-0000-0000-000000000000'] as Id,
      status: 400,
      field: 'value',
      says: 'junk_zeros',
    },
    { id: ['email', 'not an email'] as Id, status: 400, field: 'value', says: 'email_invalid' },
    { id: ['cookie', 'x'] as Id, status: 400, field: 'type', says: 'identifier_type_unknown' },
    { id: ['user_id', `nobody-${uid()}`] as Id, status: 404, field: 'value', says: 'No person' },
  ])('lookup $id.0 $id.1 answers $status', async ({ id, status, field, says }) => {
    const r = await api<{ code: string; field: string; message: string }>('GET', lookupPath(id));
    expect(r.status).toBe(status);
    expect(r.json.field).toBe(field);
    expect(r.json.message).toContain(says);
    expect(r.json.code).toBe(
      status === 404 ? 'CDP_ERR_API_NOT_FOUND' : 'CDP_ERR_IDENTITY_INVALID_IDENTIFIER',
    );
  });

  it('answers 404 for an unknown person and refuses a write key', async () => {
    expect((await api('GET', `/v1/persons/nobody-${uid()}`)).status).toBe(404);
    const r = await fetch(`${c.url}/v1/persons/nobody`, {
      headers: { authorization: `Basic ${Buffer.from(`${c.writeKey}:`).toString('base64')}` },
    });
    expect(r.status).toBe(401);
  });
});

describe('Person API: erasing a person that was split off', () => {
  it('leaves no version of its identifiers or events behind, and the graph still reloads', async () => {
    const run = uid();
    const A1 = `keep-${run}`;
    const A2 = `erase-${run}`;
    await send([
      identify(`${run}-1`, 0, { anonymousId: A1, userId: `u-${run}` }),
      identify(`${run}-2`, 1, { anonymousId: A2, userId: `u-${run}` }),
      track(`${run}-3`, 2, { anonymousId: A2 }),
    ]);
    const person = await waitFor(
      async () => {
        const p = await lookup(['anonymous_id', A2]);
        expect(p?.identifiers.map((i) => i.value).sort()).toEqual([A1, A2, `u-${run}`].sort());
        return p as Person;
      },
      { timeoutMs: 20_000 },
    );
    const split = await api<{ oneId: string }>('POST', `/v1/persons/${person.oneId}/split`, {
      identifiers: [{ type: 'anonymous_id', value: A2 }],
    });
    expect(split.status, split.text).toBe(200);
    const erased = await api('DELETE', `/v1/persons/${split.json.oneId}`);
    expect(erased.status, erased.text).toBe(200);
    // No version of the erased identifier is left, under any person.
    const rows = await sql(c, 'SELECT one_id FROM identities WHERE id_value = {v:String}', {
      v: A2,
    });
    expect(rows).toEqual([]);
    expect(await lookup(['anonymous_id', A2])).toBeUndefined();
    expect((await lookup(['anonymous_id', A1]))?.oneId).toBe(person.oneId);
    // The resolver can still load the graph (the split's block pointed at the erased person).
    const { loadSnapshot } = await import('@cdp/identity-service');
    const { importIdentityGraph } = await import('@cdp/identity');
    const snapshot = await loadSnapshot(c.platform.warehouse);
    expect(() => importIdentityGraph(snapshot)).not.toThrow();
  });
});

describe('Person API: split', () => {
  it('moves identifiers and their events to a new person, and a later event with the same link does not re-merge', async () => {
    const run = uid();
    const U = `u-${run}`;
    const A1 = `laptop-${run}`;
    const A2 = `shared-${run}`;
    await send([
      identify(`${run}-1`, 0, { anonymousId: A1, userId: U }),
      track(`${run}-2`, 1, { anonymousId: A1 }),
      track(`${run}-3`, 2, { anonymousId: A2 }),
    ]);
    await personIds(run, 3);
    await send([
      identify(`${run}-4`, 3, { anonymousId: A2, userId: U }),
      track(`${run}-5`, 4, { anonymousId: A2 }),
    ]);
    const person = await waitFor(
      async () => {
        const p = await lookup(['user_id', U]);
        expect(p?.identifiers.map((i) => i.value).sort()).toEqual([A1, A2, U].sort());
        expect((await lookup(['anonymous_id', A2]))?.oneId).toBe(p?.oneId);
        const ids = await personIds(run, 5);
        expect(new Set(ids.values()).size).toBe(1);
        return p as Person;
      },
      { timeoutMs: 20_000 },
    );

    // Refusals come back from the resolver.
    const notHeld = await api('POST', `/v1/persons/${person.oneId}/split`, {
      identifiers: [{ type: 'anonymous_id', value: `other-${run}` }],
    });
    expect(notHeld.status).toBe(409);
    expect(notHeld.json).toMatchObject({ code: 'CDP_ERR_IDENTITY_OPERATION_REFUSED' });
    expect(String(notHeld.json['message'])).toContain('identifier_not_in_person');
    const everything = await api('POST', `/v1/persons/${person.oneId}/split`, {
      identifiers: person.identifiers.map((i) => ({ type: i.type, value: i.value })),
    });
    expect(everything.status).toBe(409);
    expect(String(everything.json['message'])).toContain('split_all');
    const unknown = await api('POST', `/v1/persons/nobody-${run}/split`, {
      identifiers: [{ type: 'anonymous_id', value: A2 }],
    });
    expect(unknown.status).toBe(404);

    const split = await api<{ from: string; oneId: string; moved: unknown[]; eventsMoved: number }>(
      'POST',
      `/v1/persons/${person.oneId}/split`,
      { identifiers: [{ type: 'anonymous_id', value: A2 }] },
    );
    expect(split.status, split.text).toBe(200);
    expect(split.json).toMatchObject({
      from: person.oneId,
      moved: [{ type: 'anonymous_id', value: A2, hashed: false }],
      // The two events with only A2; the login that carried U and A2 stays with U.
      eventsMoved: 2,
    });
    const newId = split.json.oneId;
    expect(newId).not.toBe(person.oneId);

    const after = await personIds(run, 5);
    expect(Object.fromEntries(after)).toEqual({
      '1': person.oneId,
      '2': person.oneId,
      '3': newId,
      '4': person.oneId,
      '5': newId,
    });
    expect((await lookup(['anonymous_id', A2]))?.oneId).toBe(newId);
    const moved = await getPerson(newId);
    expect(moved.identifiers.map((i) => i.value)).toEqual([A2]);
    expect(moved.eventCount).toBe(2);

    // The same link again: refused with split_block, nothing re-merges.
    await send([identify(`${run}-6`, 5, { anonymousId: A2, userId: U })]);
    const kept = await waitFor(
      async () => {
        const p = await getPerson(person.oneId);
        expect(p.audit.map((a) => a.reason)).toContain('split_block');
        return p;
      },
      { timeoutMs: 20_000 },
    );
    // The refused attempts above are on the trail too, with their reasons.
    expect(kept.audit.filter((a) => a.kind === 'split').map((a) => a.reason)).toEqual([
      'identifier_not_in_person',
      'split_all',
      'manual_split',
    ]);
    expect(kept.audit.filter((a) => a.reason === 'manual_split')).toEqual([
      expect.objectContaining({
        oneId: person.oneId,
        otherId: newId,
        identifierType: 'anonymous_id',
        identifierHash: sha256Hex(A2),
        reason: 'manual_split',
      }),
    ]);
    expect((await lookup(['anonymous_id', A2]))?.oneId).toBe(newId);
    expect((await lookup(['user_id', U]))?.oneId).toBe(person.oneId);
    expect((await personIds(run, 6)).get('6')).toBe(person.oneId);
  });
});

describe('Person API: GDPR export and delete', () => {
  it('exports everything as NDJSON, then erases the person; the same anonymousId later starts a new person', async () => {
    const run = uid();
    const G1 = `g1-${run}`;
    const G2 = `g2-${run}`;
    const U = `gu-${run}`;
    await send([
      track(`${run}-1`, 0, { anonymousId: G1, properties: { note: 'line\nbreak' } }),
      track(`${run}-2`, 1, { anonymousId: G2 }),
    ]);
    await personIds(run, 2);
    await send([
      identify(`${run}-3`, 2, {
        anonymousId: G1,
        userId: U,
        traits: { email: `g-${run}@example.com` },
      }),
      identify(`${run}-4`, 3, { anonymousId: G2, userId: U }),
    ]);
    const person = await waitFor(
      async () => {
        const p = await lookup(['user_id', U]);
        expect(p?.eventCount).toBe(4);
        expect(p?.mergedIds).toHaveLength(1);
        expect(p?.identifiers).toHaveLength(4);
        return p as Person;
      },
      { timeoutMs: 20_000 },
    );

    const exp = await api('GET', `/v1/persons/${person.oneId}/export`);
    expect(exp.status).toBe(200);
    expect(exp.type).toContain('application/x-ndjson');
    const lines = exp.text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ kind: 'person', oneId: person.oneId, eventCount: 4 });
    expect(lines[0]).not.toHaveProperty('events');
    const of = (kind: string): Record<string, unknown>[] => lines.filter((l) => l['kind'] === kind);
    expect(of('identifier').map((l) => l['value'])).toEqual(
      expect.arrayContaining([G1, G2, U, sha256Hex(`g-${run}@example.com`)]),
    );
    const events = of('event');
    expect(events.map((e) => e['message_id']).sort()).toEqual(
      ['1', '2', '3', '4'].map((m) => `${run}-${m}`),
    );
    expect(events[0]).toMatchObject({
      person_id: person.oneId,
      anonymous_id: G1,
      properties: { note: 'line\nbreak' },
      context: expect.any(Object),
    });
    expect(Object.keys(events[0] ?? {})).toEqual(
      expect.arrayContaining(['source_id', 'received_at', 'channel', 'ip', 'user_agent', 'traits']),
    );
    expect(of('audit').length).toBeGreaterThanOrEqual(1);

    const del = await api<{ deleted: string; retiredIds: string[]; eventsDeleted: number }>(
      'DELETE',
      `/v1/persons/${person.oneId}`,
    );
    expect(del.status, del.text).toBe(200);
    expect(del.json).toEqual({
      deleted: person.oneId,
      retiredIds: [person.oneId, ...person.mergedIds],
      eventsDeleted: 4,
    });
    const ids = del.json.retiredIds;

    const left = async (q: string): Promise<number> =>
      Number((await sql<{ n: number }>(c, q, { ids }))[0]?.n);
    expect(await left('SELECT count() AS n FROM events WHERE one_id IN {ids:Array(String)}')).toBe(
      0,
    );
    expect(
      (await sql(c, 'SELECT 1 FROM events WHERE message_id LIKE {p:String}', { p: `${run}-%` }))
        .length,
    ).toBe(0);
    expect(
      await left('SELECT count() AS n FROM identities WHERE one_id IN {ids:Array(String)}'),
    ).toBe(0);
    expect(
      await left(
        'SELECT count() AS n FROM person_overrides FINAL WHERE from_one_id IN {ids:Array(String)} OR into_one_id IN {ids:Array(String)}',
      ),
    ).toBe(0);
    expect(
      await sql(
        c,
        'SELECT kind, reason FROM identity_audit WHERE one_id IN {ids:Array(String)} OR other_id IN {ids:Array(String)}',
        { ids },
      ),
    ).toEqual([{ kind: 'delete', reason: 'gdpr_delete' }]);
    expect(
      await left(
        'SELECT count() AS n FROM identity_tombstones WHERE one_id IN {ids:Array(String)}',
      ),
    ).toBe(ids.length);
    expect((await api('GET', `/v1/persons/${person.oneId}`)).status).toBe(404);
    expect(await lookup(['user_id', U])).toBeUndefined();
    expect(await lookup(['anonymous_id', G1])).toBeUndefined();
    expect((await api('DELETE', `/v1/persons/${person.oneId}`)).status).toBe(404);

    await send([track(`${run}-5`, 10, { anonymousId: G1 })]);
    const reborn = await waitFor(
      async () => {
        const p = await lookup(['anonymous_id', G1]);
        expect(p?.eventCount).toBe(1);
        return p as Person;
      },
      { timeoutMs: 20_000 },
    );
    expect(ids).not.toContain(reborn.oneId);
    expect((await personIds(run, 1)).get('5')).toBe(reborn.oneId);
  });
});

describe('cdp persons (the built CLI)', () => {
  it('looks up, reads, exports and deletes a person', async () => {
    expect(existsSync(BIN), `${BIN} missing: run npm run build`).toBe(true);
    const run = uid();
    await send([identify(`${run}-1`, 0, { anonymousId: `cli-${run}`, userId: `cli-u-${run}` })]);
    await personIds(run, 1);
    const cli = async (...args: string[]): Promise<string> => {
      const env = Object.fromEntries(
        Object.entries(process.env).filter(([k]) => !k.startsWith('CDP_')),
      );
      const { stdout } = await run$(process.execPath, [BIN, 'persons', ...args], {
        env: { ...env, CDP_URL: c.url, CDP_ADMIN_TOKEN: c.admin },
      });
      return stdout;
    };
    const found = await waitFor(
      async () => JSON.parse(await cli('lookup', 'user_id', `cli-u-${run}`)) as Person,
      { timeoutMs: 20_000 },
    );
    const got = JSON.parse(await cli('get', found.oneId, '--events', '1')) as Person;
    expect(got).toMatchObject({ oneId: found.oneId, eventCount: 1 });
    expect(got.events).toHaveLength(1);
    const exported = (await cli('export', found.oneId)).trimEnd().split('\n');
    expect(JSON.parse(exported[0] ?? '{}')).toMatchObject({ kind: 'person', oneId: found.oneId });
    expect(await cli('delete', found.oneId)).toBe(
      `deleted person ${found.oneId}: 1 event(s) erased, ids retired: ${found.oneId}\n`,
    );
    await expect(cli('get', found.oneId)).rejects.toThrow(/404 CDP_ERR_API_NOT_FOUND/);
  });
});
