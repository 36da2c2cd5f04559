/**
 * A sync of one audience to one destination: what the destination should
 * hold is the audience's last good member set; what it holds is
 * `destination_sync_state` (what each person was last sent as). The sync
 * sends the difference, page by page in person id order: people of the set
 * not sent as `added` go as `entered`, people sent as `added` who are no
 * longer in the set (they left, or a GDPR delete erased them) go as
 * `exited`. The first sync is therefore the whole set, later ones the
 * diffs, and a sync stopped half-way (a crash, a destination down) is
 * finished by the next one sending only what is still pending. A record the
 * destination refuses for good goes to `export_failures` and stays pending.
 */
import { randomUUID } from 'node:crypto';
import { CdpError, type Logger } from '@cdp/core';
import type { Bus } from '@cdp/bus';
import { TABLES, type Warehouse, clickHouseTimeIso } from '@cdp/warehouse';
import { lastDone } from '../runs.js';
import { isAdPlatform, MIN_LIST_SIZE, type AdCommon } from './ad-config.js';
import { createSender, type Change, type SyncContext } from './senders.js';
import type { Destination } from './store.js';

const T = TABLES;

export interface ExportRun {
  readonly runId: string;
  readonly destinationId: string;
  readonly audience: string;
  readonly audienceVersion: number;
  /** `skipped`: nothing sent (the audience is under the platform's minimum size; see `error`). */
  readonly status: 'running' | 'done' | 'failed' | 'skipped';
  /** `full` (the first), `diff` (who entered and left) or `mirror` (the list replaced). */
  readonly mode: 'full' | 'diff' | 'mirror';
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly added: number;
  readonly removed: number;
  readonly failed: number;
  /** Members not sent: nothing to match them on, or consent for advertising withheld. */
  readonly skipped: number;
  readonly bytes: number;
  readonly error: string;
}

export interface SyncDeps {
  readonly warehouse: Warehouse;
  readonly bus: Pick<Bus, 'produce' | 'ensureTopics'>;
  readonly logger: Logger;
  readonly fetch?: typeof fetch;
  readonly sleep?: (ms: number) => Promise<void>;
  /** The clock (epoch ms) a sync's start is read from (when a list's refresh is due). */
  readonly now?: () => number;
}

interface RunRow {
  run_id: string;
  destination_id: string;
  audience: string;
  audience_version: string;
  status: ExportRun['status'];
  mode: ExportRun['mode'];
  started_at: string;
  finished_at: string | null;
  added: string;
  removed: string;
  failed: string;
  skipped: string;
  bytes: string;
  error: string;
}

const view = (r: RunRow): ExportRun => ({
  runId: r.run_id,
  destinationId: r.destination_id,
  audience: r.audience,
  audienceVersion: Number(r.audience_version),
  status: r.status,
  mode: r.mode,
  startedAt: clickHouseTimeIso(r.started_at),
  finishedAt: r.finished_at === null ? null : clickHouseTimeIso(r.finished_at),
  added: Number(r.added),
  removed: Number(r.removed),
  failed: Number(r.failed),
  skipped: Number(r.skipped),
  bytes: Number(r.bytes),
  error: r.error,
});

const RUN_COLUMNS = `run_id, destination_id, audience, toString(audience_version) AS audience_version, status,
  mode, started_at, finished_at, toString(added) AS added, toString(removed) AS removed,
  toString(failed) AS failed, toString(skipped) AS skipped, toString(bytes) AS bytes, error`;

/** Export runs, newest first: of a destination, or of one of its audiences. */
export async function listExportRuns(
  wh: Warehouse,
  destinationId: string,
  audience: string | undefined,
  limit: number,
): Promise<ExportRun[]> {
  const rows = await wh.query<RunRow>(
    `SELECT ${RUN_COLUMNS} FROM ${T.exportRuns} FINAL
     WHERE destination_id = {d:String} ${audience === undefined ? '' : 'AND audience = {a:String}'}
     ORDER BY started_at DESC, run_id LIMIT {limit:UInt32}`,
    { d: destinationId, a: audience ?? '', limit },
  );
  return rows.map(view);
}

