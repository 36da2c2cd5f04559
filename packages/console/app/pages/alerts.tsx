import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { api, ApiError, get, session } from '../api';
import { Action, Card, ErrorBox, fmt, pct, Table, useAsync, when } from '../ui';
import type { AlertView } from './overview';

interface AlertEvent {
  id: string;
  key: string;
  from: string;
  to: string;
  at: string;
  value: number | null;
  reference: number | null;
  change: number | null;
  notified: string;
}

const EXAMPLE = {
  name: 'checkout broke',
  metric: 'conversion_rate',
  windowMinutes: 60,
  compare: 'week_ago',
  direction: 'down',
  change: 0.15,
  minVolume: 500,
};

function History({ id }: { id: string }): JSX.Element {
  const events = useAsync(
    () => get<{ events: AlertEvent[] }>(`/v1/alerts/${encodeURIComponent(id)}/events`),
    [id],
  );
  return (
    <>
      <ErrorBox error={events.error} />
      <Table
        testid="alert-history"
        rows={events.data?.events ?? []}
        empty="No transition yet."
        columns={[
          { label: 'At', cell: (e) => when(e.at) },
          { label: 'Key', cell: (e) => e.key || '(all)' },
          { label: 'From → to', cell: (e) => `${e.from} → ${e.to}` },
          { label: 'Value', cell: (e) => fmt(e.value), num: true },
          { label: 'Reference', cell: (e) => fmt(e.reference), num: true },
          { label: 'Change', cell: (e) => pct(e.change), num: true },
          { label: 'Notified', cell: (e) => e.notified },
        ]}
      />
    </>
  );
}

export function Alerts(): JSX.Element {
  const admin = session()?.role === 'admin';
  const alerts = useAsync(() => get<{ alerts: AlertView[] }>('/v1/alerts'), []);
  const [open, setOpen] = useState<string | undefined>(undefined);
  const [text, setText] = useState(JSON.stringify(EXAMPLE, null, 2));
  const [error, setError] = useState<unknown>(undefined);
  const [tested, setTested] = useState<{ id: string; results: unknown[] } | undefined>(undefined);
  const rows = (alerts.data?.alerts ?? []).flatMap((a) =>
    (a.states.length > 0
      ? a.states
      : [{ key: '', state: 'ok', since: '', value: null, reference: null }]
    ).map((s) => ({ a, s })),
  );
  return (
    <>
      <h1>Alerts</h1>
      <ErrorBox error={alerts.error} />
      <Card title="Rules and their states">
        <Table
          testid="alerts"
          rows={rows.sort(
            (x, y) => Number(y.s.state === 'firing') - Number(x.s.state === 'firing'),
          )}
          empty="No alert rule yet."
          columns={[
            { label: 'Rule', cell: (r) => <strong>{r.a.name}</strong> },
            { label: 'Metric', cell: (r) => r.a.metric },
            { label: 'Compare', cell: (r) => `${r.a.compare}, ${r.a.windowMinutes} min` },
            { label: 'Key', cell: (r) => r.s.key || '(all)' },
            { label: 'State', cell: (r) => <span class={`state ${r.s.state}`}>{r.s.state}</span> },
            { label: 'Since', cell: (r) => when(r.s.since || null) },
            { label: 'Value', cell: (r) => fmt(r.s.value), num: true },
            { label: 'Reference', cell: (r) => fmt(r.s.reference), num: true },
            {
              label: '',
              cell: (r) => (
                <span class="row-actions">
                  <button
                    type="button"
                    onClick={() => setOpen(open === r.a.id ? undefined : r.a.id)}
                  >
                    History
                  </button>
                  {admin ? (
                    <Action
                      label="Test now"
                      run={async () => {
                        const t = await api<{ results: unknown[] }>(
                          'POST',
                          `/v1/alerts/${encodeURIComponent(r.a.id)}/test`,
                          {},
                        );
                        setTested({ id: r.a.id, results: t.results });
                      }}
                    />
                  ) : null}
                  {admin ? (
                    <Action
                      label="Delete"
                      kind="danger"
                      confirm={`Delete the rule ${r.a.name}?`}
                      run={async () => {
                        await api('DELETE', `/v1/alerts/${encodeURIComponent(r.a.id)}`);
                        alerts.reload();
                      }}
                    />
                  ) : null}
                </span>
              ),
            },
          ]}
        />
      </Card>
      {tested ? (
        <Card title="Test result (nothing recorded or sent)">
          <pre class="props">{JSON.stringify(tested.results, null, 2)}</pre>
        </Card>
      ) : null}
      {open !== undefined ? (
        <Card title="History">
          <History id={open} />
        </Card>
      ) : null}
      {admin ? (
        <Card title="New rule">
          <textarea
            class="code-editor"
            rows={12}
            value={text}
            onInput={(e) => setText(e.currentTarget.value)}
            spellcheck={false}
            data-testid="alert-editor"
          />
          <ErrorBox error={error} />
          <button
            type="button"
            class="primary"
            onClick={() => {
              setError(undefined);
              let body: unknown;
              try {
                body = JSON.parse(text);
              } catch (e) {
                setError(new ApiError(400, 'INVALID_JSON', (e as Error).message));
                return;
              }
              api('POST', '/v1/alerts', body).then(() => alerts.reload(), setError);
            }}
          >
            Create
          </button>
        </Card>
      ) : null}
    </>
  );
}
