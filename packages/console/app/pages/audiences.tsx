import type { JSX } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, ApiError, get, session } from '../api';
import { CondEditor, type Catalog, type Cond } from '../builder';
import {
  Action,
  Card,
  ErrorBox,
  Field,
  fmt,
  go,
  Loading,
  redact,
  Table,
  useAsync,
  when,
} from '../ui';

interface AudienceView {
  name: string;
  definition: { conditions: Cond };
  refreshSeconds: number;
  size?: number | null;
  computedAt?: string | null;
  lastRun?: { status?: string; finishedAt?: string | null } | null;
  lookalike?: unknown;
}
interface Preview {
  size: number;
  sample: {
    personId: string;
    identifiers?: { type: string; value: string }[];
    tags?: Record<string, unknown>;
  }[];
  byChannel?: Record<string, number>;
  byRfmGroup?: Record<string, number>;
  ms: number;
}
interface Connection {
  destination: { id: string; name: string; type: string };
  lastRun: { status?: string } | null;
}
interface Run {
  version: number;
  status: string;
  startedAt?: string;
  finishedAt?: string | null;
  size?: number;
  entered?: number;
  exited?: number;
  mode?: string;
  error?: string;
}

export function Audiences(): JSX.Element {
  const admin = session()?.role === 'admin';
  const list = useAsync(() => get<{ audiences: AudienceView[] }>('/v1/audiences'), []);
  return (
    <>
      <h1>Audiences</h1>
      <ErrorBox error={list.error} />
      {admin ? (
        <div class="toolbar">
          <button
            type="button"
            class="primary"
            onClick={() => go('audiences', 'new')}
            data-testid="new-audience"
          >
            New audience
          </button>
        </div>
      ) : null}
      <Card>
        <Table
          testid="audiences"
          rows={list.data?.audiences ?? []}
          onRow={(a) => go('audiences', a.name)}
          empty="No audience yet: build one from tags and behaviour."
          columns={[
            { label: 'Name', cell: (a) => <strong>{a.name}</strong> },
            { label: 'Size', cell: (a) => fmt(a.size ?? null), num: true },
            {
              label: 'Refresh',
              cell: (a) => (a.refreshSeconds === 0 ? 'manual' : `every ${a.refreshSeconds} s`),
            },
            { label: 'Computed', cell: (a) => when(a.computedAt ?? null) },
            { label: 'Last run', cell: (a) => a.lastRun?.status ?? '–' },
          ]}
        />
      </Card>
    </>
  );
}

/** The pickers' data: event names and their properties, tags, their values, other audiences. */
function useCatalog(): Catalog {
  const events = useAsync(() => get<{ events: Catalog['events'] }>('/v1/events/catalog'), []);
  const tags = useAsync(
    () => get<{ tags: { tags: { name: string; valueType: string }[] }[] }>('/v1/tags'),
    [],
  );
  const audiences = useAsync(() => get<{ audiences: { name: string }[] }>('/v1/audiences'), []);
  const [values, setValues] = useState<Record<string, string[]>>({});
  const asked = useRef(new Set<string>());
  return useMemo(
    () => ({
      events: events.data?.events ?? [],
      tags: (tags.data?.tags ?? []).flatMap((t) => t.tags),
      audiences: (audiences.data?.audiences ?? []).map((a) => a.name),
      tagValues: (tag: string) => {
        if (
          tag !== '' &&
          !asked.current.has(tag) &&
          (tags.data?.tags ?? []).some((t) => t.tags.some((o) => o.name === tag))
        ) {
          asked.current.add(tag);
          get<{ values: { value: unknown }[] }>(
            `/v1/tags/${encodeURIComponent(tag)}/distribution`,
          ).then(
            (d) => setValues((v) => ({ ...v, [tag]: d.values.map((x) => String(x.value)) })),
            () => undefined,
          );
        }
        return values[tag] ?? [];
      },
    }),
    [events.data, tags.data, audiences.data, values],
  );
}

const breakdown = (b: Preview['byChannel']): { value: string; count: number }[] =>
  Object.entries(b ?? {})
    .map(([value, count]) => ({ value, count }))
    .sort((x, y) => y.count - x.count);

/** Marks the node of the tree a refusal's field names (its longest path prefix). */
function markInvalid(root: HTMLElement | null, field: string | undefined): void {
  if (root === null) return;
  for (const el of root.querySelectorAll('.invalid')) el.classList.remove('invalid');
  if (field === undefined) return;
  let best: Element | undefined;
  let len = -1;
  for (const el of root.querySelectorAll('[data-path]')) {
    const p = el.getAttribute('data-path') ?? '';
    const rel = field.replace(/^definition\./, '');
    if ((rel === p || rel.startsWith(`${p}.`) || rel.startsWith(`${p}[`)) && p.length > len) {
      best = el;
      len = p.length;
    }
  }
  best?.classList.add('invalid');
}

const EMPTY: Cond = { and: [{ tag: { name: 'rfm_group', op: 'eq', value: 'Champions' } }] };