/** The audience's last good members. */
const MEMBERS = `SELECT person_id FROM ${T.audienceSnapshots} WHERE audience = {a:String} AND version = {v:UInt64}`;

/**
 * Each person's answer for consent category {cat} in their latest event that
 * carries Segment's `context.consent.categoryPreferences` (`true`, `false`,
 * or '' when that event does not name the category).
 */
const CONSENT = `SELECT person_id, pref FROM (
    SELECT if(o.into_one_id = '', e.one_id, o.into_one_id) AS person_id,
           argMax(JSONExtractRaw(e.context, 'consent', 'categoryPreferences', {cat:String}), e.timestamp) AS pref
    FROM (SELECT one_id, context, timestamp FROM ${T.events} FINAL
          WHERE position(context, 'categoryPreferences') > 0
            AND JSONHas(context, 'consent', 'categoryPreferences')) AS e
    LEFT JOIN (SELECT from_one_id, into_one_id FROM ${T.personOverrides} FINAL) AS o
      ON e.one_id = o.from_one_id
    GROUP BY person_id
    SETTINGS join_use_nulls = 0)`;

/**
 * Who the destination should hold: the members; for an ad platform, less
 * those whose latest consent withholds the category (or, with
 * requireConsent, who never granted it).
 */
function targetOf(cfg: AdCommon | undefined): string {
  if (!cfg) return MEMBERS;
  return cfg.requireConsent
    ? `${MEMBERS} AND person_id IN (SELECT person_id FROM (${CONSENT}) WHERE pref = 'true')`
    : `${MEMBERS} AND person_id NOT IN (SELECT person_id FROM (${CONSENT}) WHERE pref != 'true')`;
}

/**
 * The people still to send, with their change (written once per sync to
 * export_pending): who should be there and was not sent (or was found
 * unmatchable: nothing to match them on, retried by the next mirror), and
 * who was sent but should not be there. A mirror sends everyone who should
 * be there.
 */
const toSend = (target: string, mirror: boolean): string =>
  mirror
    ? `SELECT person_id, 'entered' AS change FROM (${target})`
    : `SELECT person_id, change FROM (
    SELECT person_id, 'entered' AS change FROM (${target})
    WHERE person_id NOT IN (
        SELECT person_id FROM ${T.destinationSyncState} FINAL
        WHERE destination_id = {d:String} AND audience = {a:String} AND state IN ('added', 'unmatchable'))
    UNION ALL
    SELECT person_id, 'exited' AS change FROM ${T.destinationSyncState} FINAL
    WHERE destination_id = {d:String} AND audience = {a:String} AND state = 'added'
      AND person_id NOT IN (${target})
  )`;

/** A page of what is still to send, after `after` (a range of export_pending's key). */
const PENDING = `SELECT person_id, change FROM ${T.exportPending}
  WHERE run_id = {run:String} AND person_id > {after:String} ORDER BY person_id LIMIT {n:UInt32}`;

/** The ids a page's people's rows are stamped with: theirs and those merged into theirs. */
const PAGE_IDS = `(SELECT person_id FROM (${PENDING})
  UNION ALL SELECT from_one_id FROM ${T.personOverrides} FINAL
  WHERE into_one_id IN (SELECT person_id FROM (${PENDING})))`;

