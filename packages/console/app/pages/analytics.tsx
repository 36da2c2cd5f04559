import type { JSX } from 'preact';
import { useMemo, useState } from 'preact/hooks';
import type { ChartConfiguration } from 'chart.js';
import { api, get, qs } from '../api';
import { ChartView, PALETTE } from '../chart';
import {
  routeParams,
  setRouteParams,
  Card,
  DAY_MS,
  DateRange,
  ErrorBox,
  Field,
  fmt,
  isoDay,
  Loading,
  pct,
  Table,
  useAsync,
} from '../ui';

interface Attribution {
  totals: { conversions: number; value: number; nulls: number; paths: number };
  channels: { channel: string; credits: Record<string, { conversions: number; value: number }> }[];
  models: { label: string; model: string; transform: string }[];
  topPaths: { path: string[] | string; label?: string; conversions: number; value: number }[];
}

function useEventNames(): string[] {
  const cat = useAsync(() => get<{ events: { event: string }[] }>('/v1/events/catalog'), []);
  return (cat.data?.events ?? []).map((e) => e.event);
}

function Names({ id, names }: { id: string; names: readonly string[] }): JSX.Element {
  return (
    <datalist id={id}>
      {names.map((n) => (
        <option value={n} />
      ))}
    </datalist>
  );
}

/** Models x channels as a grouped bar chart (conversions credited). */
export function attributionChart(a: Attribution): ChartConfiguration {
  return {
    type: 'bar',
    data: {
      labels: a.channels.map((c) => c.channel),
      datasets: a.models.map(({ label }, i) => ({
        label,
        data: a.channels.map((c) => c.credits[label]?.conversions ?? 0),
        backgroundColor: PALETTE[i % PALETTE.length],
      })),
    },
    options: {
      plugins: { legend: { position: 'bottom' } },
      scales: { y: { beginAtZero: true, title: { display: true, text: 'conversions credited' } } },
    },
  };
}

export function Attribution(): JSX.Element {
  const names = useEventNames();
  const now = Date.now();
  const p = routeParams();
  const [form, setForm] = useState({
    conversion: p.get('conversion') ?? 'Order Completed',
    from: p.get('from') ?? isoDay(now - 30 * DAY_MS),
    to: p.get('to') ?? isoDay(now),
    lookbackDays: p.get('lookbackDays') ?? '30',
  });
  const [q, setQ] = useState(form);
  const res = useAsync(() => get<Attribution>(`/v1/attribution${qs({ ...q, limit: 20 })}`), [q]);
  const config = useMemo(() => (res.data ? attributionChart(res.data) : undefined), [res.data]);
  const a = res.data;
  return (
    <>
      <h1>Attribution</h1>
      <form
        class="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          setQ(form);
          setRouteParams(form);
        }}
      >
        <Field label="Conversion">
          <input
            list="conv-names"
            value={form.conversion}
            onInput={(e) => setForm({ ...form, conversion: e.currentTarget.value })}
            name="conversion"
          />
        </Field>
        <Names id="conv-names" names={names} />
        <DateRange
          from={form.from}
          to={form.to}
          onChange={(from, to) => setForm({ ...form, from, to })}
        />
        <Field label="Lookback (days)">
          <input
            type="number"
            class="narrow"
            min={1}
            value={form.lookbackDays}
            onInput={(e) => setForm({ ...form, lookbackDays: e.currentTarget.value })}
            name="lookbackDays"
          />
        </Field>
        <button type="submit" class="primary">
          Run
        </button>
        <Loading when={res.loading} />
      </form>
      <ErrorBox error={res.error} />
      {a ? (
        <>
          <div class="stats">
            <div class="stat">
              <div class="muted">Conversions</div>
              <div class="big" data-testid="attr-conversions">
                {fmt(a.totals.conversions)}
              </div>
            </div>
            <div class="stat">
              <div class="muted">Value</div>
              <div class="big">{fmt(a.totals.value)}</div>
            </div>
            <div class="stat">
              <div class="muted">Paths</div>
              <div class="big">{fmt(a.totals.paths)}</div>
            </div>
          </div>
          <Card title="Conversions credited, by channel and model">
            {config ? (
              <ChartView
                config={config}
                label="Attribution by channel and model"
                testid="chart-attribution"
                height={320}
              />
            ) : null}
          </Card>
          <Card title="Table">
            <Table
              testid="attribution-table"
              rows={a.channels}
              columns={[
                { label: 'Channel', cell: (c) => c.channel },
                ...a.models.map(({ label }) => ({
                  label,
                  num: true,
                  cell: (c: Attribution['channels'][number]) =>
                    fmt(c.credits[label]?.conversions ?? 0),
                })),
              ]}
            />
          </Card>
          <Card title="Top paths">
            <Table
              rows={a.topPaths}
              columns={[
                {
                  label: 'Path',
                  cell: (p) => p.label ?? (Array.isArray(p.path) ? p.path.join(' → ') : p.path),
                },
                { label: 'Conversions', cell: (p) => fmt(p.conversions), num: true },
                { label: 'Value', cell: (p) => fmt(p.value), num: true },
              ]}
            />
          </Card>
        </>
      ) : null}
    </>
  );
}

