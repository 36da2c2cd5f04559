import { describe, expect, it } from 'vitest';
import { eventLine, exportLines, ndjsonLine, personLine } from './export-lines.js';
import type { AuditView, PersonView } from './person-view.js';

const person: PersonView = {
  oneId: 'p-1',
  requested: 'p-0',
  mergedIds: ['p-0'],
  identifiers: [
    {
      type: 'user_id',
      value: 'u-1',
      hashed: false,
      firstSeen: '2024-01-01T00:00:00.000Z',
      lastSeen: '2024-01-02T00:00:00.000Z',
    },
    {
      type: 'email',
      value: 'ab'.repeat(32),
      hashed: true,
      firstSeen: '2024-01-01T00:00:00.000Z',
      lastSeen: '2024-01-01T00:00:00.000Z',
    },
  ],
  traits: { plan: 'pro' },
  firstSeen: '2024-01-01T00:00:00.000Z',
  lastSeen: '2024-01-02T00:00:00.000Z',
  eventCount: 3,
  events: [
    {
      messageId: 'm-3',
      type: 'track',
      event: 'x',
      timestamp: '2024-01-02T00:00:00.000Z',
      channel: 'Direct',
      properties: {},
    },
  ],
  audit: [],
};

const audit: AuditView[] = [
  {
    at: '2024-01-01T00:00:00.000Z',
    kind: 'merge',
    oneId: 'p-1',
    otherId: 'p-0',
    reason: 'identify',
  },
];

const row = (id: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  message_id: id,
  type: 'track',
  one_id: 'p-0',
  timestamp: '2024-01-01T00:00:00.000Z',
  properties: '{"revenue":42}',
  traits: '{}',
  context: '{"ip":"1.2.3.4"}',
  ...extra,
});

async function* pagesOf(
  pages: Record<string, unknown>[][],
): AsyncGenerator<Record<string, unknown>[]> {
  for (const p of pages) yield p;
}

async function collect(it: AsyncIterable<string>): Promise<string> {
  let out = '';
  for await (const s of it) out += s;
  return out;
}

describe('NDJSON export lines', () => {
  it('writes one JSON object per line, kind first, newlines inside values escaped', () => {
    const line = ndjsonLine('x', { a: 'line\nbreak' });
    expect(line).toBe('{"kind":"x","a":"line\\nbreak"}\n');
    expect(line.slice(0, -1)).not.toContain('\n');
  });

  it('a field named kind cannot replace the line kind', () => {
    expect(ndjsonLine('event', { kind: 'merge', a: 1 })).toBe('{"kind":"event","a":1}\n');
  });

  it('the person line is the person without its events', () => {
    const p = JSON.parse(personLine(person)) as Record<string, unknown>;
    expect(p['kind']).toBe('person');
    expect(p).not.toHaveProperty('events');
    expect(p).toMatchObject({
      oneId: 'p-1',
      requested: 'p-0',
      eventCount: 3,
      traits: { plan: 'pro' },
    });
  });

  it('an event line has every column, person_id, and the JSON columns as objects', () => {
    const e = JSON.parse(eventLine(row('m-1', { context: 'oops' }), 'p-1')) as Record<
      string,
      unknown
    >;
    expect(e).toEqual({
      kind: 'event',
      person_id: 'p-1',
      message_id: 'm-1',
      type: 'track',
      one_id: 'p-0',
      timestamp: '2024-01-01T00:00:00.000Z',
      properties: { revenue: 42 },
      traits: {},
      context: 'oops',
    });
  });

  it('exports the person, its identifiers, every event page and every audit row, in that order', async () => {
    const text = await collect(
      exportLines(person, pagesOf([[row('m-1'), row('m-2')], [], [row('m-3')]]), audit),
    );
    expect(text.endsWith('\n')).toBe(true);
    const lines = text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l['kind'], l['message_id'] ?? l['type'] ?? l['oneId']])).toEqual([
      ['person', 'p-1'],
      ['identifier', 'user_id'],
      ['identifier', 'email'],
      ['event', 'm-1'],
      ['event', 'm-2'],
      ['event', 'm-3'],
      ['audit', 'p-1'],
    ]);
    expect(lines[6]).toEqual({
      kind: 'audit',
      auditKind: 'merge',
      at: '2024-01-01T00:00:00.000Z',
      oneId: 'p-1',
      otherId: 'p-0',
      reason: 'identify',
    });
  });
});