/** A page of changes with each person's identifiers, latest identify traits and tags. */
async function page(wh: Warehouse, p: Record<string, unknown>): Promise<Change[]> {
  const rows = await wh.query<{ person_id: string; change: 'entered' | 'exited' }>(PENDING, p);
  if (rows.length === 0) return [];
  const ids = await wh.query<{ person_id: string; ids: [string, string][] }>(
    `SELECT if(o.into_one_id = '', x.one_id, o.into_one_id) AS person_id,
            groupArray((x.id_type, x.id_value)) AS ids
     FROM ${T.identities} AS x FINAL
     LEFT JOIN (SELECT from_one_id, into_one_id FROM ${T.personOverrides} FINAL) AS o
       ON x.one_id = o.from_one_id
     WHERE (x.id_type, x.id_value) IN (SELECT id_type, id_value FROM ${T.identities} WHERE one_id IN ${PAGE_IDS})
       AND person_id IN (SELECT person_id FROM (${PENDING}))
     GROUP BY person_id
     SETTINGS join_use_nulls = 0`,
    p,
  );
  const traits = await wh.query<{ person_id: string; traits: string }>(
    `SELECT if(o.into_one_id = '', e.one_id, o.into_one_id) AS person_id,
            argMax(e.traits, e.timestamp) AS traits
     FROM (SELECT one_id, traits, timestamp FROM ${T.events} FINAL
           PREWHERE one_id IN ${PAGE_IDS} WHERE type = 'identify') AS e
     LEFT JOIN (SELECT from_one_id, into_one_id FROM ${T.personOverrides} FINAL
                WHERE from_one_id IN ${PAGE_IDS}) AS o ON e.one_id = o.from_one_id
     GROUP BY person_id
     SETTINGS join_use_nulls = 0`,
    p,
  );
  const tags = await wh.query<{ person_id: string; tags: [string, string][] }>(
    `SELECT person_id, groupArray((tag, value)) AS tags FROM ${T.personTags} FINAL
     WHERE person_id IN (SELECT person_id FROM (${PENDING})) GROUP BY person_id`,
    p,
  );
  const idsOf = new Map(ids.map((r) => [r.person_id, r.ids]));
  const traitsOf = new Map(traits.map((r) => [r.person_id, r.traits]));
  const tagsOf = new Map(tags.map((r) => [r.person_id, r.tags]));
  const parse = (s: string | undefined): Record<string, unknown> => {
    try {
      const v = JSON.parse(s ?? '{}') as unknown;
      return typeof v === 'object' && v !== null && !Array.isArray(v)
        ? (v as Record<string, unknown>)
        : {};
    } catch {
      return {};
    }
  };
  return rows.map((r) => ({
    personId: r.person_id,
    change: r.change,
    identifiers: (idsOf.get(r.person_id) ?? [])
      .map(([type, value]) => ({ type, value }))
      .sort((x, y) => x.type.localeCompare(y.type) || x.value.localeCompare(y.value)),
    traits: parse(traitsOf.get(r.person_id)),
    tags: Object.fromEntries(tagsOf.get(r.person_id) ?? []),
  }));
}

/** When the last full or mirror sync of this connection finished well (epoch ms), or 0. */
async function lastWholeSync(wh: Warehouse, d: string, audience: string): Promise<number> {
  const [row] = await wh.query<{ at: string }>(
    `SELECT toString(toUnixTimestamp64Milli(max(started_at))) AS at FROM ${T.exportRuns} FINAL
     WHERE destination_id = {d:String} AND audience = {a:String} AND status = 'done'
       AND mode IN ('full', 'mirror')`,
    { d, a: audience },
  );
  return Number(row?.at ?? 0);
}

/** Whether an ad platform's list is due its periodic replace (`refreshDays` since the last full or mirror). */
export async function refreshDue(
  wh: Warehouse,
  destination: Destination,
  audience: string,
  nowMs: number,
): Promise<boolean> {
  if (!isAdPlatform(destination.type)) return false;
  const days = (destination.config as AdCommon).refreshDays;
  if (days <= 0) return false;
  const last = await lastWholeSync(wh, destination.id, audience);
  return last > 0 && nowMs - last > days * 86_400_000;
}

/**
 * Syncs `audience` to `destination` now, up to the audience's last good
 * version (nothing when it never ran well). Answers the run.
 *
 * For an ad platform a whole upload (the first, a replace) first checks the
 * list would reach the platform's minimum size (else the run is `skipped`,
 * saying why, and nothing is sent), leaves out people whose consent withholds advertising,
 * and every `refreshDays` replaces the whole list (`mirror`).
 */
