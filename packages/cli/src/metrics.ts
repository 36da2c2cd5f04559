import { api, readJsonFile, table, type ApiTarget } from './api-client.js';

export const METRICS_USAGE = `  cdp metrics list                 metrics: built-in and your own
  cdp metrics get <name> [--from D] [--to D] [--interval 1m|5m|1h|1d] [--by channel|source|utm_campaign] [--steps A,B]
                                   a series, one bucket a line
  cdp metrics live [--by channel]  the last 60 minutes by minute (uv, events, pageviews, conversions, conversion_rate, revenue)
  cdp metrics create <file.json>   your own metric (schemas/metrics/metric-definition.json)
  cdp metrics delete <name>        delete your metric
  cdp alerts list                  alert rules with each breakdown value's state
  cdp alerts get <id>              one rule
  cdp alerts create <file.json>    {name, metric, windowMinutes, compare, direction, change | threshold, ...}; prints the new id
  cdp alerts update <id> <file.json>   replace it (a masked webhook secret keeps the stored one)
  cdp alerts delete <id>           delete it
  cdp alerts test <id>             evaluate now (nothing recorded or sent)
  cdp alerts events <id> [--limit N]   its transitions and notifications, newest first`;

interface Point {
  readonly t: string;
  readonly value: number | null;
  readonly key?: string;
}

const readJson = readJsonFile;

const need = (v: string | undefined, usage: string): string => {
  if (!v) throw new Error(`usage: cdp ${usage}`);
  return encodeURIComponent(v);
};

const round = (v: number | null): number | null =>
  v === null ? null : Math.round(v * 10_000) / 10_000;

export interface MetricsOptions {
  readonly json?: boolean | undefined;
  readonly from?: string | undefined;
  readonly to?: string | undefined;
  readonly interval?: string | undefined;
  readonly by?: string | undefined;
  readonly steps?: string | undefined;
  readonly limit?: string | undefined;
}

/** `cdp metrics <sub> ...`: answers what to print. */
export async function metricsCommand(
  target: ApiTarget,
  sub: string | undefined,
  args: readonly string[],
  opts: MetricsOptions,
): Promise<string> {
  const out = (v: unknown, text: () => string): string =>
    opts.json ? JSON.stringify(v, null, 2) : text();
  const [a] = args;
  switch (sub ?? 'list') {
    case 'list': {
      const r = await api<{ metrics: { name: string; builtin: boolean; description: string }[] }>(
        target,
        'GET',
        '/v1/metrics',
      );
      return out(r.metrics, () =>
        table(
          r.metrics.map((m) => ({ name: m.name, builtin: m.builtin, description: m.description })),
        ),
      );
    }
    case 'get': {
      const q = new URLSearchParams();
      for (const [k, v] of [
        ['from', opts.from],
        ['to', opts.to],
        ['interval', opts.interval],
        ['breakdown', opts.by],
        ['steps', opts.steps],
      ] as const)
        if (v !== undefined) q.set(k, v);
      const r = await api<{ points: Point[] }>(
        target,
        'GET',
        `/v1/metrics/${need(a, 'metrics get <name>')}?${q.toString()}`,
      );
      return out(r, () =>
        table(
          r.points.map((p) => ({
            t: p.t,
            ...(p.key !== undefined ? { key: p.key } : {}),
            value: round(p.value),
          })),
        ),
      );
    }
    case 'live': {
      const q = opts.by !== undefined ? `?breakdown=${encodeURIComponent(opts.by)}` : '';
      const r = await api<{ metrics: Record<string, Point[]> }>(
        target,
        'GET',
        `/v1/metrics/live${q}`,
      );
      return out(r, () => {
        const names = Object.keys(r.metrics);
        const first = r.metrics[names[0] ?? ''] ?? [];
        return table(
          first.map((p, i) => ({
            t: p.t.slice(11, 16),
            ...(p.key !== undefined ? { key: p.key } : {}),
            ...Object.fromEntries(names.map((n) => [n, round(r.metrics[n]?.[i]?.value ?? null)])),
          })),
        );
      });
    }
    case 'create': {
      const r = await api<{ metric: { name: string } }>(
        target,
        'POST',
        '/v1/metrics',
        await readJson(a, 'cdp metrics create <file.json>'),
      );
      return out(r.metric, () => `created ${r.metric.name}`);
    }
    case 'delete':
      await api(target, 'DELETE', `/v1/metrics/${need(a, 'metrics delete <name>')}`);
      return `deleted ${a ?? ''}`;
    default:
      throw new Error(`unknown metrics command ${sub} (list, get, live, create, delete)`);
  }
}

