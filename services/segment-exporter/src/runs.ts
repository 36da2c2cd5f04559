/**
 * One run of an audience: its definition evaluated at one time into the
 * member set of a new version, the difference with the last good version
 * written as change rows and published.
 *
 * Steps, each recorded in `audience_runs` so that a run stopped at any point
 * (a crash, kill -9) is finished by the next one with the same version:
 *   1. `running`: the set is computed into `audience_snapshots`
 *      (a half-written set is deleted and computed again: nothing of this
 *      version was published yet). A `full` run evaluates everyone; an
 *      `incremental` one (the definition, with every `in_audience` inlined,
 *      is the one the last good run ran, and a full run happened within
 *      `fullEveryMs`) first writes to `audience_candidates` the people
 *      something happened to since the last good run (events loaded, events
 *      whose time a sliding window's edge passed over, the tags it reads
 *      changed, merges, splits, deletes), evaluates only those and keeps
 *      everyone else's membership as it was;
 *   2. `computed`: the set is final; the diff against the last `done`
 *      version goes to `audience_members` (replacing rows: a replay writes
 *      the same ones), then to `cdp.audiences.changes` and, as `Audience
 *      Entered` / `Audience Exited` track events, to ingest (message ids
 *      derive from audience, version, person and change, so a replay sends
 *      the same ids and is stored once);
 *   3. `done` (or `failed`, with the error: the last good set stays the
 *      membership, and the next run starts a new version).
 * The sets no run needs any more go in one sweep (`sweepSnapshots`) after
 * a round of runs, not one DELETE per run.
 */
import { createHash } from 'node:crypto';
import {
  CdpError,
  eventIdentity,
  stableMessageId,
  type EventSink,
  type Logger,
  type TrackCall,
} from '@cdp/core';
import type { Bus } from '@cdp/bus';
import { compileAudience, movingWindows, type Condition } from '@cdp/audiences';
import { TABLES, type Warehouse, clickHouseTimeIso } from '@cdp/warehouse';
import type { AudienceStore, StoredAudience } from './store.js';

const T = TABLES;
/** People per page when publishing a diff. */
const PAGE = 5000;
/**
 * Events loaded this long before the last good run's time are looked at
 * again: an insert that began before that run and became visible after its
 * query (the load time is the warehouse's clock at the insert's start).
 */
const LOAD_MARGIN_MS = 60_000;
/**
 * Tags written this long before the last good run's time are looked at
 * again: a tag run stamps its rows with its start time, and writes them
 * when it ends.
 */
const TAG_MARGIN_MS = 15 * 60_000;
/** A full run at least this often by default (what incremental runs could miss is bounded by it). */
export const DEFAULT_FULL_EVERY_MS = 3_600_000;

export type RunStatus = 'running' | 'computed' | 'done' | 'failed';
export type RunMode = 'full' | 'incremental';

/** A run as the API shows it. */
export interface AudienceRun {
  readonly audience: string;
  readonly version: number;
  readonly status: RunStatus;
  readonly trigger: string;
  /** The time the definition was evaluated for. */
  readonly at: string;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly size: number;
  readonly entered: number;
  readonly exited: number;
  readonly durationMs: number;
  readonly error: string;
  /** `full`: everyone evaluated; `incremental`: only `candidates`, everyone else kept. */
  readonly mode: RunMode;
  /** The people an incremental run evaluated (null on a full run). */
  readonly candidates: number | null;
}

/** What `cdp.audiences.changes` carries, one message per person and change. */
export interface AudienceChangeMessage {
  readonly schemaVersion: 1;
  readonly audience: string;
  readonly version: number;
  readonly personId: string;
  readonly change: 'entered' | 'exited';
  /** Epoch ms of the run's evaluation time. */
  readonly at: number;
}

export interface RunDeps {
  readonly warehouse: Warehouse;
  readonly store: AudienceStore;
  readonly bus: Pick<Bus, 'produce'>;
  readonly changesTopic: string;
  readonly events?: EventSink | undefined;
  readonly logger: Logger;
  readonly now?: () => number;
  /** Most seconds one run's query may take (default 120). */
  readonly maxExecutionSeconds?: number;
  /** A full run at least this often (default `DEFAULT_FULL_EVERY_MS`; 0: every run is full). */
  readonly fullEveryMs?: number;
}

