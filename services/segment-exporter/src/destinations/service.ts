/**
 * The destinations API's operations: destinations (secrets masked),
 * connections of audiences to them, export runs, and the schedule's part:
 * every connection whose audience has a good version newer than its last
 * done sync (or whose last sync failed over a minute ago) is synced.
 */
import { CdpError, type Logger } from '@cdp/core';
import type { Bus } from '@cdp/bus';
import type { Warehouse } from '@cdp/warehouse';
import { lastDone } from '../runs.js';
import { isAdPlatform } from './ad-config.js';
import type { SecretBox } from './secrets.js';
import { createDestinationStore, type DestinationStore, type DestinationView } from './store.js';
import { listExportRuns, refreshDue, syncAudience, type ExportRun } from './sync.js';

/** After a failed sync, the schedule waits this long before the next try. */
const RETRY_AFTER_FAILURE_MS = 60_000;

export interface ConnectionView {
  readonly audience: string;
  readonly destination: DestinationView;
  readonly lastRun: ExportRun | null;
}

export interface DestinationService {
  list(): Promise<DestinationView[]>;
  get(id: string): Promise<DestinationView>;
  create(body: unknown): Promise<DestinationView>;
  replace(id: string, body: unknown): Promise<DestinationView>;
  remove(id: string): Promise<void>;
  /** Connects an audience (`{destinationId}`); the first sync starts at once. */
  connect(audience: string, body: unknown): Promise<ConnectionView>;
  disconnect(audience: string, destinationId: string): Promise<void>;
  connections(audience: string): Promise<ConnectionView[]>;
  runs(destinationId: string, limit: number): Promise<ExportRun[]>;
  /** Syncs one connection now; answers when done. */
  sync(audience: string, destinationId: string): Promise<ExportRun | undefined>;
  /** The schedule's tick: syncs every connection with something to send. */
  syncDue(): Promise<number>;
}

export function createDestinationService(deps: {
  readonly warehouse: Warehouse;
  readonly bus: Pick<Bus, 'produce' | 'ensureTopics'>;
  readonly secrets: SecretBox;
  readonly logger: Logger;
  /** Checks that the audience exists (the audience store's get). */
  readonly audienceExists: (name: string) => Promise<unknown>;
  readonly fetch?: typeof fetch;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
  /**
   * Syncs run in this process (default). False where another process runs
   * them (the API beside a segment exporter): connecting starts no sync,
   * and `sync` says where they run.
   */
  readonly syncHere?: boolean;
}): DestinationService {
  const wh = deps.warehouse;
  const now = deps.now ?? Date.now;
  const store: DestinationStore = createDestinationStore({
    warehouse: wh,
    secrets: deps.secrets,
    now,
  });
  /**
   * One sync at a time per destination in this process: an ad platform's
   * list takes one upload at a time (parallel ones fail with
   * CONCURRENT_MODIFICATION), and a webhook or folder sees one run's
   * batches in order.
   */
  const running = new Map<string, Promise<ExportRun | undefined>>();
  const syncNow = (audience: string, destinationId: string): Promise<ExportRun | undefined> => {
    const key = destinationId;
    const before = running.get(key);
    const next = (async () => {
      await before?.catch(() => undefined);
      const d = await store.get(destinationId);
      return syncAudience(
        {
          warehouse: wh,
          bus: deps.bus,
          logger: deps.logger,
          ...(deps.fetch ? { fetch: deps.fetch } : {}),
          ...(deps.sleep ? { sleep: deps.sleep } : {}),
          now,
        },
        audience,
        d,
      );
    })();
    running.set(key, next);
    void next
      .catch(() => undefined)
      .finally(() => {
        if (running.get(key) === next) running.delete(key);
      });
    return next;
  };
  const connectionView = async (
    audience: string,
    destinationId: string,
  ): Promise<ConnectionView> => {
    const d = await store.get(destinationId);
    const [last] = await listExportRuns(wh, destinationId, audience, 1);
    return { audience, destination: store.view(d), lastRun: last ?? null };
  };
  return {
    async list() {
      return (await store.list()).map((d) => store.view(d));
    },
    async get(id) {
      return store.view(await store.get(id));
    },
    async create(body) {
      return store.view(await store.create(body));
    },
    async replace(id, body) {
      return store.view(await store.replace(id, body));
    },
    remove: (id) => store.remove(id),
    async connect(audience, body) {
      await deps.audienceExists(audience);
      const id =
        typeof body === 'object' && body !== null
          ? (body as Record<string, unknown>)['destinationId']
          : undefined;
      if (typeof id !== 'string' || id === '')
        throw new CdpError('CDP_ERR_DESTINATION_INVALID', {
          field: 'destinationId',
          message: 'destinationId is required',
        });
      const d = await store.get(id);
      if (isAdPlatform(d.type)) {
        const other = (await store.connections()).find(
          (c) => c.destinationId === id && c.audience !== audience,
        );
        if (other)
          throw new CdpError('CDP_ERR_DESTINATION_INVALID', {
            field: 'destinationId',
            message: `${d.name} already keeps audience ${other.audience}: an ad platform list follows one audience (create another destination for another list)`,
          });
      }
      await store.connect(audience, id);
      // The first sync starts at once (or on the exporter's next tick); its
      // outcome is in the run history.
      if (deps.syncHere !== false)
        syncNow(audience, id).catch((err: unknown) =>
          deps.logger.warn({ err, audience, destination: id }, 'export_first_sync_failed'),
        );
      return connectionView(audience, id);
    },
    async disconnect(audience, destinationId) {
      await store.get(destinationId);
      await store.disconnect(audience, destinationId);
    },
    async connections(audience) {
      await deps.audienceExists(audience);
      const all = await store.connections();
      return Promise.all(
        all
          .filter((c) => c.audience === audience)
          .map((c) => connectionView(audience, c.destinationId)),
      );
    },
    async runs(destinationId, limit) {
      await store.get(destinationId);
      return listExportRuns(wh, destinationId, undefined, limit);
    },
    async sync(audience, destinationId) {
      if (deps.syncHere === false)
        throw new CdpError('CDP_ERR_API_NOT_FOUND', {
          message: 'Syncs run in the segment exporter, on each tick of its schedule',
        });
      await deps.audienceExists(audience);
      return syncNow(audience, destinationId);
    },
    async syncDue() {
      let ran = 0;
      for (const c of await store.connections()) {
        if (running.has(c.destinationId)) continue;
        const done = await lastDone(wh, c.audience);
        if (!done) continue;
        const [last] = await listExportRuns(wh, c.destinationId, c.audience, 1);
        const upToDate =
          (last?.status === 'done' || last?.status === 'skipped') &&
          last.audienceVersion >= done.version;
        const waiting =
          last?.status === 'failed' &&
          now() - Date.parse(last.finishedAt ?? last.startedAt) < RETRY_AFTER_FAILURE_MS;
        // An ad platform's list is replaced every refreshDays (lists expire).
        // (A replace skipped as too small waits for the audience to change.)
        const refresh =
          upToDate &&
          last.status === 'done' &&
          (await refreshDue(wh, await store.get(c.destinationId), c.audience, now()));
        if ((upToDate && !refresh) || waiting) continue;
        try {
          await syncNow(c.audience, c.destinationId);
          ran++;
        } catch (err) {
          deps.logger.warn({ err, ...c }, 'export_scheduled_sync_failed');
        }
      }
      return ran;
    },
  };
}