interface FunnelStep {
  step: number;
  event: string;
  people: number;
  conversionFromPrevious: number | null;
  conversionFromFirst: number | null;
  medianSecondsFromPrevious: number | null;
}

export function funnelChart(steps: readonly FunnelStep[]): ChartConfiguration {
  return {
    type: 'bar',
    data: {
      labels: steps.map((s) => `${s.step}. ${s.event}`),
      datasets: [
        { label: 'People', data: steps.map((s) => s.people), backgroundColor: PALETTE[1] },
      ],
    },
    options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true } } },
  };
}

const dur = (s: number | null): string =>
  s === null
    ? '–'
    : s < 120
      ? `${Math.round(s)} s`
      : s < 7200
        ? `${Math.round(s / 60)} min`
        : `${(s / 3600).toFixed(1)} h`;

export function Funnels(): JSX.Element {
  const names = useEventNames();
  const now = Date.now();
  const [steps, setSteps] = useState(['Product Viewed', 'Product Added', 'Order Completed']);
  const p = routeParams();
  const [range, setRange] = useState({
    from: p.get('from') ?? isoDay(now - 30 * DAY_MS),
    to: p.get('to') ?? isoDay(now),
    windowHours: p.get('windowHours') ?? '24',
  });
  const [body, setBody] = useState<unknown>(undefined);
  const res = useAsync(
    () =>
      body === undefined
        ? Promise.resolve(undefined)
        : api<{ steps: FunnelStep[] }>('POST', '/v1/funnels', body),
    [body],
  );
  const run = (): void => {
    setRouteParams(range);
    setBody({
      steps: steps.filter(Boolean).map((event) => ({ event })),
      windowSeconds: Number(range.windowHours) * 3600,
      from: range.from,
      to: range.to,
    });
  };
  const config = useMemo(() => (res.data ? funnelChart(res.data.steps) : undefined), [res.data]);
  const first = res.data?.steps[0]?.people ?? 0;
  return (
    <>
      <h1>Funnels</h1>
      <Card title="Steps">
        <Names id="funnel-names" names={names} />
        <ol class="steps">
          {steps.map((s, i) => (
            <li>
              <input
                list="funnel-names"
                value={s}
                onInput={(e) =>
                  setSteps(steps.map((x, j) => (j === i ? e.currentTarget.value : x)))
                }
                aria-label={`step ${i + 1}`}
                data-role="step"
              />
              {steps.length > 2 ? (
                <button
                  type="button"
                  class="icon"
                  onClick={() => setSteps(steps.filter((_, j) => j !== i))}
                >
                  ×
                </button>
              ) : null}
            </li>
          ))}
        </ol>
        <div class="toolbar">
          <button type="button" class="link" onClick={() => setSteps([...steps, ''])}>
            + step
          </button>
          <DateRange
            from={range.from}
            to={range.to}
            onChange={(from, to) => setRange({ ...range, from, to })}
          />
          <Field label="Window (hours)">
            <input
              type="number"
              class="narrow"
              value={range.windowHours}
              onInput={(e) => setRange({ ...range, windowHours: e.currentTarget.value })}
            />
          </Field>
          <button type="button" class="primary" onClick={run} data-testid="run-funnel">
            Run
          </button>
          <Loading when={res.loading && body !== undefined} />
        </div>
      </Card>
      <ErrorBox error={res.error} />
      {res.data ? (
        <>
          <Card title="People per step">
            {config ? (
              <ChartView config={config} label="Funnel: people per step" testid="chart-funnel" />
            ) : null}
          </Card>
          <Card title="Drop-off">
            <Table
              testid="funnel-table"
              rows={res.data.steps}
              columns={[
                { label: 'Step', cell: (s) => `${s.step}. ${s.event}` },
                { label: 'People', cell: (s) => fmt(s.people), num: true },
                {
                  label: '',
                  cell: (s) => (
                    <div class="bar">
                      <div style={{ width: `${first > 0 ? (100 * s.people) / first : 0}%` }} />
                    </div>
                  ),
                },
                { label: 'From previous', cell: (s) => pct(s.conversionFromPrevious), num: true },
                { label: 'From first', cell: (s) => pct(s.conversionFromFirst), num: true },
                {
                  label: 'Median time from previous',
                  cell: (s) => dur(s.medianSecondsFromPrevious),
                  num: true,
                },
              ]}
            />
          </Card>
        </>
      ) : null}
    </>
  );
}

