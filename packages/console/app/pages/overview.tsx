import type { JSX } from 'preact';
import { useMemo } from 'preact/hooks';
import type { ChartConfiguration } from 'chart.js';
import { get, qs, session } from '../api';
import { ChartView, PALETTE } from '../chart';
import { Card, ErrorBox, fmt, go, Loading, pct, Table, useAsync, useInterval, when } from '../ui';

export interface Point {
  t: string;
  value: number | null;
  key?: string;
}
interface Live {
  metrics: Record<string, Point[]>;
}
export interface AlertView {
  id: string;
  name: string;
  metric: string;
  windowMinutes: number;
  compare: string;
  breakdown?: string;
  muted?: boolean;
  states: {
    key: string;
    state: string;
    since: string;
    value: number | null;
    reference: number | null;
  }[];
}

const sum = (ps: readonly Point[] | undefined): number =>
  (ps ?? []).reduce((a, p) => a + (p.value ?? 0), 0);

/** Sums a broken-down series by bucket (every key), in time order. */
function byTime(ps: readonly Point[] | undefined): { t: string; value: number }[] {
  const m = new Map<string, number>();
  for (const p of ps ?? []) m.set(p.t, (m.get(p.t) ?? 0) + (p.value ?? 0));
  return [...m.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([t, value]) => ({ t, value }));
}

const hhmm = (t: string): string => t.slice(11, 16);

function line(
  label: string,
  pts: { t: string; value: number | null }[],
  color: string,
): ChartConfiguration {
  return {
    type: 'line',
    data: {
      labels: pts.map((p) => hhmm(p.t)),
      datasets: [
        {
          label,
          data: pts.map((p) => p.value),
          borderColor: color,
          backgroundColor: `${color}33`,
          fill: true,
          pointRadius: 0,
          tension: 0.25,
        },
      ],
    },
    options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true } } },
  };
}

function Stat(props: { label: string; value: string; testid: string }): JSX.Element {
  return (
    <div class="stat" data-testid={props.testid}>
      <div class="muted">{props.label}</div>
      <div class="big">{props.value}</div>
    </div>
  );
}

export function Overview(): JSX.Element {
  const admin = session()?.role === 'admin';
  const live = useAsync(() => get<Live>('/v1/metrics/live?breakdown=channel'), []);
  const now = Date.now();
  const day = useAsync(async () => {
    const range = qs({
      from: new Date(now - 86_400_000).toISOString(),
      to: new Date(now).toISOString(),
      interval: '1h',
    });
    const [uv, rev, conv] = await Promise.all(
      ['uv', 'revenue', 'conversions'].map((m) =>
        get<{ points: Point[] }>(`/v1/metrics/${m}${range}`),
      ),
    );
    return { uv: uv!.points, revenue: rev!.points, conversions: conv!.points };
  }, []);
  const alerts = useAsync(
    () => (admin ? get<{ alerts: AlertView[] }>('/v1/alerts') : Promise.resolve({ alerts: [] })),
    [],
  );
  useInterval(() => {
    live.reload();
    alerts.reload();
  }, 10_000);

  const m = live.data?.metrics;
  const channels = useMemo(() => {
    const rows = new Map<
      string,
      { channel: string; uv: number; conversions: number; revenue: number }
    >();
    const add = (metric: 'uv' | 'conversions' | 'revenue'): void => {
      for (const p of m?.[metric] ?? []) {
        const k = p.key ?? '';
        const r = rows.get(k) ?? { channel: k || '(none)', uv: 0, conversions: 0, revenue: 0 };
        r[metric] += p.value ?? 0;
        rows.set(k, r);
      }
    };
    add('uv');
    add('conversions');
    add('revenue');
    return [...rows.values()].sort((a, b) => b.uv - a.uv);
  }, [m]);
  const firing = (alerts.data?.alerts ?? []).flatMap((a) =>
    a.states.filter((s) => s.state === 'firing').map((s) => ({ alert: a, ...s })),
  );
  const uvHour = sum(m?.['uv']);
  const convHour = sum(m?.['conversions']);
  const uvLine = useMemo(() => line('UV per minute', byTime(m?.['uv']), PALETTE[0]!), [m]);
  const revLine = useMemo(
    () => line('Revenue per hour', day.data?.revenue ?? [], PALETTE[2]!),
    [day.data],
  );
  const uvDay = useMemo(() => line('UV per hour', day.data?.uv ?? [], PALETTE[1]!), [day.data]);
  return (
    <>
      <h1>Overview</h1>
      {firing.length > 0 ? (
        <div class="alerts-firing" data-testid="firing-alerts">
          {firing.map((f) => (
            <div class="firing" onClick={() => go('alerts')}>
              <strong>Firing:</strong> {f.alert.name} {f.key ? `(${f.key})` : ''}: {fmt(f.value)} vs{' '}
              {fmt(f.reference)} since {when(f.since)}
            </div>
          ))}
        </div>
      ) : null}
      <ErrorBox error={live.error ?? day.error ?? alerts.error} />
      <div class="stats">
        <Stat label="UV, last hour (per-minute sum)" value={fmt(uvHour)} testid="stat-uv" />
        <Stat label="Conversions, last hour" value={fmt(convHour)} testid="stat-conversions" />
        <Stat
          label="Conversion rate, last hour"
          value={pct(uvHour > 0 ? convHour / uvHour : null)}
          testid="stat-cr"
        />
        <Stat label="Revenue, last hour" value={fmt(sum(m?.['revenue']))} testid="stat-revenue" />
        <Stat
          label="Revenue, last 24 h"
          value={fmt(sum(day.data?.revenue))}
          testid="stat-revenue-day"
        />
      </div>
      <div class="grid2">
        <Card title="Visitors, last hour">
          <Loading when={live.loading && !m} />
          <ChartView
            config={uvLine}
            label="Unique visitors per minute, last hour"
            testid="chart-uv-hour"
          />
        </Card>
        <Card title="Visitors, last 24 hours">
          <ChartView
            config={uvDay}
            label="Unique visitors per hour, last day"
            testid="chart-uv-day"
          />
        </Card>
        <Card title="Revenue, last 24 hours">
          <ChartView
            config={revLine}
            label="Revenue per hour, last day"
            testid="chart-revenue-day"
          />
        </Card>
        <Card title="By channel, last hour">
          <Table
            testid="channels"
            rows={channels}
            columns={[
              { label: 'Channel', cell: (r) => r.channel },
              { label: 'UV', cell: (r) => fmt(r.uv), num: true },
              { label: 'Conversions', cell: (r) => fmt(r.conversions), num: true },
              {
                label: 'Conv. rate',
                cell: (r) => pct(r.uv > 0 ? r.conversions / r.uv : null),
                num: true,
              },
              { label: 'Revenue', cell: (r) => fmt(r.revenue), num: true },
            ]}
            empty="No events in the last hour."
          />
        </Card>
      </div>
    </>
  );
}
