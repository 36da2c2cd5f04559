import { CdpError, type EventSink, type Logger } from '@cdp/core';
import type { Bus } from '@cdp/bus';
import { compileAudience, validateAudience } from '@cdp/audiences';
import { TABLES, type Warehouse, clickHouseTimeIso } from '@cdp/warehouse';
import { createAudienceStore, type AudienceStore, type StoredAudience } from './store.js';
import { lastDone, listRuns, runAudience, sweepSnapshots, type AudienceRun } from './runs.js';
import {
  buildLookalike,
  isLookalikeAudience,
  lastLookalikeReport,
  parseLookalikeRequest,
  type LookalikeReport,
} from './lookalike.js';

const T = TABLES;
const SAMPLE = 20;

/** An audience as the API answers it. */
export interface AudienceView extends StoredAudience {
  /** Members in the last good run (0 before the first). */
  readonly size: number;
  /** When the last good run finished (null before the first): never a run still going. */
  readonly computedAt: string | null;
  readonly lastRun: AudienceRun | null;
  /** A lookalike audience's last build (absent for other audiences). */
  readonly lookalike?: LookalikeReport;
}

export interface PreviewAnswer {
  readonly size: number;
  readonly sample: {
    personId: string;
    identifiers: { type: string; value: string }[];
    tags: Record<string, string>;
  }[];
  /** Members by their `preferred_channel` tag (`(none)` without it). */
  readonly byChannel: Record<string, number>;
  /** Members by their `rfm_group` tag. */
  readonly byRfmGroup: Record<string, number>;
  readonly ms: number;
}

export interface MembersPage {
  readonly members: { personId: string; enteredAt: string }[];
  readonly nextCursor: string | null;
  readonly version: number;
}

/** The audience API's operations; routes only parse HTTP and call these. */
export interface AudienceService {
  list(): Promise<AudienceView[]>;
  get(name: string): Promise<AudienceView>;
  create(body: unknown): Promise<AudienceView>;
  replace(name: string, body: unknown): Promise<AudienceView>;
  remove(name: string): Promise<void>;
  preview(body: unknown): Promise<PreviewAnswer>;
  members(name: string, cursor: string | undefined, limit: number): Promise<MembersPage>;
  runs(name: string, limit: number): Promise<AudienceRun[]>;
  /** Runs it now; answers when the run is done. */
  refresh(name: string): Promise<AudienceRun>;
  /** Runs every audience whose refresh interval has passed (the schedule's tick). */
  runDue(): Promise<number>;
  /**
   * Builds (or rebuilds) a lookalike of the audience `name` from a body
   * `{ratio, exclude?, name?, seed?, refresh?}`, saves its audience and runs
   * it; answers when its members are there.
   */
  lookalike(
    name: string,
    body: unknown,
  ): Promise<{ audience: AudienceView; lookalike: LookalikeReport; run: AudienceRun }>;
}

export interface AudienceServiceDeps {
  readonly warehouse: Warehouse;
  readonly bus: Pick<Bus, 'produce'>;
  readonly changesTopic: string;
  readonly events?: EventSink | undefined;
  readonly logger: Logger;
  readonly now?: () => number;
  /** Runs in another process (distributed: the exporter service); default: here. */
  readonly remoteRefresh?: ((name: string) => Promise<AudienceRun>) | undefined;
  /** A full run of each audience at least this often; runs between are incremental (see runs.ts). */
  readonly fullEveryMs?: number | undefined;
}

const encodeCursor = (version: number, after: string): string =>
  Buffer.from(JSON.stringify([version, after])).toString('base64url');

function decodeCursor(cursor: string): [number, string] {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && typeof v[0] === 'number' && typeof v[1] === 'string')
      return [v[0], v[1]];
  } catch {
    // fall through
  }
  throw new CdpError('CDP_ERR_API_BAD_REQUEST', {
    field: 'cursor',
    message: 'cursor is not one this API gave (use nextCursor as it came)',
  });
}

