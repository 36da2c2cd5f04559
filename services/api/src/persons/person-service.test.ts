import { describe, expect, it } from 'vitest';
import { CdpError } from '@cdp/core';
import type { ProduceRecord } from '@cdp/bus';
import { sha256Hex, type LinkMessage } from '@cdp/identity';
import type { EventMoveRule } from './event-moves.js';
import { createPersonService, EXPORT_PAGE_SIZE, type PersonServiceDeps } from './person-service.js';
import type {
  AuditRecord,
  EventCursor,
  EventStats,
  EventSummaryRecord,
  IdentityRecord,
  PersonStore,
} from './person-store.js';

const T0 = Date.parse('2024-03-01T12:00:00.000Z');
const iso = (ms: number): string => new Date(ms).toISOString();

interface FakeEvent {
  messageId: string;
  oneId: string;
  type: string;
  timestamp: number;
  traits?: string;
}

/** An in-memory PersonStore with the same meaning as the warehouse one. */
class FakeStore implements PersonStore {
  overrides = new Map<string, string>();
  identities: IdentityRecord[] = [];
  events: FakeEvent[] = [];
  auditRows: AuditRecord[] = [];
  polls = 0;
  moves: { ids: readonly string[]; rule: EventMoveRule; into: string }[] = [];
  erased: (readonly string[])[] = [];
  /** Called on every poll of the answer: a fake resolver writes its rows here. */
  onPoll: (requestId: string) => void = () => {};

  async canonicalOf(oneId: string): Promise<string> {
    return this.overrides.get(oneId) ?? oneId;
  }
  async mergedInto(canonical: string): Promise<string[]> {
    return [...this.overrides]
      .filter(([, into]) => into === canonical)
      .map(([f]) => f)
      .sort();
  }
  async personOf(type: string, value: string): Promise<string | undefined> {
    return this.identities.find((i) => i.type === type && i.value === value)?.oneId;
  }
  async identifiers(ids: readonly string[]): Promise<IdentityRecord[]> {
    return this.identities.filter((i) => ids.includes(i.oneId));
  }
  #events(ids: readonly string[]): FakeEvent[] {
    return this.events
      .filter((e) => ids.includes(e.oneId))
      .sort((a, b) => a.timestamp - b.timestamp || a.messageId.localeCompare(b.messageId));
  }
  async eventStats(ids: readonly string[]): Promise<EventStats> {
    const es = this.#events(ids);
    return es.length === 0
      ? { count: 0, firstSeen: undefined, lastSeen: undefined }
      : {
          count: es.length,
          firstSeen: iso(es[0]?.timestamp ?? 0),
          lastSeen: iso(es.at(-1)?.timestamp ?? 0),
        };
  }
  async identifyTraits(ids: readonly string[]): Promise<string[]> {
    return this.#events(ids)
      .filter((e) => e.type === 'identify')
      .map((e) => e.traits ?? '{}');
  }
  async recentEvents(ids: readonly string[], limit: number): Promise<EventSummaryRecord[]> {
    return this.#events(ids)
      .reverse()
      .slice(0, limit)
      .map((e) => ({
        messageId: e.messageId,
        type: e.type,
        event: '',
        timestamp: iso(e.timestamp),
        channel: 'Direct',
        properties: '{}',
      }));
  }
  async eventPage(
    ids: readonly string[],
    after: EventCursor | undefined,
    limit: number,
  ): Promise<Record<string, unknown>[]> {
    const all = this.#events(ids);
    const start =
      after === undefined ? 0 : all.findIndex((e) => e.messageId === after.messageId) + 1;
    return all.slice(start, start + limit).map((e) => ({
      message_id: e.messageId,
      one_id: e.oneId,
      timestamp: iso(e.timestamp),
      source_id: 's',
      anonymous_id: '',
      user_id: '',
    }));
  }
  async audit(ids: readonly string[], limit?: number): Promise<AuditRecord[]> {
    const rows = this.auditRows.filter((a) => ids.includes(a.oneId) || ids.includes(a.otherId));
    return limit === undefined ? rows : rows.slice(-limit);
  }
  async auditOfRequest(requestId: string, kind: string): Promise<AuditRecord[]> {
    this.polls++;
    this.onPoll(requestId);
    return this.auditRows.filter((a) => a.requestId === requestId && a.kind === kind);
  }
  async moveEvents(ids: readonly string[], rule: EventMoveRule, into: string): Promise<number> {
    this.moves.push({ ids, rule, into });
    return 2;
  }
  async deadLetters(): Promise<Record<string, unknown>[]> {
    return [];
  }
  async erase(ids: readonly string[]): Promise<number> {
    this.erased.push(ids);
    const n = this.events.filter((e) => ids.includes(e.oneId)).length;
    this.events = this.events.filter((e) => !ids.includes(e.oneId));
    this.identities = this.identities.filter((i) => !ids.includes(i.oneId));
    return n;
  }
}