export function AudienceEditor({ name }: { name: string | undefined }): JSX.Element {
  const admin = session()?.role === 'admin';
  const existing = useAsync(
    () =>
      name === undefined
        ? Promise.resolve(undefined)
        : get<{ audience: AudienceView }>(`/v1/audiences/${encodeURIComponent(name)}`).then(
            (r) => r.audience,
          ),
    [name],
  );
  const catalog = useCatalog();
  const [conditions, setConditions] = useState<Cond>(EMPTY);
  const [newName, setNewName] = useState('');
  const [refresh, setRefresh] = useState('60');
  const [preview, setPreview] = useState<Preview | undefined>(undefined);
  const [previewError, setPreviewError] = useState<unknown>(undefined);
  const [previewing, setPreviewing] = useState(false);
  const [saved, setSaved] = useState<string | undefined>(undefined);
  const tree = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (existing.data) {
      setConditions(existing.data.definition.conditions);
      setRefresh(
        existing.data.refreshSeconds === 0 ? 'manual' : String(existing.data.refreshSeconds),
      );
    }
  }, [existing.data]);

  // The size follows the edits: a preview 300 ms after the last change (the latest answer wins).
  const seq = useRef(0);
  useEffect(() => {
    const mine = ++seq.current;
    setPreviewing(true);
    const t = setTimeout(() => {
      api<Preview>('POST', '/v1/audiences/preview', { definition: { conditions } }).then(
        (p) => {
          if (mine !== seq.current) return;
          setPreview(p);
          setPreviewError(undefined);
          setPreviewing(false);
          markInvalid(tree.current, undefined);
        },
        (e: unknown) => {
          if (mine !== seq.current) return;
          setPreviewError(e);
          setPreviewing(false);
          markInvalid(tree.current, e instanceof ApiError ? e.field : undefined);
        },
      );
    }, 300);
    return () => clearTimeout(t);
  }, [conditions]);

  const runs = useAsync(
    () =>
      name === undefined
        ? Promise.resolve({ runs: [] as Run[] })
        : get<{ runs: Run[] }>(`/v1/audiences/${encodeURIComponent(name)}/runs`),
    [name],
  );
  const dests = useAsync(
    () =>
      name === undefined || !admin
        ? Promise.resolve({ connections: [] as Connection[] })
        : get<{ connections: Connection[] }>(
            `/v1/audiences/${encodeURIComponent(name)}/destinations`,
          ),
    [name],
  );
  const allDests = useAsync(
    () =>
      admin
        ? get<{ destinations: { id: string; name: string; type: string }[] }>('/v1/destinations')
        : Promise.resolve({ destinations: [] }),
    [],
  );
  const [connect, setConnect] = useState('');
  const [ratio, setRatio] = useState('0.05');

  const save = async (): Promise<void> => {
    const body = {
      definition: { conditions },
      refresh: refresh === 'manual' ? 'manual' : Number(refresh),
    };
    if (name === undefined) {
      await api('POST', '/v1/audiences', { name: newName, ...body });
      setSaved(`Created ${newName}.`);
      go('audiences', newName);
    } else {
      await api('PUT', `/v1/audiences/${encodeURIComponent(name)}`, { name, ...body });
      setSaved('Saved: a new version runs now.');
      existing.reload();
    }
  };

  if (name !== undefined && existing.data === undefined) {
    return (
      <>
        <h1>Audience {name}</h1>
        <Loading when={existing.loading} />
        <ErrorBox error={existing.error} />
      </>
    );
  }
  return (
    <>
      <h1>{name === undefined ? 'New audience' : `Audience ${name}`}</h1>
      {saved !== undefined ? (
        <div class="ok" role="status">
          {saved}
        </div>
      ) : null}
      <div class="split wide-left">
        <Card title="Who is in it">
          <div ref={tree} class="builder" data-testid="builder">
            <CondEditor node={conditions} onChange={setConditions} catalog={catalog} />
          </div>
          {admin ? (
            <div class="toolbar">
              {name === undefined ? (
                <Field label="Name">
                  <input
                    value={newName}
                    onInput={(e) => setNewName(e.currentTarget.value)}
                    placeholder="champions-lapsing"
                    name="audience-name"
                  />
                </Field>
              ) : null}
              <Field label="Refresh (s, or manual)">
                <input
                  class="narrow"
                  value={refresh}
                  onInput={(e) => setRefresh(e.currentTarget.value)}
                />
              </Field>
              <Action
                label={name === undefined ? 'Create' : 'Save'}
                kind="primary"
                run={save}
                testid="save-audience"
              />
            </div>
          ) : null}
          <details>
            <summary>Definition (JSON)</summary>
            <pre class="props" data-testid="definition-json">
              {JSON.stringify({ conditions }, null, 2)}
            </pre>
          </details>
        </Card>
        <div>
          <Card title="Size">
            <div class="big" data-testid="audience-size" data-busy={previewing ? 'true' : 'false'}>
              {preview && previewError === undefined ? fmt(preview.size) : '–'}
            </div>
            <div class="muted">
              {previewing ? 'Counting…' : preview ? `counted in ${fmt(preview.ms)} ms` : ''}
            </div>
            <ErrorBox error={previewError} />
            {preview ? (
              <>
                <h3>By channel</h3>
                <Table
                  rows={breakdown(preview.byChannel)}
                  columns={[
                    { label: 'Channel', cell: (r) => r.value || '(none)' },
                    { label: 'People', cell: (r) => fmt(r.count), num: true },
                  ]}
                />
                <h3>By RFM group</h3>
                <Table
                  rows={breakdown(preview.byRfmGroup)}
                  columns={[
                    { label: 'Group', cell: (r) => r.value || '(none)' },
                    { label: 'People', cell: (r) => fmt(r.count), num: true },
                  ]}
                />
              </>
            ) : null}
          </Card>
        </div>
      </div>
      {preview ? (
        <Card title="Sample members">
          <Table
            testid="sample"
            rows={preview.sample}
            columns={[
              {
                label: 'Person',
                cell: (m) => (
                  <a href={`#/people/${encodeURIComponent(m.personId)}`}>{m.personId}</a>
                ),
              },
              {
                label: 'Identifiers',
                cell: (m) => (
                  <code class="props">
                    {JSON.stringify(redact(m.identifiers ?? {})).slice(0, 100)}
                  </code>
                ),
              },
              {
                label: 'Tags',
                cell: (m) => (
                  <code class="props">{JSON.stringify(m.tags ?? {}).slice(0, 140)}</code>
                ),
              },
            ]}
          />
        </Card>
      ) : null}
      {name !== undefined ? (
        <>
          <Card
            title="Runs"
            actions={
              admin ? (
                <Action
                  label="Run now"
                  testid="refresh-audience"
                  run={async () => {
                    await api('POST', `/v1/audiences/${encodeURIComponent(name)}/refresh`, {});
                    runs.reload();
                    existing.reload();
                  }}
                />
              ) : null
            }
          >
            <Table
              testid="runs"
              rows={runs.data?.runs ?? []}
              columns={[
                { label: 'Version', cell: (r) => r.version, num: true },
                { label: 'Status', cell: (r) => r.status },
                { label: 'Mode', cell: (r) => r.mode ?? '' },
                { label: 'Finished', cell: (r) => when(r.finishedAt ?? null) },
                { label: 'Size', cell: (r) => fmt(r.size ?? null), num: true },
                { label: 'Entered', cell: (r) => fmt(r.entered ?? null), num: true },
                { label: 'Exited', cell: (r) => fmt(r.exited ?? null), num: true },
                { label: 'Error', cell: (r) => r.error ?? '' },
              ]}
            />
          </Card>
          {admin ? (
            <div class="grid2">
              <Card title="Destinations">
                <ErrorBox error={dests.error ?? allDests.error} />
                <Table
                  rows={dests.data?.connections ?? []}
                  empty="Not delivered anywhere yet."
                  columns={[
                    {
                      label: 'Destination',
                      cell: (d) => `${d.destination.name} (${d.destination.type})`,
                    },
                    { label: 'Last sync', cell: (d) => d.lastRun?.status ?? '–' },
                    {
                      label: '',
                      cell: (d) => (
                        <Action
                          label="Sync now"
                          run={async () => {
                            await api(
                              'POST',
                              `/v1/audiences/${encodeURIComponent(name)}/destinations/${encodeURIComponent(d.destination.id)}/sync`,
                              {},
                            );
                            dests.reload();
                          }}
                        />
                      ),
                    },
                  ]}
                />
                <div class="toolbar">
                  <select
                    value={connect}
                    onChange={(e) => setConnect(e.currentTarget.value)}
                    aria-label="destination"
                  >
                    <option value="">(choose a destination)</option>
                    {(allDests.data?.destinations ?? []).map((d) => (
                      <option value={d.id}>
                        {d.name} ({d.type})
                      </option>
                    ))}
                  </select>
                  <Action
                    label="Connect"
                    disabled={connect === ''}
                    run={async () => {
                      await api('POST', `/v1/audiences/${encodeURIComponent(name)}/destinations`, {
                        destinationId: connect,
                      });
                      dests.reload();
                    }}
                  />
                </div>
              </Card>
              <Card title="Lookalike">
                <p class="muted">People most like this audience's members, as a new audience.</p>
                <Field label="Share of the eligible (0–0.5)">
                  <input
                    class="narrow"
                    value={ratio}
                    onInput={(e) => setRatio(e.currentTarget.value)}
                  />
                </Field>
                <Action
                  label="Build lookalike"
                  testid="lookalike"
                  run={async () => {
                    const r = await api<{ audience: { name: string } }>(
                      'POST',
                      `/v1/audiences/${encodeURIComponent(name)}/lookalike`,
                      { ratio: Number(ratio) },
                    );
                    go('audiences', r.audience.name);
                  }}
                />
              </Card>
            </div>
          ) : null}
          {admin ? (
            <Action
              label="Delete audience"
              kind="danger"
              confirm={`Delete ${name}?`}
              run={async () => {
                await api('DELETE', `/v1/audiences/${encodeURIComponent(name)}`);
                go('audiences');
              }}
            />
          ) : null}
        </>
      ) : null}
    </>
  );
}
