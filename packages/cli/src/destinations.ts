import { api, readJsonFile, table, type ApiTarget } from './api-client.js';

/** An export run as the API answers it. */
export interface ExportRunView {
  readonly runId: string;
  readonly audience: string;
  readonly audienceVersion: number;
  readonly status: string;
  readonly mode?: string;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly added: number;
  readonly removed: number;
  readonly failed: number;
  readonly skipped?: number;
  readonly bytes: number;
  readonly error: string;
}

export interface DestinationView {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  readonly config: Record<string, unknown>;
  readonly updatedAt?: string;
}

interface ConnectionView {
  readonly audience: string;
  readonly destination: DestinationView;
  readonly lastRun: ExportRunView | null;
}

export const DESTINATIONS_USAGE = `  cdp destinations list             destinations: id, name, type (secrets masked)
  cdp destinations get <id>         one destination with its config
  cdp destinations create <file.json>      {name, type, config}; prints the new id
  cdp destinations update <id> <file.json> replace name and config (a masked secret keeps the stored one)
  cdp destinations delete <id>      delete it and its connections
  cdp destinations connect <audience> <id>     deliver the audience there (the first sync starts at once)
  cdp destinations disconnect <audience> <id>  stop delivering it
  cdp destinations connections <audience>      where the audience goes, with each last run
  cdp destinations sync <audience> <id>        sync now and print the run
  cdp destinations runs <id> [--limit N]       export runs, newest first`;

const runRow = (r: ExportRunView): Record<string, unknown> => ({
  audience: r.audience,
  version: r.audienceVersion,
  status: r.status,
  mode: r.mode ?? null,
  startedAt: r.startedAt,
  added: r.added,
  removed: r.removed,
  failed: r.failed,
  skipped: r.skipped ?? null,
  bytes: r.bytes,
  error: r.error === '' ? null : r.error,
});

/** One line for a run. */
export function exportRunSummary(r: ExportRunView | null): string {
  if (r === null) return 'nothing to sync yet (the audience has no good run)';
  const how = r.mode ? ` ${r.mode}` : '';
  const skipped = r.skipped ? `, ${r.skipped} skipped` : '';
  const error = r.error ? ` (${r.error})` : '';
  return `${r.audience} v${r.audienceVersion}: ${r.status}${how}, ${r.added} added, ${r.removed} removed, ${r.failed} failed${skipped}${error}`;
}

const readJson = readJsonFile;

const need = (v: string | undefined, usage: string): string => {
  if (!v) throw new Error(`usage: cdp destinations ${usage}`);
  return encodeURIComponent(v);
};

/**
 * `cdp destinations <sub> ...`: answers what to print (JSON when `json`).
 * `args` are the words after the subcommand.
 */
export async function destinationsCommand(
  target: ApiTarget,
  sub: string | undefined,
  args: readonly string[],
  opts: { json?: boolean | undefined; limit?: string | undefined },
): Promise<string> {
  const out = (v: unknown, text: () => string): string =>
    opts.json ? JSON.stringify(v, null, 2) : text();
  const [a, b] = args;
  switch (sub ?? 'list') {
    case 'list': {
      const r = await api<{ destinations: DestinationView[] }>(target, 'GET', '/v1/destinations');
      return out(r.destinations, () =>
        table(
          r.destinations.map((d) => ({
            id: d.id,
            name: d.name,
            type: d.type,
            updatedAt: d.updatedAt,
          })),
        ),
      );
    }
    case 'get': {
      const r = await api<{ destination: DestinationView }>(
        target,
        'GET',
        `/v1/destinations/${need(a, 'get <id>')}`,
      );
      return JSON.stringify(r.destination, null, 2);
    }
    case 'create': {
      const body = await readJson(a, 'cdp destinations create <file.json>');
      const r = await api<{ destination: DestinationView }>(
        target,
        'POST',
        '/v1/destinations',
        body,
      );
      return out(
        r.destination,
        () => `created ${r.destination.name} (${r.destination.type}): ${r.destination.id}`,
      );
    }
    case 'update': {
      const id = need(a, 'update <id> <file.json>');
      const body = await readJson(b, 'cdp destinations update <id> <file.json>');
      const r = await api<{ destination: DestinationView }>(
        target,
        'PUT',
        `/v1/destinations/${id}`,
        body,
      );
      return out(r.destination, () => `updated ${r.destination.name}: ${r.destination.id}`);
    }
    case 'delete':
      await api(target, 'DELETE', `/v1/destinations/${need(a, 'delete <id>')}`);
      return `deleted ${a ?? ''}`;
    case 'connect': {
      const audience = need(a, 'connect <audience> <id>');
      need(b, 'connect <audience> <id>');
      const r = await api<{ connection: ConnectionView }>(
        target,
        'POST',
        `/v1/audiences/${audience}/destinations`,
        {
          destinationId: b,
        },
      );
      return out(
        r.connection,
        () =>
          `connected ${a ?? ''} to ${r.connection.destination.name}: the first sync has started`,
      );
    }
    case 'disconnect':
      await api(
        target,
        'DELETE',
        `/v1/audiences/${need(a, 'disconnect <audience> <id>')}/destinations/${need(b, 'disconnect <audience> <id>')}`,
      );
      return `disconnected ${a ?? ''} from ${b ?? ''}`;
    case 'connections': {
      const r = await api<{ connections: ConnectionView[] }>(
        target,
        'GET',
        `/v1/audiences/${need(a, 'connections <audience>')}/destinations`,
      );
      return out(r.connections, () =>
        table(
          r.connections.map((c) => ({
            destination: c.destination.name,
            id: c.destination.id,
            type: c.destination.type,
            lastRun: c.lastRun ? exportRunSummary(c.lastRun) : null,
          })),
        ),
      );
    }
    case 'sync': {
      const r = await api<{ run: ExportRunView | null }>(
        target,
        'POST',
        `/v1/audiences/${need(a, 'sync <audience> <id>')}/destinations/${need(b, 'sync <audience> <id>')}/sync`,
      );
      return out(r.run, () => exportRunSummary(r.run));
    }
    case 'runs': {
      const limit = opts.limit === undefined ? '' : `?limit=${encodeURIComponent(opts.limit)}`;
      const r = await api<{ runs: ExportRunView[] }>(
        target,
        'GET',
        `/v1/destinations/${need(a, 'runs <id> [--limit N]')}/runs${limit}`,
      );
      return out(r.runs, () => table(r.runs.map(runRow)));
    }
    default:
      throw new Error(
        `unknown destinations command ${sub ?? ''} (list, get, create, update, delete, connect, disconnect, connections, sync, runs)`,
      );
  }
}