interface RunRow {
  audience: string;
  run_version: string;
  status: RunStatus;
  trigger: string;
  at: string;
  started_at: string;
  finished_at: string | null;
  size: string;
  entered: string;
  exited: string;
  duration_ms: string;
  error: string;
  at_ms: string;
  mode: RunMode;
  evaluated: string;
  definition_hash: string;
}

export const runView = (r: RunRow): AudienceRun => ({
  audience: r.audience,
  version: Number(r.run_version),
  status: r.status,
  trigger: r.trigger,
  at: clickHouseTimeIso(r.at),
  startedAt: clickHouseTimeIso(r.started_at),
  finishedAt: r.finished_at === null ? null : clickHouseTimeIso(r.finished_at),
  size: Number(r.size),
  entered: Number(r.entered),
  exited: Number(r.exited),
  durationMs: Number(r.duration_ms),
  error: r.error,
  mode: r.mode,
  candidates: r.mode === 'incremental' ? Number(r.evaluated) : null,
});

export const RUN_COLUMNS = `audience, toString(version) AS run_version, status, trigger, at, started_at, finished_at,
  toString(size) AS size, toString(entered) AS entered, toString(exited) AS exited,
  toString(duration_ms) AS duration_ms, error, toString(toUnixTimestamp64Milli(at)) AS at_ms,
  mode, toString(evaluated) AS evaluated, definition_hash`;

/** The runs of an audience, newest first. */
export async function listRuns(
  wh: Warehouse,
  audience: string,
  limit: number,
): Promise<AudienceRun[]> {
  const rows = await wh.query<RunRow>(
    `SELECT ${RUN_COLUMNS} FROM ${T.audienceRuns} FINAL
     WHERE audience = {a:String} ORDER BY version DESC LIMIT {limit:UInt32}`,
    { a: audience, limit },
  );
  return rows.map(runView);
}

async function lastDoneRow(wh: Warehouse, audience: string): Promise<RunRow | undefined> {
  const [row] = await wh.query<RunRow>(
    `SELECT ${RUN_COLUMNS} FROM ${T.audienceRuns} FINAL
     WHERE audience = {a:String} AND status = 'done' ORDER BY version DESC LIMIT 1`,
    { a: audience },
  );
  return row;
}

/** The last run that finished well (its set is the membership), if any. */
export async function lastDone(wh: Warehouse, audience: string): Promise<AudienceRun | undefined> {
  const row = await lastDoneRow(wh, audience);
  return row ? runView(row) : undefined;
}

/** What an incremental run compares with the last good run's: the definition as evaluated. */
const definitionHash = (c: Condition): string =>
  createHash('sha256').update(JSON.stringify(c)).digest('hex');

/**
 * Whether this run can be incremental: the last good run ran the same
 * definition, for an earlier time, and a full run finished well less than
 * `fullEveryMs` before `at`.
 */
async function canIncrement(
  deps: RunDeps,
  a: string,
  done: RunRow | undefined,
  hash: string,
  at: number,
): Promise<boolean> {
  const every = deps.fullEveryMs ?? DEFAULT_FULL_EVERY_MS;
  if (!done || every <= 0 || done.definition_hash !== hash || Number(done.at_ms) >= at)
    return false;
  const [full] = await deps.warehouse.query<{ at: string }>(
    `SELECT toString(toUnixTimestamp64Milli(max(at))) AS at FROM ${T.audienceRuns} FINAL
     WHERE audience = {a:String} AND status = 'done' AND mode = 'full'`,
    { a },
  );
  return full !== undefined && Number(full.at) > 0 && at - Number(full.at) < every;
}

