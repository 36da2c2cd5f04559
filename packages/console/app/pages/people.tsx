import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { api, get, qs, session } from '../api';
import {
  Action,
  Card,
  ErrorBox,
  Field,
  fmt,
  go,
  Loading,
  maskPii,
  piiAllowed,
  redact,
  Table,
  useAsync,
  when,
} from '../ui';

const TYPES = ['email', 'phone', 'user_id', 'anonymous_id', 'device_id'];

interface Identifier {
  type: string;
  value: string;
  hashed: boolean;
  firstSeen: string;
  lastSeen: string;
}
interface PersonEvent {
  messageId: string;
  type: string;
  event: string;
  timestamp: string;
  channel: string;
  properties: Record<string, unknown>;
}
interface Audit {
  at: string;
  kind: string;
  oneId: string;
  otherId?: string;
  identifierType?: string;
  reason: string;
}
interface PersonView {
  oneId: string;
  requested?: string;
  mergedIds: string[];
  identifiers: Identifier[];
  traits: Record<string, unknown>;
  firstSeen: string | null;
  lastSeen: string | null;
  eventCount: number;
  events: PersonEvent[];
  audit: Audit[];
  tags?: Record<string, unknown>;
}

export function People(): JSX.Element {
  const [type, setType] = useState('email');
  const [value, setValue] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [external, setExternal] = useState('');
  const search = async (e: Event): Promise<void> => {
    e.preventDefault();
    setError(undefined);
    try {
      const t = type === 'external' ? `external:${external}` : type;
      const p = await get<PersonView>(
        `/v1/persons/lookup${qs({ type: t, value: value.trim(), events: 1 })}`,
      );
      go('people', p.oneId);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <>
      <h1>People</h1>
      <Card title="Find a person by any identifier">
        <form class="toolbar" onSubmit={(e) => void search(e)}>
          <select value={type} onChange={(e) => setType(e.currentTarget.value)} name="type">
            {[...TYPES, 'external'].map((t) => (
              <option value={t}>{t}</option>
            ))}
          </select>
          {type === 'external' ? (
            <input
              placeholder="platform (wechat, amazon…)"
              value={external}
              onInput={(e) => setExternal(e.currentTarget.value)}
            />
          ) : null}
          <input
            placeholder="value (email and phone in clear: hashed by the server)"
            value={value}
            onInput={(e) => setValue(e.currentTarget.value)}
            name="value"
            required
          />
          <button type="submit" class="primary">
            Find
          </button>
        </form>
        <ErrorBox error={error} />
        <p class="muted">Or open a person from Live events or an audience's members.</p>
      </Card>
    </>
  );
}

const show = (v: unknown): string =>
  Array.isArray(v) ? v.join(', ') : typeof v === 'number' ? fmt(v) : String(v);

function download(name: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'application/x-ndjson' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function Person({ oneId }: { oneId: string }): JSX.Element {
  const admin = session()?.role === 'admin';
  const person = useAsync(
    () => get<PersonView>(`/v1/persons/${encodeURIComponent(oneId)}?events=100`),
    [oneId],
  );
  const [splitSel, setSplitSel] = useState<Record<string, boolean>>({});
  const [splitClear, setSplitClear] = useState('');
  const [done, setDone] = useState<string | undefined>(undefined);
  const p = person.data;
  if (p === undefined) {
    return (
      <>
        <h1>Person</h1>
        <Loading when={person.loading} />
        <ErrorBox error={person.error} />
      </>
    );
  }
  const tags = p.tags ?? {};
  const idValue = (i: Identifier): string =>
    i.hashed ? `sha256 ${i.value.slice(0, 12)}…` : piiAllowed() ? i.value : maskPii(i.value);
  return (
    <>
      <h1>
        Person <code data-testid="one-id">{p.oneId}</code>
      </h1>
      {p.requested !== undefined ? (
        <p class="muted">{p.requested} was merged into this person.</p>
      ) : null}
      {done !== undefined ? (
        <div class="ok" role="status">
          {done}
        </div>
      ) : null}
      <div class="stats">
        <div class="stat">
          <div class="muted">Events</div>
          <div class="big">{fmt(p.eventCount)}</div>
        </div>
        <div class="stat">
          <div class="muted">First seen</div>
          <div>{when(p.firstSeen)}</div>
        </div>
        <div class="stat">
          <div class="muted">Last seen</div>
          <div>{when(p.lastSeen)}</div>
        </div>
        <div class="stat">
          <div class="muted">Merged ids</div>
          <div>{p.mergedIds.length}</div>
        </div>
      </div>
      <div class="grid2">
        <Card title="Tags">
          <Table
            testid="person-tags"
            rows={Object.entries(tags).sort(([a], [b]) => a.localeCompare(b))}
            empty="No tags yet (the tag engine runs every minute)."
            columns={[
              { label: 'Tag', cell: ([k]) => <a href={`#/tags/${encodeURIComponent(k)}`}>{k}</a> },
              { label: 'Value', cell: ([, v]) => <span data-tag-value>{show(v)}</span> },
            ]}
          />
        </Card>
        <Card title="Identifiers">
          <Table
            testid="identifiers"
            rows={p.identifiers}
            columns={[
              { label: 'Type', cell: (i) => i.type },
              { label: 'Value', cell: (i) => <code>{idValue(i)}</code> },
              { label: 'First seen', cell: (i) => when(i.firstSeen) },
              { label: 'Last seen', cell: (i) => when(i.lastSeen) },
              ...(admin
                ? [
                    {
                      label: 'Split',
                      cell: (i: Identifier) =>
                        i.hashed ? (
                          <span class="muted">type it below</span>
                        ) : (
                          <input
                            type="checkbox"
                            checked={splitSel[`${i.type}\u0000${i.value}`] === true}
                            onChange={(e) =>
                              setSplitSel({
                                ...splitSel,
                                [`${i.type}\u0000${i.value}`]: e.currentTarget.checked,
                              })
                            }
                          />
                        ),
                    },
                  ]
                : []),
            ]}
          />
          <h3>Traits</h3>
          <pre class="props">{JSON.stringify(redact(p.traits), null, 2)}</pre>
        </Card>
      </div>
      <Card title="Merges, refusals and splits">
        <Table
          testid="audit"
          rows={p.audit}
          empty="Nothing merged or refused."
          columns={[
            { label: 'At', cell: (a) => when(a.at) },
            { label: 'Kind', cell: (a) => a.kind },
            {
              label: 'Other person',
              cell: (a) =>
                a.otherId ? (
                  <a href={`#/people/${encodeURIComponent(a.otherId)}`}>{a.otherId}</a>
                ) : (
                  ''
                ),
            },
            { label: 'Identifier', cell: (a) => a.identifierType ?? '' },
            { label: 'Reason', cell: (a) => a.reason },
          ]}
        />
      </Card>
      <Card title={`Timeline (latest ${p.events.length} of ${fmt(p.eventCount)})`}>
        <Table
          testid="timeline"
          rows={p.events}
          columns={[
            { label: 'Time', cell: (e) => when(e.timestamp) },
            { label: 'Type', cell: (e) => e.type },
            { label: 'Event', cell: (e) => e.event },
            { label: 'Channel', cell: (e) => e.channel },
            {
              label: 'Properties',
              cell: (e) => (
                <code class="props">{JSON.stringify(redact(e.properties)).slice(0, 120)}</code>
              ),
            },
          ]}
        />
      </Card>
      {admin ? (
        <Card title="Privacy and corrections">
          <div class="toolbar">
            <Action
              label="Export (NDJSON)"
              testid="export"
              run={async () => {
                const s = session();
                const res = await fetch(`/v1/persons/${encodeURIComponent(p.oneId)}/export`, {
                  headers: { authorization: `Bearer ${s?.token ?? ''}` },
                });
                if (!res.ok) throw new Error(`Export failed: ${res.status}`);
                download(`person-${p.oneId}.ndjson`, await res.text());
              }}
            />
            <Field label="Also split (email=… or phone=…, in clear)">
              <input
                value={splitClear}
                onInput={(e) => setSplitClear(e.currentTarget.value)}
                placeholder="email=ann@example.com"
              />
            </Field>
            <Action
              label="Split selected identifiers off"
              testid="split"
              confirm="Move the selected identifiers to a new person, kept apart from now on?"
              run={async () => {
                const identifiers = Object.entries(splitSel)
                  .filter(([, on]) => on)
                  .map(([k]) => {
                    const [type, value] = k.split('\u0000');
                    return { type, value };
                  });
                for (const part of splitClear.split(/[\s,]+/).filter(Boolean)) {
                  const eq = part.indexOf('=');
                  identifiers.push({ type: part.slice(0, eq), value: part.slice(eq + 1) });
                }
                const r = await api<{ oneId: string; eventsMoved: number }>(
                  'POST',
                  `/v1/persons/${encodeURIComponent(p.oneId)}/split`,
                  { identifiers },
                );
                setDone(`Split off into ${r.oneId} (${r.eventsMoved} events moved).`);
                setSplitSel({});
                person.reload();
              }}
            />
            <Action
              label="Delete person (GDPR)"
              kind="danger"
              testid="delete-person"
              confirm="Erase this person: events, identifiers, tags and memberships? This cannot be undone."
              run={async () => {
                const r = await api<{ eventsDeleted: number }>(
                  'DELETE',
                  `/v1/persons/${encodeURIComponent(p.oneId)}`,
                );
                setDone(`Deleted: ${r.eventsDeleted} events erased.`);
              }}
            />
          </div>
        </Card>
      ) : null}
    </>
  );
}
