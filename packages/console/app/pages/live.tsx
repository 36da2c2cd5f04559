import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { get, qs } from '../api';
import { Card, ErrorBox, go, maskText, redact, Table, useAsync, useInterval, when } from '../ui';

interface Ev {
  messageId: string;
  sourceId: string;
  type: string;
  event: string;
  oneId: string;
  userId: string;
  anonymousId: string;
  channel: string;
  receivedAt: string;
  properties: unknown;
}
interface DeadLetter {
  id: string;
  receivedAt: string;
  sourceId: string;
  code: string;
  field: string;
  reason: string;
  payload: string;
}

export function LiveEvents(): JSX.Element {
  const [paused, setPaused] = useState(false);
  const [filters, setFilters] = useState({ source: '', type: '', person: '' });
  const [draft, setDraft] = useState(filters);
  const events = useAsync(
    () => get<{ events: Ev[] }>(`/v1/events${qs({ ...filters, limit: 50 })}`),
    [filters],
  );
  const dead = useAsync(
    () =>
      get<{ deadLetters: DeadLetter[] }>(
        `/v1/dead-letters${qs({ source: filters.source, limit: 50 })}`,
      ),
    [filters.source],
  );
  useInterval(
    () => {
      events.reload();
      dead.reload();
    },
    2000,
    !paused,
  );
  const [open, setOpen] = useState<string | undefined>(undefined);
  return (
    <>
      <h1>Live events</h1>
      <form
        class="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          setFilters(draft);
        }}
      >
        <input
          placeholder="Source id"
          value={draft.source}
          onInput={(e) => setDraft({ ...draft, source: e.currentTarget.value })}
          name="source"
        />
        <select
          value={draft.type}
          onChange={(e) => setDraft({ ...draft, type: e.currentTarget.value })}
          name="type"
        >
          <option value="">Any type</option>
          {['track', 'page', 'screen', 'identify', 'group', 'alias'].map((t) => (
            <option value={t}>{t}</option>
          ))}
        </select>
        <input
          placeholder="Person (OneID, user or anonymous id)"
          value={draft.person}
          onInput={(e) => setDraft({ ...draft, person: e.currentTarget.value })}
          name="person"
        />
        <button type="submit">Filter</button>
        <button type="button" data-testid="pause" onClick={() => setPaused(!paused)}>
          {paused ? 'Resume' : 'Pause'}
        </button>
        <span class="muted">{paused ? 'Paused' : 'Refreshing every 2 s'}</span>
      </form>
      <Card title="Events (newest first)">
        <ErrorBox error={events.error} />
        <Table
          testid="events"
          rows={events.data?.events ?? []}
          empty="No events in the last 24 hours (with these filters)."
          columns={[
            { label: 'Received', cell: (e) => when(e.receivedAt) },
            { label: 'Type', cell: (e) => e.type },
            { label: 'Event', cell: (e) => <span class="event-name">{e.event}</span> },
            { label: 'Source', cell: (e) => e.sourceId },
            { label: 'Channel', cell: (e) => e.channel },
            {
              label: 'Person',
              cell: (e) =>
                e.oneId ? (
                  <a
                    href={`#/people/${encodeURIComponent(e.oneId)}`}
                    onClick={(ev) => {
                      ev.preventDefault();
                      go('people', e.oneId);
                    }}
                  >
                    {e.userId || e.anonymousId || e.oneId}
                  </a>
                ) : (
                  e.userId || e.anonymousId
                ),
            },
            {
              label: 'Properties',
              cell: (e) => (
                <code
                  class="props"
                  onClick={() => setOpen(open === e.messageId ? undefined : e.messageId)}
                >
                  {open === e.messageId
                    ? JSON.stringify(redact(e.properties), null, 2)
                    : JSON.stringify(redact(e.properties)).slice(0, 80)}
                </code>
              ),
            },
          ]}
        />
      </Card>
      <Card title="Dead letters (refused events)">
        <ErrorBox error={dead.error} />
        <Table
          testid="dead-letters"
          rows={dead.data?.deadLetters ?? []}
          empty="Nothing refused in the last 24 hours."
          columns={[
            { label: 'Received', cell: (d) => when(d.receivedAt) },
            { label: 'Code', cell: (d) => <strong class="code">{d.code}</strong> },
            { label: 'Field', cell: (d) => d.field },
            { label: 'Reason', cell: (d) => d.reason },
            { label: 'Source', cell: (d) => d.sourceId },
            {
              label: 'Payload',
              cell: (d) => <code class="props">{maskText(d.payload).slice(0, 160)}</code>,
            },
          ]}
        />
      </Card>
    </>
  );
}