/**
 * Writes to `audience_candidates` (as version `v`) the people whose
 * membership may differ between the last good run's time (`prevAt`) and
 * `at`: the people of events loaded since (less `LOAD_MARGIN_MS`), of events
 * whose time one of `windows` holds, of merges, splits and deletes since
 * (the ids before and after), and whose tags among `tags` changed since
 * (less `TAG_MARGIN_MS`), and whose rows of the stored `lists` were
 * written since (a lookalike rebuilt). Answers how many.
 */
async function writeCandidates(
  wh: Warehouse,
  p: { a: string; v: number; prev: number },
  prevAt: number,
  windows: ReadonlyArray<readonly [number, number]>,
  events: readonly string[],
  tags: readonly string[],
  lists: readonly string[],
): Promise<number> {
  const params: Record<string, unknown> = {
    ...p,
    since: prevAt - LOAD_MARGIN_MS,
    tagSince: prevAt - TAG_MARGIN_MS,
    events: [...events],
    tags: [...tags],
    lists: [...lists],
  };
  const ts = (name: string): string => `fromUnixTimestamp64Milli({${name}:Int64}, 'UTC')`;
  const ids = [
    `SELECT one_id FROM ${T.events} WHERE loaded_at >= ${ts('since')}`,
    `SELECT one_id FROM ${T.identityAudit} WHERE at >= ${ts('since')}`,
    `SELECT other_id FROM ${T.identityAudit} WHERE at >= ${ts('since')}`,
  ];
  if (windows.length > 0 && events.length > 0) {
    const edges = windows.map(([lo, hi], i) => {
      params[`lo${i}`] = lo;
      params[`hi${i}`] = hi;
      return `(timestamp >= ${ts(`lo${i}`)} AND timestamp <= ${ts(`hi${i}`)})`;
    });
    ids.push(
      `SELECT one_id FROM ${T.events} WHERE (${edges.join(' OR ')}) AND event IN {events:Array(String)}`,
    );
  }
  const persons = [
    `SELECT if(o.into_one_id = '', x.one_id, o.into_one_id) AS person_id
     FROM (${ids.join(' UNION ALL ')}) AS x
     LEFT JOIN (SELECT from_one_id, into_one_id FROM ${T.personOverrides} FINAL) AS o
       ON x.one_id = o.from_one_id
     WHERE x.one_id != ''`,
    // The ids of merges, splits and deletes as they were: a member merged
    // away (now nobody) is evaluated, and leaves.
    `SELECT one_id AS person_id FROM ${T.identityAudit} WHERE at >= ${ts('since')}`,
    `SELECT other_id FROM ${T.identityAudit} WHERE at >= ${ts('since')} AND other_id != ''`,
  ];
  if (tags.length > 0)
    persons.push(
      `SELECT person_id FROM ${T.personTags}
       WHERE tag IN {tags:Array(String)} AND computed_at >= ${ts('tagSince')}`,
    );
  // Every row of a list, deleted ones too (no FINAL): one who left it is evaluated, and leaves.
  if (lists.length > 0)
    persons.push(
      `SELECT person_id FROM ${T.audienceLists}
       WHERE list IN {lists:Array(String)} AND computed_at >= ${ts('tagSince')}`,
    );
  await wh.command(
    `INSERT INTO ${T.audienceCandidates} (audience, version, person_id)
     SELECT {a:String}, {v:UInt64}, person_id FROM (${persons.join(' UNION ALL ')})
     GROUP BY person_id
     SETTINGS join_use_nulls = 0`,
    params,
  );
  const [n] = await wh.query<{ n: string }>(
    `SELECT toString(count()) AS n FROM ${T.audienceCandidates}
     WHERE audience = {a:String} AND version = {v:UInt64}`,
    p,
  );
  return Number(n?.n ?? 0);
}

/**
 * Deletes the member sets no run needs any more, of every audience in one
 * statement: those before each audience's last good version, and those of
 * failed runs. Answers how many sets went.
 */