interface AlertView {
  readonly id: string;
  readonly name: string;
  readonly metric: string;
  readonly compare: string;
  readonly direction: string;
  readonly windowMinutes: number;
  readonly states: readonly {
    key: string;
    state: string;
    since: string;
    value: number | null;
    reference: number | null;
  }[];
}

/** `cdp alerts <sub> ...`: answers what to print. */
export async function alertsCommand(
  target: ApiTarget,
  sub: string | undefined,
  args: readonly string[],
  opts: MetricsOptions,
): Promise<string> {
  const out = (v: unknown, text: () => string): string =>
    opts.json ? JSON.stringify(v, null, 2) : text();
  const [a, b] = args;
  switch (sub ?? 'list') {
    case 'list': {
      const r = await api<{ alerts: AlertView[] }>(target, 'GET', '/v1/alerts');
      return out(r.alerts, () =>
        table(
          r.alerts.map((x) => ({
            id: x.id,
            name: x.name,
            metric: x.metric,
            rule: `${x.direction} vs ${x.compare}, ${x.windowMinutes} min`,
            firing:
              x.states
                .filter((s) => s.state === 'firing')
                .map((s) => s.key || '(all)')
                .join(', ') || null,
          })),
        ),
      );
    }
    case 'get': {
      const r = await api<{ alert: AlertView }>(
        target,
        'GET',
        `/v1/alerts/${need(a, 'alerts get <id>')}`,
      );
      return JSON.stringify(r.alert, null, 2);
    }
    case 'create': {
      const r = await api<{ alert: AlertView }>(
        target,
        'POST',
        '/v1/alerts',
        await readJson(a, 'cdp alerts create <file.json>'),
      );
      return out(r.alert, () => `created ${r.alert.id} (${r.alert.name})`);
    }
    case 'update': {
      const id = need(a, 'alerts update <id> <file.json>');
      const r = await api<{ alert: AlertView }>(
        target,
        'PUT',
        `/v1/alerts/${id}`,
        await readJson(b, 'cdp alerts update <id> <file.json>'),
      );
      return out(r.alert, () => `updated ${r.alert.id} (${r.alert.name})`);
    }
    case 'delete':
      await api(target, 'DELETE', `/v1/alerts/${need(a, 'alerts delete <id>')}`);
      return `deleted ${a ?? ''}`;
    case 'test': {
      const r = await api<{
        results: {
          key: string;
          value: number | null;
          reference: number | null;
          change: number | null;
          volume: number;
          firing: boolean;
        }[];
      }>(target, 'POST', `/v1/alerts/${need(a, 'alerts test <id>')}/test`);
      return out(r, () =>
        table(
          r.results.map((x) => ({
            key: x.key || '(all)',
            value: round(x.value),
            reference: round(x.reference),
            change: round(x.change),
            volume: x.volume,
            firing: x.firing,
          })),
        ),
      );
    }
    case 'events': {
      const limit = opts.limit !== undefined ? `?limit=${encodeURIComponent(opts.limit)}` : '';
      const r = await api<{
        events: {
          at: string;
          key: string;
          from: string;
          to: string;
          value: number | null;
          reference: number | null;
          notified: string;
        }[];
      }>(target, 'GET', `/v1/alerts/${need(a, 'alerts events <id>')}/events${limit}`);
      return out(r.events, () =>
        table(
          r.events.map((e) => ({
            at: e.at,
            key: e.key || '(all)',
            change: `${e.from} -> ${e.to}`,
            value: round(e.value),
            reference: round(e.reference),
            notified: e.notified,
          })),
        ),
      );
    }
    default:
      throw new Error(
        `unknown alerts command ${sub} (list, get, create, update, delete, test, events)`,
      );
  }
}