export function createAudienceService(deps: AudienceServiceDeps): AudienceService {
  const wh = deps.warehouse;
  const now = deps.now ?? Date.now;
  const store: AudienceStore = createAudienceStore({ warehouse: wh, now });
  /** One run at a time per audience in this process: later callers wait for it, then run. */
  const running = new Map<string, Promise<AudienceRun>>();

  const runLocal = async (name: string, trigger: 'schedule' | 'manual'): Promise<AudienceRun> => {
    const before = running.get(name);
    const next = (async () => {
      await before?.catch(() => undefined);
      return runAudience(
        {
          warehouse: wh,
          store,
          bus: deps.bus,
          changesTopic: deps.changesTopic,
          events: deps.events,
          logger: deps.logger,
          now,
          ...(deps.fullEveryMs !== undefined ? { fullEveryMs: deps.fullEveryMs } : {}),
        },
        await store.get(name),
        trigger,
      );
    })();
    running.set(name, next);
    try {
      return await next;
    } finally {
      if (running.get(name) === next) running.delete(name);
    }
  };

  /** The sets no run needs any more, after a round: a failure only waits for the next one. */
  const sweep = async (): Promise<void> => {
    try {
      const n = await sweepSnapshots(wh);
      if (n > 0) deps.logger.debug({ sets: n }, 'audience_snapshots_swept');
    } catch (err) {
      deps.logger.warn({ err }, 'audience_snapshots_sweep_failed');
    }
  };

  const view = async (a: StoredAudience): Promise<AudienceView> => {
    const [done, [last], lookalike] = await Promise.all([
      lastDone(wh, a.name),
      listRuns(wh, a.name, 1),
      isLookalikeAudience(a) ? lastLookalikeReport(wh, a.name) : undefined,
    ]);
    return {
      ...a,
      size: done?.size ?? 0,
      computedAt: done?.finishedAt ?? null,
      lastRun: last ?? null,
      ...(lookalike ? { lookalike } : {}),
    };
  };

  return {
    async list() {
      return Promise.all((await store.list()).map(view));
    },
    async get(name) {
      return view(await store.get(name));
    },
    async create(body) {
      return view(await store.save(body, 'create'));
    },
    async replace(name, body) {
      return view(await store.save(body, 'replace', name));
    },
    async remove(name) {
      await store.remove(name);
    },
    async preview(body) {
      const started = Date.now();
      if (typeof body !== 'object' || body === null || Array.isArray(body))
        throw new CdpError('CDP_ERR_AUDIENCE_INVALID', {
          field: 'body',
          message: 'body: must be an object {definition}',
        });
      const b = body as Record<string, unknown>;
      for (const k of Object.keys(b))
        if (k !== 'definition')
          throw new CdpError('CDP_ERR_AUDIENCE_INVALID', {
            field: k,
            message: `${k}: unknown field (allowed: definition)`,
          });
      const definition = validateAudience(b['definition']);
      const q = compileAudience(await store.resolve(definition), now(), TABLES);
      // One evaluation of the definition: size, a sample, and members by
      // channel and RFM group, in one query.
      const [agg] = await wh.query<{
        size: string;
        sample: string[];
        channels: Record<string, string>;
        rfm: Record<string, string>;
      }>(
        `SELECT toString(count()) AS size,
           arraySort(groupArray(${SAMPLE})(m.person_id)) AS sample,
           CAST(sumMap(map(if(t.channel = '', '(none)', t.channel), toUInt64(1))) AS Map(String, String)) AS channels,
           CAST(sumMap(map(if(t.rfm = '', '(none)', t.rfm), toUInt64(1))) AS Map(String, String)) AS rfm
         FROM (${q.sql}) AS m
         LEFT JOIN (
           SELECT person_id, anyIf(value, tag = 'preferred_channel') AS channel, anyIf(value, tag = 'rfm_group') AS rfm
           FROM ${T.personTags} FINAL WHERE tag IN ('preferred_channel', 'rfm_group')
           GROUP BY person_id
         ) AS t ON t.person_id = m.person_id
         SETTINGS join_use_nulls = 0`,
        q.params,
      );
      const ids = agg?.sample ?? [];
      const counts = (m: Record<string, string> | undefined): Record<string, number> =>
        Object.fromEntries(
          Object.entries(m ?? {})
            .map(([k, v]) => [k, Number(v)] as const)
            .sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0])),
        );
      const [identifiers, tags] = await Promise.all([
        wh.query<{ person_id: string; id_type: string; id_value: string }>(
          `SELECT if(o.into_one_id = '', i.one_id, o.into_one_id) AS person_id, i.id_type AS id_type, i.id_value AS id_value
           FROM ${T.identities} AS i FINAL
           LEFT JOIN (SELECT from_one_id, into_one_id FROM ${T.personOverrides} FINAL) AS o ON i.one_id = o.from_one_id
           WHERE person_id IN {ids:Array(String)}
           ORDER BY id_type, id_value
           SETTINGS join_use_nulls = 0`,
          { ids },
        ),
        wh.query<{ person_id: string; tag: string; value: string }>(
          `SELECT person_id, tag, value FROM ${T.personTags} FINAL
           WHERE person_id IN {ids:Array(String)} AND NOT startsWith(tag, '_') ORDER BY tag`,
          { ids },
        ),
      ]);
      const byChannel = counts(agg?.channels);
      const byRfmGroup = counts(agg?.rfm);
      return {
        size: Number(agg?.size ?? 0),
        sample: ids.map((personId) => ({
          personId,
          identifiers: identifiers
            .filter((r) => r.person_id === personId)
            .map((r) => ({ type: r.id_type, value: r.id_value })),
          tags: Object.fromEntries(
            tags.filter((r) => r.person_id === personId).map((r) => [r.tag, r.value]),
          ),
        })),
        byChannel,
        byRfmGroup,
        ms: Date.now() - started,
      };
    },
    async members(name, cursor, limit) {
      await store.get(name);
      const [version, after] =
        cursor === undefined
          ? [(await lastDone(wh, name))?.version ?? 0, '']
          : decodeCursor(cursor);
      const rows = await wh.query<{ person_id: string; entered_at: string }>(
        `SELECT s.person_id AS person_id, toString(m.entered_at) AS entered_at
         FROM (
           SELECT person_id FROM ${T.audienceSnapshots}
           WHERE audience = {a:String} AND version = {v:UInt64} AND person_id > {after:String}
           ORDER BY person_id LIMIT {limit:UInt32}
         ) AS s
         LEFT JOIN (
           SELECT person_id, max(entered_at) AS entered_at FROM ${T.audienceMembers}
           WHERE audience = {a:String} AND change = 'entered' AND version <= {v:UInt64}
           GROUP BY person_id
         ) AS m ON m.person_id = s.person_id
         ORDER BY person_id
         SETTINGS join_use_nulls = 0`,
        { a: name, v: version, after, limit },
      );
      const last = rows[rows.length - 1];
      return {
        members: rows.map((r) => ({
          personId: r.person_id,
          enteredAt: clickHouseTimeIso(r.entered_at),
        })),
        nextCursor: rows.length === limit && last ? encodeCursor(version, last.person_id) : null,
        version,
      };
    },
    async runs(name, limit) {
      await store.get(name);
      return listRuns(wh, name, limit);
    },
    async refresh(name) {
      await store.get(name);
      if (deps.remoteRefresh) return deps.remoteRefresh(name);
      const run = await runLocal(name, 'manual');
      await sweep();
      return run;
    },
    async lookalike(name, body) {
      const req = parseLookalikeRequest(name, body);
      const built = await buildLookalike(
        { warehouse: wh, store, logger: deps.logger, now },
        name,
        req,
      );
      const run = deps.remoteRefresh
        ? await deps.remoteRefresh(built.audience.name)
        : await runLocal(built.audience.name, 'manual');
      return { audience: await view(built.audience), lookalike: built.report, run };
    },
    async runDue() {
      let ran = 0;
      for (const a of await store.list()) {
        if (a.refreshSeconds === 0 || running.has(a.name)) continue;
        const [last] = await listRuns(wh, a.name, 1);
        // A run stopped half-way (a crash) is finished at once; otherwise
        // the interval counts from the last run's time, failed or not.
        const stopped =
          last !== undefined && (last.status === 'running' || last.status === 'computed');
        if (!stopped && last && now() - Date.parse(last.at) < a.refreshSeconds * 1000) continue;
        try {
          await runLocal(a.name, 'schedule');
          ran++;
        } catch (err) {
          // Recorded in the run row; the next tick tries again.
          deps.logger.warn({ err, audience: a.name }, 'audience_scheduled_run_failed');
        }
      }
      if (ran > 0) await sweep();
      return ran;
    },
  };
}