const identity = (oneId: string, type: string, value: string): IdentityRecord => ({
  oneId,
  type,
  value,
  firstSeen: iso(T0),
  lastSeen: iso(T0),
});

const auditRow = (r: Partial<AuditRecord> & Pick<AuditRecord, 'kind' | 'reason'>): AuditRecord => ({
  at: iso(T0),
  oneId: '',
  otherId: '',
  identifierType: '',
  identifierHash: '',
  requestId: '',
  ...r,
});

/** A store holding person P (merged from M) with user u1 and anonymous ids a1, a2; and a service over it. */
function setup(over: Partial<PersonServiceDeps> = {}): {
  store: FakeStore;
  sent: { topic: string; records: readonly ProduceRecord[] }[];
  /** The topics of each `purgeConsumed` call, in order. */
  purged: (readonly string[])[];
  commands: () => LinkMessage[];
  service: ReturnType<typeof createPersonService>;
  clock: { t: number };
} {
  const store = new FakeStore();
  store.overrides.set('M', 'P');
  store.identities.push(
    identity('P', 'user_id', 'u1'),
    identity('P', 'anonymous_id', 'a1'),
    identity('P', 'anonymous_id', 'a2'),
    identity('P', 'email', sha256Hex('ada@example.com')),
  );
  store.events.push(
    { messageId: 'e1', oneId: 'M', type: 'page', timestamp: T0 },
    {
      messageId: 'e2',
      oneId: 'P',
      type: 'identify',
      timestamp: T0 + 1,
      traits: '{"plan":"free","name":"Ada"}',
    },
    { messageId: 'e3', oneId: 'P', type: 'identify', timestamp: T0 + 2, traits: '{"plan":"pro"}' },
  );
  store.auditRows.push(auditRow({ kind: 'merge', oneId: 'P', otherId: 'M', reason: 'identify' }));
  const sent: { topic: string; records: readonly ProduceRecord[] }[] = [];
  const purged: (readonly string[])[] = [];
  const clock = { t: 0 };
  let n = 0;
  const service = createPersonService({
    store,
    bus: {
      produce: async (topic, records) => {
        sent.push({ topic, records });
      },
      purgeConsumed: async (topics) => {
        // After the warehouse's erase, never before it.
        expect(store.erased.length).toBeGreaterThan(purged.length);
        purged.push(topics);
        return topics.length;
      },
    },
    linksTopic: 'cdp.identity.links',
    erasedTopics: ['cdp.events.raw', 'cdp.identity.links'],
    now: () => T0 + 1000,
    eraseAgainAfterMs: 0,
    newRequestId: () => `req-${++n}`,
    sleep: async (ms) => {
      clock.t += ms;
    },
    monotonic: () => clock.t,
    ...over,
  });
  const commands = (): LinkMessage[] =>
    sent.flatMap((s) => s.records.map((r) => JSON.parse(String(r.value)) as LinkMessage));
  return { store, sent, purged, commands, service, clock };
}

async function rejection(p: Promise<unknown>): Promise<CdpError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof CdpError) return e;
    throw e;
  }
  throw new Error('expected a CdpError');
}