export async function syncAudience(
  deps: SyncDeps,
  audience: string,
  destination: Destination,
): Promise<ExportRun | undefined> {
  const wh = deps.warehouse;
  const done = await lastDone(wh, audience);
  if (!done) return undefined;
  const runId = randomUUID();
  const d = destination.id;
  const startedMs = (deps.now ?? Date.now)();
  const started = new Date(startedMs).toISOString();
  const totals = { added: 0, removed: 0, failed: 0, skipped: 0, bytes: 0 };
  const ad = isAdPlatform(destination.type) ? (destination.config as AdCommon) : undefined;
  const target = targetOf(ad);
  const params = {
    a: audience,
    v: done.version,
    d,
    run: runId,
    cat: ad?.consentCategory ?? '',
  };
  const [state] = await wh.query<{ n: string }>(
    `SELECT toString(count()) AS n FROM ${T.destinationSyncState}
     WHERE destination_id = {d:String} AND audience = {a:String}`,
    params,
  );
  const first = Number(state?.n ?? 0) === 0;
  const mirror = !first && (await refreshDue(wh, destination, audience, startedMs));
  const mode: ExportRun['mode'] = first ? 'full' : mirror ? 'mirror' : 'diff';
  let step = 0;
  const record = async (status: ExportRun['status'], error = ''): Promise<void> => {
    await wh.insert(T.exportRuns, [
      {
        run_id: runId,
        destination_id: d,
        audience,
        audience_version: done.version,
        status,
        mode,
        started_at: started,
        finished_at: status === 'running' ? null : new Date().toISOString(),
        ...totals,
        error: error.slice(0, 2000),
        updated: Date.now() * 100 + step++,
      },
    ]);
  };
  const answer = async (): Promise<ExportRun> => {
    const [row] = await wh.query<RunRow>(
      `SELECT ${RUN_COLUMNS} FROM ${T.exportRuns} FINAL WHERE destination_id = {d:String} AND audience = {a:String} AND run_id = {run:String}`,
      params,
    );
    return view(row as RunRow);
  };
  // A list is checked against the platform's minimum before it is uploaded
  // whole (the first sync, a replace); diffs of a list in use always go.
  if (ad && mode !== 'diff') {
    const min = MIN_LIST_SIZE[destination.type as keyof typeof MIN_LIST_SIZE];
    const [n] = await wh.query<{ n: string }>(
      `SELECT toString(count()) AS n FROM (${target})`,
      params,
    );
    const size = Number(n?.n ?? 0);
    if (size < min) {
      await record(
        'skipped',
        `${audience} has ${size} members ${ad.requireConsent ? 'who granted' : 'not withholding'} consent for ${ad.consentCategory}; ${destination.type} needs at least ${min} to use a list, so nothing was sent`,
      );
      deps.logger.warn({ destination: d, audience, size, min }, 'export_run_skipped_too_small');
      return answer();
    }
  }
  const held: Record<string, unknown>[] = [];
  const writeState = async (rows: Record<string, unknown>[]): Promise<void> => {
    for (let i = 0; i < rows.length; i += 50_000)
      await wh.insert(T.destinationSyncState, rows.slice(i, i + 50_000));
  };
  // A run still `running` here was cut off (this process runs one sync of a
  // destination at a time, so its process died): it is recorded as failed,
  // and this run sends what it left pending.
  await wh.command(
    `INSERT INTO ${T.exportRuns} (run_id, destination_id, audience, audience_version, status, mode,
       started_at, finished_at, added, removed, failed, skipped, bytes, error, updated)
     SELECT run_id, destination_id, audience, audience_version, 'failed', mode, started_at,
       now64(3), added, removed, failed, skipped, bytes,
       'interrupted: the exporter stopped during this sync; the next sync sent what it left pending',
       updated + 1
     FROM ${T.exportRuns} FINAL
     WHERE destination_id = {d:String} AND audience = {a:String} AND status = 'running'
       AND run_id != {run:String}`,
    params,
  );
  await record('running');
  let sender: ReturnType<typeof createSender> | undefined;
  try {
    await wh.command(
      `INSERT INTO ${T.exportPending} (run_id, person_id, change)
       SELECT {run:String}, person_id, change FROM (${toSend(target, mirror)})`,
      params,
    );
    const kinds = await wh.query<{ change: string; n: string }>(
      `SELECT change, toString(count()) AS n FROM ${T.exportPending} WHERE run_id = {run:String} GROUP BY change`,
      params,
    );
    const count = (c: string): number => Number(kinds.find((k) => k.change === c)?.n ?? 0);
    const ctx: SyncContext = {
      audience,
      version: done.version,
      runId,
      full: first,
      mode,
      totals: { entered: count('entered'), exited: count('exited') },
      startedAt: startedMs,
      bus: deps.bus,
      logger: deps.logger,
      ...(deps.fetch ? { fetch: deps.fetch } : {}),
      ...(deps.sleep ? { sleep: deps.sleep } : {}),
    };
    sender = createSender(destination, ctx);
    let after = '';
    for (;;) {
      const changes = await page(wh, { run: runId, after, n: sender.batchSize });
      if (changes.length === 0) break;
      after = changes[changes.length - 1]!.personId;
      const result = await sender.send(changes);
      const accepted = new Set(result.accepted);
      const skipped = new Set(result.skipped ?? []);
      const now = Date.now();
      const rows = changes
        .filter(
          (c) => accepted.has(c.personId) || (skipped.has(c.personId) && c.change === 'entered'),
        )
        .map((c, i) => ({
          destination_id: d,
          audience,
          person_id: c.personId,
          state: skipped.has(c.personId)
            ? 'unmatchable'
            : c.change === 'entered'
              ? 'added'
              : 'removed',
          version: done.version,
          updated: now * 1000 + (i % 1000),
        }));
      for (const c of changes)
        if (accepted.has(c.personId)) {
          if (c.change === 'entered') totals.added++;
          else totals.removed++;
        }
      totals.skipped += skipped.size;
      totals.bytes += result.bytes;
      if (sender.commitsPerBatch) await writeState(rows);
      else held.push(...rows);
      if (result.refused.length > 0) {
        totals.failed += result.refused.length;
        await wh.insert(
          T.exportFailures,
          result.refused.map((f) => ({
            destination_id: d,
            audience,
            run_id: runId,
            person_id: f.personId,
            change: f.change,
            reason: f.reason.slice(0, 1000),
            at: new Date(now).toISOString(),
          })),
        );
      }
      if (changes.length < sender.batchSize) break;
    }
    await sender.end();
    if (held.length > 0) await writeState(held);
    if (mirror) {
      // The replace removed everyone the list held who should not be there.
      const gone = `SELECT person_id FROM ${T.destinationSyncState} FINAL
        WHERE destination_id = {d:String} AND audience = {a:String}
          AND state IN ('added', 'unmatchable') AND person_id NOT IN (${target})`;
      const [n] = await wh.query<{ n: string }>(
        `SELECT toString(count()) AS n FROM (${gone})`,
        params,
      );
      totals.removed += Number(n?.n ?? 0);
      await wh.command(
        `INSERT INTO ${T.destinationSyncState} (destination_id, audience, person_id, state, version, updated)
         SELECT {d:String}, {a:String}, person_id, 'removed', {v:UInt64}, {u:UInt64} FROM (${gone})`,
        { ...params, u: Date.now() * 1000 + 999 },
      );
    }
    await record('done');
    deps.logger.info(
      { destination: d, audience, version: done.version, ...totals, mode },
      'export_run_done',
    );
  } catch (err) {
    await sender?.abort().catch(() => undefined);
    const message = err instanceof Error ? err.message : String(err);
    await record('failed', message).catch(() => undefined);
    deps.logger.error({ err, destination: d, audience }, 'export_run_failed');
    throw err instanceof CdpError
      ? err
      : new CdpError('CDP_ERR_EXPORT_FAILED', { message, cause: err, retryable: true });
  }
  return answer();
}