export async function sweepSnapshots(wh: Warehouse): Promise<number> {
  const rows = await wh.query<{ k: string }>(
    `SELECT concat(s.audience, '\n', toString(s.version)) AS k
     FROM (SELECT DISTINCT audience, version FROM ${T.audienceSnapshots}) AS s
     LEFT JOIN (
       SELECT audience, max(version) AS keep FROM ${T.audienceRuns} FINAL
       WHERE status = 'done' GROUP BY audience
     ) AS d ON d.audience = s.audience
     LEFT JOIN (SELECT audience, version, status FROM ${T.audienceRuns} FINAL) AS r
       ON r.audience = s.audience AND r.version = s.version
     WHERE s.version < d.keep OR r.status = 'failed'
     SETTINGS join_use_nulls = 0`,
  );
  if (rows.length === 0) return 0;
  await wh.command(
    `DELETE FROM ${T.audienceSnapshots}
     WHERE has({keys:Array(String)}, concat(audience, '\n', toString(version)))`,
    { keys: rows.map((r) => r.k) },
  );
  return rows.length;
}

/** Runs `audience` now (one run at a time per audience and process: callers queue). */
export async function runAudience(
  deps: RunDeps,
  audience: StoredAudience,
  trigger: 'schedule' | 'manual',
): Promise<AudienceRun> {
  const wh = deps.warehouse;
  const clock = deps.now ?? Date.now;
  const a = audience.name;
  const started = Date.now();
  const [last] = await wh.query<RunRow>(
    `SELECT ${RUN_COLUMNS} FROM ${T.audienceRuns} FINAL WHERE audience = {a:String} ORDER BY version DESC LIMIT 1`,
    { a },
  );
  const resumed = last !== undefined && (last.status === 'running' || last.status === 'computed');
  const version = resumed ? Number(last.run_version) : Number(last?.run_version ?? 0) + 1;
  const at = resumed ? Number(last.at_ms) : clock();
  const done = await lastDoneRow(wh, a);
  const prev = done ? Number(done.run_version) : 0;
  let step = 0;
  // What the run row says of how it evaluates (kept by every later write of it).
  let mode: RunMode = resumed ? last.mode : 'full';
  let hash = resumed ? last.definition_hash : '';
  let evaluated = resumed ? Number(last.evaluated) : 0;
  const record = async (
    status: RunStatus,
    extra: Partial<Record<string, unknown>> = {},
  ): Promise<void> => {
    await wh.insert(T.audienceRuns, [
      {
        audience: a,
        version,
        status,
        trigger,
        at,
        definition_version: audience.version,
        started_at: resumed ? clickHouseTimeIso(last.started_at) : new Date(started).toISOString(),
        finished_at: null,
        size: 0,
        entered: 0,
        exited: 0,
        duration_ms: 0,
        error: '',
        mode,
        evaluated,
        definition_hash: hash,
        // Later writes of one run win, and a resumed run's writes win over the old ones.
        updated: Date.now() * 10 + step++,
        ...extra,
      },
    ]);
  };
  const p = { a, v: version, prev, at };
  const settings = `SETTINGS join_use_nulls = 0, max_execution_time = ${Math.trunc(deps.maxExecutionSeconds ?? 120)}`;
  try {
    if (resumed)
      deps.logger.warn({ audience: a, version, status: last.status }, 'audience_run_resumed');
    if (!resumed || last.status === 'running') {
      const resolved = await deps.store.resolve(audience.definition, a);
      hash = definitionHash(resolved);
      const q = compileAudience(resolved, at, TABLES);
      // A resumed run stays incremental only while the definition is the same.
      const increment =
        done !== undefined &&
        done.definition_hash === hash &&
        (resumed ? mode === 'incremental' : await canIncrement(deps, a, done, hash, at));
      const windows = increment
        ? movingWindows(compileAudience(resolved, Number(done.at_ms), TABLES).bounds, q.bounds)
        : undefined;
      mode = windows ? 'incremental' : 'full';
      evaluated = 0;
      await record('running');
      if (resumed) {
        // What a stopped run of this version half-wrote goes first.
        await wh.command(
          `DELETE FROM ${T.audienceSnapshots} WHERE audience = {a:String} AND version = {v:UInt64}`,
          p,
        );
        await wh.command(
          `DELETE FROM ${T.audienceCandidates} WHERE audience = {a:String} AND version = {v:UInt64}`,
          p,
        );
      }
      if (windows && done) {
        evaluated = await writeCandidates(
          wh,
          p,
          Number(done.at_ms),
          windows,
          q.events,
          q.tags,
          q.lists,
        );
        const candidates = `(SELECT person_id FROM ${T.audienceCandidates} WHERE audience = {a:String} AND version = {v:UInt64})`;
        const some = compileAudience(resolved, at, TABLES, { persons: candidates });
        await wh.command(
          `INSERT INTO ${T.audienceSnapshots} (audience, version, person_id)
           SELECT {a:String}, {v:UInt64}, person_id FROM (
             SELECT person_id FROM ${T.audienceSnapshots}
             WHERE audience = {a:String} AND version = {prev:UInt64} AND person_id NOT IN ${candidates}
             UNION ALL
             SELECT person_id FROM (${some.sql})
           )
           ${settings}`,
          { ...some.params, ...p },
        );
      } else {
        await wh.command(
          `INSERT INTO ${T.audienceSnapshots} (audience, version, person_id)
           SELECT {a:String}, {v:UInt64}, person_id FROM (${q.sql})
           ${settings}`,
          { ...q.params, ...p },
        );
      }
      await record('computed');
    }
    const set = (v: string): string =>
      `(SELECT person_id FROM ${T.audienceSnapshots} WHERE audience = {a:String} AND version = ${v})`;
    await wh.command(
      `INSERT INTO ${T.audienceMembers} (audience, person_id, version, change, entered_at, exited_at)
       SELECT {a:String}, person_id, {v:UInt64}, 'entered', fromUnixTimestamp64Milli({at:Int64}, 'UTC'), NULL
       FROM ${set('{v:UInt64}')} WHERE person_id NOT IN ${set('{prev:UInt64}')}
       UNION ALL
       SELECT {a:String}, x.person_id, {v:UInt64}, 'exited', m.entered_at, fromUnixTimestamp64Milli({at:Int64}, 'UTC')
       FROM (SELECT person_id FROM ${set('{prev:UInt64}')} WHERE person_id NOT IN ${set('{v:UInt64}')}) AS x
       LEFT JOIN (
         SELECT person_id, max(entered_at) AS entered_at FROM ${T.audienceMembers}
         WHERE audience = {a:String} AND change = 'entered' AND version < {v:UInt64}
         GROUP BY person_id
       ) AS m ON m.person_id = x.person_id`,
      p,
    );
    const counts = await wh.query<{ size: string; entered: string; exited: string }>(
      `SELECT
         toString((SELECT count() FROM ${T.audienceSnapshots} WHERE audience = {a:String} AND version = {v:UInt64})) AS size,
         toString(uniqExactIf(person_id, change = 'entered')) AS entered,
         toString(uniqExactIf(person_id, change = 'exited')) AS exited
       FROM ${T.audienceMembers} WHERE audience = {a:String} AND version = {v:UInt64}`,
      p,
    );
    const c = counts[0] ?? { size: '0', entered: '0', exited: '0' };
    await publish(deps, a, version, at);
    const finished = Date.now();
    await record('done', {
      finished_at: new Date(finished).toISOString(),
      size: Number(c.size),
      entered: Number(c.entered),
      exited: Number(c.exited),
      duration_ms: finished - started,
    });
    deps.logger.info(
      {
        audience: a,
        version,
        mode,
        ...(mode === 'incremental' ? { candidates: evaluated } : {}),
        size: Number(c.size),
        entered: Number(c.entered),
        exited: Number(c.exited),
        ms: finished - started,
      },
      'audience_run_done',
    );
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    deps.logger.error({ err, audience: a, version }, 'audience_run_failed');
    const finished = Date.now();
    await record('failed', {
      finished_at: new Date(finished).toISOString(),
      duration_ms: finished - started,
      error: message.slice(0, 2000),
    }).catch(() => undefined);
    throw new CdpError('CDP_ERR_AUDIENCE_RUN_FAILED', {
      message: `The run of ${a} (version ${version}) failed: ${message}`,
      retryable: err instanceof CdpError ? err.retryable : false,
      cause: err,
    });
  }
  const [row] = await wh.query<RunRow>(
    `SELECT ${RUN_COLUMNS} FROM ${T.audienceRuns} FINAL WHERE audience = {a:String} AND version = {v:UInt64}`,
    p,
  );
  return runView(row as RunRow);
}