describe('Person service: reads', () => {
  it('answers the canonical person for a merged id, with merged ids, traits, counts and audit', async () => {
    const { service } = setup();
    const p = await service.get('M', 2);
    expect(p).toMatchObject({
      oneId: 'P',
      requested: 'M',
      mergedIds: ['M'],
      traits: { plan: 'pro', name: 'Ada' },
      eventCount: 3,
      firstSeen: iso(T0),
      lastSeen: iso(T0 + 2),
      audit: [{ kind: 'merge', oneId: 'P', otherId: 'M', reason: 'identify' }],
    });
    expect(p.events.map((e) => e.messageId)).toEqual(['e3', 'e2']);
    expect(p.identifiers.find((i) => i.type === 'email')).toMatchObject({ hashed: true });
    expect(p.identifiers.find((i) => i.type === 'user_id')).toMatchObject({
      value: 'u1',
      hashed: false,
    });
    expect(await service.get('P', 0)).not.toHaveProperty('requested');
  });

  it('refuses an empty id: junk-only events carry one, and they are nobody', async () => {
    const { store, service } = setup();
    store.events.push({ messageId: 'j1', oneId: '', type: 'track', timestamp: T0 });
    for (const p of [service.get(' ', 20), service.remove(''), service.exportPerson('')])
      expect(await rejection(p)).toMatchObject({ code: 'CDP_ERR_API_BAD_REQUEST', field: 'oneId' });
    expect(store.erased).toEqual([]);
  });

  it('answers 404 for an id with neither identifiers nor events', async () => {
    const { service } = setup();
    expect(await rejection(service.get('nobody', 20))).toMatchObject({
      code: 'CDP_ERR_API_NOT_FOUND',
      statusCode: 404,
    });
  });

  it('looks up by identifier, normalising and hashing email on the server', async () => {
    const { service } = setup();
    expect((await service.lookup('email', ' Ada@Example.COM ', 0)).oneId).toBe('P');
    expect((await service.lookup('anonymous_id', 'a2', 0)).oneId).toBe('P');
    expect(await rejection(service.lookup('anonymous_id', 'a9', 0))).toMatchObject({
      code: 'CDP_ERR_API_NOT_FOUND',
    });
    expect(await rejection(service.lookup('email', 'nope', 0))).toMatchObject({
      code: 'CDP_ERR_IDENTITY_INVALID_IDENTIFIER',
      field: 'value',
    });
  });

  it('exports page by page until a short page', async () => {
    const { store, service } = setup();
    for (let i = 0; i < EXPORT_PAGE_SIZE + 1; i++)
      store.events.push({
        messageId: `x${String(i).padStart(5, '0')}`,
        oneId: 'P',
        type: 'track',
        timestamp: T0 + 10 + i,
      });
    let text = '';
    for await (const chunk of await service.exportPerson('P')) text += chunk;
    const kinds = text
      .trimEnd()
      .split('\n')
      .map((l) => (JSON.parse(l) as { kind: string }).kind);
    expect(kinds.filter((k) => k === 'event')).toHaveLength(EXPORT_PAGE_SIZE + 4);
    expect(kinds[0]).toBe('person');
    expect(kinds.at(-1)).toBe('audit');
    expect(await rejection(service.exportPerson('nobody'))).toMatchObject({ statusCode: 404 });
  });
});

