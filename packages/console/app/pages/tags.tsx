import type { JSX } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { ChartConfiguration } from 'chart.js';
import { api, ApiError, get, session } from '../api';
import { ChartView, PALETTE } from '../chart';
import { Action, Card, ErrorBox, fmt, go, Table, useAsync, when } from '../ui';

interface TagView {
  name: string;
  type: string;
  enabled: boolean;
  builtin: boolean;
  version: number;
  updatedAt: string;
  tags: { name: string; valueType: string }[];
  definition: unknown;
}
export interface Distribution {
  tag: string;
  valueType: string;
  people: number;
  values: { value: unknown; count: number }[];
  histogram?: { from: number; to: number; count: number }[];
}
interface Run {
  runId: string;
  kind: string;
  status: string;
  startedAt: string;
  people: number;
  changes: number;
  durationMs: number;
  error: string;
}

export function distributionChart(d: Distribution): ChartConfiguration {
  const bins = d.histogram;
  const labels = bins
    ? bins.map((b) => `${fmt(b.from)}–${fmt(b.to)}`)
    : d.values.slice(0, 20).map((v) => String(v.value));
  const data = bins ? bins.map((b) => b.count) : d.values.slice(0, 20).map((v) => v.count);
  return {
    type: 'bar',
    data: { labels, datasets: [{ label: 'People', data, backgroundColor: PALETTE[0] }] },
    options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true } } },
  };
}

function DistributionCard({ tag }: { tag: string }): JSX.Element {
  const d = useAsync(
    () => get<Distribution>(`/v1/tags/${encodeURIComponent(tag)}/distribution`),
    [tag],
  );
  const config = useMemo(() => (d.data ? distributionChart(d.data) : undefined), [d.data]);
  return (
    <Card title={`${tag}: ${d.data ? `${fmt(d.data.people)} people` : ''}`}>
      <ErrorBox error={d.error} />
      {config ? (
        <ChartView
          config={config}
          label={`Distribution of ${tag}`}
          testid={`distribution-${tag}`}
          height={200}
        />
      ) : null}
    </Card>
  );
}

/** Selects the text of the field a refusal names (its last path segment) in the editor. */
function pointAt(area: HTMLTextAreaElement | null, field: string | undefined): void {
  if (area === null || field === undefined) return;
  const key = field
    .split(/[.[\]]/)
    .filter(Boolean)
    .pop();
  if (key === undefined || /^\d+$/.test(key)) return;
  const at = area.value.indexOf(`"${key}"`);
  if (at < 0) return;
  area.focus();
  area.setSelectionRange(at, at + key.length + 2);
}

function Editor({
  tag,
  onSaved,
}: {
  tag: TagView | undefined;
  onSaved: (name: string) => void;
}): JSX.Element {
  const admin = session()?.role === 'admin';
  const [text, setText] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const area = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    setText(
      JSON.stringify(
        tag?.definition ?? {
          name: 'spend_365d',
          type: 'computed',
          computed: {
            fn: 'sum',
            event: 'Order Completed',
            property: 'revenue',
            window: { days: 365 },
          },
        },
        null,
        2,
      ),
    );
    setError(undefined);
  }, [tag?.name, tag?.version]);
  const save = async (): Promise<void> => {
    setError(undefined);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (e) {
      setError(new ApiError(400, 'INVALID_JSON', (e as Error).message, 'definition'));
      return;
    }
    try {
      const r = tag
        ? await api<{ tag: TagView }>('PUT', `/v1/tags/${encodeURIComponent(tag.name)}`, body)
        : await api<{ tag: TagView }>('POST', '/v1/tags', body);
      onSaved(r.tag.name);
    } catch (e) {
      setError(e);
      if (e instanceof ApiError) pointAt(area.current, e.field);
    }
  };
  return (
    <Card
      title={
        tag
          ? `Definition: ${tag.name} (v${tag.version}${tag.builtin ? ', built-in' : ''})`
          : 'New tag'
      }
    >
      <textarea
        ref={area}
        class="code-editor"
        rows={18}
        value={text}
        onInput={(e) => setText(e.currentTarget.value)}
        spellcheck={false}
        data-testid="tag-editor"
        readOnly={!admin}
      />
      <ErrorBox error={error} />
      {admin ? (
        <div class="toolbar">
          <button type="button" class="primary" onClick={() => void save()} data-testid="save-tag">
            {tag ? 'Save new version' : 'Create'}
          </button>
          {tag && !tag.builtin ? (
            <Action
              label="Delete"
              kind="danger"
              confirm={`Delete ${tag.name}? Its values go on the next run.`}
              run={async () => {
                await api('DELETE', `/v1/tags/${encodeURIComponent(tag.name)}`);
                onSaved('');
              }}
            />
          ) : null}
        </div>
      ) : null}
    </Card>
  );
}

export function Tags({ selected }: { selected: string | undefined }): JSX.Element {
  const admin = session()?.role === 'admin';
  const tags = useAsync(() => get<{ tags: TagView[] }>('/v1/tags'), []);
  const runs = useAsync(() => get<{ runs: Run[] }>('/v1/tags/runs?limit=10'), []);
  const [lastRun, setLastRun] = useState<Run | undefined>(undefined);
  const list = tags.data?.tags ?? [];
  const current =
    selected === 'new'
      ? undefined
      : (list.find((t) => t.name === selected || t.tags.some((o) => o.name === selected)) ??
        list[0]);
  return (
    <>
      <h1>Tags</h1>
      <ErrorBox error={tags.error} />
      <div class="toolbar">
        {admin ? (
          <>
            <button type="button" onClick={() => go('tags', 'new')}>
              New tag
            </button>
            <Action
              label="Recompute now"
              testid="recompute"
              run={async () => {
                const r = await api<{ run: Run }>('POST', '/v1/tags/recompute', {});
                setLastRun(r.run);
                runs.reload();
              }}
            />
          </>
        ) : null}
        {lastRun ? (
          <span class="ok" role="status">
            Run {lastRun.kind}: {fmt(lastRun.people)} people, {fmt(lastRun.changes)} changes in{' '}
            {fmt(lastRun.durationMs)} ms
          </span>
        ) : null}
      </div>
      <div class="split">
        <Card title="Definitions">
          <Table
            testid="tag-list"
            rows={list}
            onRow={(t) => go('tags', t.name)}
            columns={[
              {
                label: 'Name',
                cell: (t) => (
                  <strong class={t.name === current?.name ? 'selected' : undefined}>
                    {t.name}
                  </strong>
                ),
              },
              { label: 'Kind', cell: (t) => t.type },
              { label: 'Produces', cell: (t) => t.tags.map((o) => o.name).join(', ') },
              { label: '', cell: (t) => (t.builtin ? 'built-in' : '') },
            ]}
          />
        </Card>
        <div>
          <Editor
            tag={current}
            onSaved={(name) => {
              tags.reload();
              go('tags', name);
            }}
          />
          {(current?.tags ?? []).map((o) => (
            <DistributionCard tag={o.name} />
          ))}
        </div>
      </div>
      <Card title="Runs">
        <Table
          rows={runs.data?.runs ?? []}
          columns={[
            { label: 'Started', cell: (r) => when(r.startedAt) },
            { label: 'Kind', cell: (r) => r.kind },
            { label: 'Status', cell: (r) => r.status },
            { label: 'People', cell: (r) => fmt(r.people), num: true },
            { label: 'Changes', cell: (r) => fmt(r.changes), num: true },
            { label: 'ms', cell: (r) => fmt(r.durationMs), num: true },
            { label: 'Error', cell: (r) => r.error },
          ]}
        />
      </Card>
    </>
  );
}