interface Edge {
  source: string;
  target: string;
  count: number;
}

export function pathsChart(edges: readonly Edge[]): ChartConfiguration {
  return {
    type: 'sankey',
    data: {
      datasets: [
        {
          label: 'People',
          data: edges.map((e) => ({ from: e.source, to: e.target, flow: e.count })),
          colorFrom: () => PALETTE[0]!,
          colorTo: () => PALETTE[1]!,
        },
      ],
    },
  } as unknown as ChartConfiguration;
}

export function Paths(): JSX.Element {
  const now = Date.now();
  const p = routeParams();
  const [form, setForm] = useState({
    dateFrom: p.get('from') ?? isoDay(now - 30 * DAY_MS),
    dateTo: p.get('to') ?? isoDay(now),
    steps: p.get('steps') ?? '5',
    by: p.get('by') ?? 'event',
  });
  const [q, setQ] = useState(form);
  const res = useAsync(
    () => api<{ edges: Edge[] }>('POST', '/v1/paths', { ...q, steps: Number(q.steps) }),
    [q],
  );
  const edges = res.data?.edges ?? [];
  const config = useMemo(() => pathsChart(edges.slice(0, 60)), [res.data]);
  return (
    <>
      <h1>Paths</h1>
      <form
        class="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          setQ(form);
          setRouteParams({ from: form.dateFrom, to: form.dateTo, steps: form.steps, by: form.by });
        }}
      >
        <DateRange
          from={form.dateFrom}
          to={form.dateTo}
          onChange={(from, to) => setForm({ ...form, dateFrom: from, dateTo: to })}
        />
        <Field label="Steps">
          <input
            type="number"
            min={2}
            max={10}
            class="narrow"
            value={form.steps}
            onInput={(e) => setForm({ ...form, steps: e.currentTarget.value })}
          />
        </Field>
        <Field label="By">
          <select value={form.by} onChange={(e) => setForm({ ...form, by: e.currentTarget.value })}>
            <option value="event">event</option>
            <option value="channel">channel</option>
          </select>
        </Field>
        <button type="submit" class="primary">
          Run
        </button>
        <Loading when={res.loading} />
      </form>
      <ErrorBox error={res.error} />
      <Card title="Paths (the 60 largest flows)">
        {edges.length > 0 ? (
          <ChartView
            config={config}
            label="Paths as a Sankey diagram"
            testid="chart-paths"
            height={480}
          />
        ) : (
          <p class="muted">No paths in this range.</p>
        )}
      </Card>
      <Card title="Flows">
        <Table
          testid="paths-table"
          rows={edges.slice(0, 100)}
          columns={[
            { label: 'From', cell: (e) => e.source },
            { label: 'To', cell: (e) => e.target },
            { label: 'People', cell: (e) => fmt(e.count), num: true },
          ]}
        />
      </Card>
    </>
  );
}