describe('Person service: split', () => {
  it('sends a split command, waits for the answer, and re-stamps the events of the moved identifiers', async () => {
    const { store, sent, commands, service } = setup();
    store.onPoll = (requestId) => {
      // The resolver answers on the third poll.
      if (store.polls === 3)
        store.auditRows.push(
          auditRow({
            kind: 'split',
            reason: 'manual_split',
            oneId: 'P',
            otherId: 'N',
            identifierType: 'anonymous_id',
            identifierHash: sha256Hex('a2'),
            requestId,
          }),
        );
    };
    const answer = await service.split('M', {
      identifiers: [{ type: 'anonymous_id', value: 'a2' }],
    });
    expect(sent).toHaveLength(1);
    expect(sent[0]?.topic).toBe('cdp.identity.links');
    expect(sent[0]?.records[0]?.key).toBe('identity');
    expect(commands()).toEqual([
      {
        op: 'split',
        requestId: 'req-1',
        oneId: 'P',
        identifiers: [{ type: 'anonymous_id', value: 'a2' }],
        at: T0 + 1000,
      },
    ]);
    expect(answer).toEqual({
      from: 'P',
      oneId: 'N',
      moved: [{ type: 'anonymous_id', value: 'a2', hashed: false }],
      eventsMoved: 2,
    });
    expect(store.moves).toEqual([
      {
        ids: ['P', 'M'],
        into: 'N',
        rule: {
          columns: [
            { type: 'user_id', held: ['u1'], moved: [] },
            { type: 'anonymous_id', held: ['a1', 'a2'], moved: ['a2'] },
          ],
        },
      },
    ]);
  });

  it.each([
    { reason: 'split_all', code: 'CDP_ERR_IDENTITY_OPERATION_REFUSED', status: 409 },
    { reason: 'identifier_not_in_person', code: 'CDP_ERR_IDENTITY_OPERATION_REFUSED', status: 409 },
    { reason: 'nothing_to_split', code: 'CDP_ERR_IDENTITY_OPERATION_REFUSED', status: 409 },
    { reason: 'unknown_person', code: 'CDP_ERR_API_NOT_FOUND', status: 404 },
  ])(
    'answers $status $code when the resolver refuses with $reason',
    async ({ reason, code, status }) => {
      const { store, service } = setup();
      store.onPoll = (requestId) => {
        store.auditRows.push(auditRow({ kind: 'split', reason, oneId: 'P', requestId }));
      };
      const e = await rejection(
        service.split('P', { identifiers: [{ type: 'anonymous_id', value: 'a1' }] }),
      );
      expect({ code: e.code, status: e.statusCode }).toEqual({ code, status });
      if (status === 409) expect(e.message).toContain(reason);
      expect(store.moves).toEqual([]);
    },
  );

  it('answers a retryable 503 when the resolver does not answer in time, after polling every interval', async () => {
    const { store, service, clock } = setup({ answerTimeoutMs: 1000, pollIntervalMs: 100 });
    const e = await rejection(
      service.split('P', { identifiers: [{ type: 'anonymous_id', value: 'a1' }] }),
    );
    expect(e).toMatchObject({
      code: 'CDP_ERR_IDENTITY_UNAVAILABLE',
      statusCode: 503,
      retryable: true,
    });
    expect(store.polls).toBe(11);
    expect(clock.t).toBe(1000);
    expect(store.moves).toEqual([]);
  });

  it('validates the body before sending anything', async () => {
    const { sent, service } = setup();
    expect(
      await rejection(service.split('P', { identifiers: [{ type: 'user_id', value: 'null' }] })),
    ).toMatchObject({ code: 'CDP_ERR_IDENTITY_INVALID_IDENTIFIER', field: 'identifiers[0].value' });
    expect(sent).toEqual([]);
  });
});

describe('Person service: delete', () => {
  const answerWith =
    (store: FakeStore, reason: string) =>
    (requestId: string): void => {
      if (!store.auditRows.some((a) => a.requestId === requestId))
        store.auditRows.push(auditRow({ kind: 'delete', reason, oneId: 'P', requestId }));
    };

  it('sends a delete command for the canonical id, then erases every id of the person', async () => {
    const { store, commands, purged, service } = setup();
    store.onPoll = answerWith(store, 'gdpr_delete');
    expect(await service.remove('M')).toEqual({
      deleted: 'P',
      retiredIds: ['P', 'M'],
      eventsDeleted: 3,
    });
    expect(commands()).toEqual([{ op: 'delete', requestId: 'req-1', oneId: 'P', at: T0 + 1000 }]);
    expect(store.erased).toEqual([['P', 'M']]);
    // What the bus's consumers have read of the person goes too.
    expect(purged).toEqual([['cdp.events.raw', 'cdp.identity.links']]);
  });

  it('finishes an erase the resolver already did (unknown_person while rows remain): safe to retry', async () => {
    const { store, service } = setup();
    store.onPoll = answerWith(store, 'unknown_person');
    expect(await service.remove('P')).toMatchObject({ deleted: 'P', eventsDeleted: 3 });
  });

  it('answers 404 for a person nobody knows, erasing nothing', async () => {
    const { store, service } = setup();
    store.onPoll = (requestId) =>
      store.auditRows.push(
        auditRow({ kind: 'delete', reason: 'unknown_person', oneId: 'Z', requestId }),
      );
    expect(await rejection(service.remove('Z'))).toMatchObject({ code: 'CDP_ERR_API_NOT_FOUND' });
    expect(store.erased).toEqual([]);
  });

  it('answers 503 and erases nothing when the resolver does not answer', async () => {
    const { store, service } = setup({ answerTimeoutMs: 300 });
    expect(await rejection(service.remove('P'))).toMatchObject({
      code: 'CDP_ERR_IDENTITY_UNAVAILABLE',
      retryable: true,
    });
    expect(store.erased).toEqual([]);
  });
});