/** The diff of a version to the changes topic and, as track events, to ingest. */
async function publish(deps: RunDeps, a: string, version: number, at: number): Promise<void> {
  const wh = deps.warehouse;
  let after = '';
  let skipped = 0;
  for (;;) {
    const changes = `SELECT DISTINCT person_id, change FROM ${T.audienceMembers}
         WHERE audience = {a:String} AND version = {v:UInt64} AND person_id > {after:String}
         ORDER BY person_id LIMIT {page:UInt32}`;
    const page = await wh.query<{
      person_id: string;
      change: 'entered' | 'exited';
      user_id: string;
      anonymous_id: string;
    }>(
      `SELECT c.person_id AS person_id, c.change AS change, i.user_id AS user_id, i.anonymous_id AS anonymous_id
       FROM (${changes}) AS c
       LEFT JOIN (
         SELECT if(o.into_one_id = '', x.one_id, o.into_one_id) AS person_id,
                anyIf(x.id_value, x.id_type = 'user_id') AS user_id,
                minIf(x.id_value, x.id_type = 'anonymous_id') AS anonymous_id
         FROM ${T.identities} AS x FINAL
         LEFT JOIN (SELECT from_one_id, into_one_id FROM ${T.personOverrides} FINAL) AS o ON x.one_id = o.from_one_id
         WHERE x.id_type IN ('user_id', 'anonymous_id')
           -- The keys that ever named one of these people (found without
           -- FINAL, through the key's index), then their latest rows.
           AND (x.id_type, x.id_value) IN (
             SELECT id_type, id_value FROM ${T.identities}
             WHERE id_type IN ('user_id', 'anonymous_id') AND one_id IN (
               SELECT person_id FROM (${changes})
               UNION ALL
               SELECT from_one_id FROM ${T.personOverrides} FINAL
               WHERE into_one_id IN (SELECT person_id FROM (${changes}))
             )
           )
           AND if(o.into_one_id = '', x.one_id, o.into_one_id) IN (SELECT person_id FROM (${changes}))
         GROUP BY person_id
       ) AS i ON i.person_id = c.person_id
       ORDER BY c.person_id
       SETTINGS join_use_nulls = 0`,
      { a, v: version, after, page: PAGE },
    );
    if (page.length === 0) break;
    after = page[page.length - 1]!.person_id;
    await deps.bus.produce(
      deps.changesTopic,
      page.map((m) => ({
        key: m.person_id,
        value: JSON.stringify({
          schemaVersion: 1,
          audience: a,
          version,
          personId: m.person_id,
          change: m.change,
          at,
        } satisfies AudienceChangeMessage),
      })),
    );
    if (deps.events) {
      const calls: TrackCall[] = [];
      for (const m of page) {
        const who = eventIdentity(m);
        if (!who) {
          skipped++;
          continue;
        }
        calls.push({
          type: 'track',
          messageId: stableMessageId(`audience|${a}|${version}|${m.person_id}|${m.change}`),
          ...who,
          event: m.change === 'entered' ? 'Audience Entered' : 'Audience Exited',
          properties: { audience: a, version, personId: m.person_id },
          timestamp: new Date(at).toISOString(),
          context: { library: { name: 'cdp-segment-exporter', version: '0.1.0' } },
        });
      }
      for (let i = 0; i < calls.length; i += 1000)
        await deps.events.track(calls.slice(i, i + 1000));
    }
    if (page.length < PAGE) break;
  }
  if (skipped > 0)
    deps.logger.warn({ audience: a, version, skipped }, 'audience_event_without_identifier');
}
