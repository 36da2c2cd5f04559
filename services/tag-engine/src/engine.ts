import { createHash } from 'node:crypto';
import { CdpError, type Logger, type Topics } from '@cdp/core';
import type { Bus } from '@cdp/bus';
import {
  buildFactsSelect,
  buildRankInputsSelect,
  buildScoresSelect,
  buildTagsSelect,
  DERIVED_SOURCE_ID,
  orderDefinitions,
  SqlParams,
  type TagDefinition,
} from '@cdp/tags';
import { TABLES, type Warehouse, clickHouseTimeMs } from '@cdp/warehouse';
import type { DefinitionStore, RunReport } from '@cdp/tag-store';
import { tierEvents, type EventSink } from './tier-events.js';

export interface TagEngineDeps {
  /** Its own warehouse connection (on chDB: its own session, so loading is not stalled). */
  readonly warehouse: Warehouse;
  readonly bus: Bus;
  readonly topics: Topics;
  readonly logger: Logger;
  readonly definitions: DefinitionStore;
  /** Where `Tier Upgraded` / `Tier Downgraded` go: ingest's own path. */
  readonly events?: EventSink | undefined;
  /** Events loaded less than this before a run wait for the next one (inserts in flight). */
  readonly loadMarginMs?: number;
  readonly now?: () => number;
}

export interface TagEngine {
  /** Runs now (after a run in progress): incremental unless `full` or the definitions changed. */
  run(opts?: { full?: boolean }): Promise<RunReport>;
  /** Runs every `intervalMs` until stopped; a failed run is logged and retried next time. */
  start(intervalMs: number): void;
  stop(): Promise<void>;
}

interface LastRun {
  run_id: string;
  events_to: string;
  overrides_to: string;
  definitions: string;
  started_at: string;
}

const PAGE = 10_000;
const T = TABLES;
/** Splits and deletes are found by their audit time; look back this far past the last run. */
const AUDIT_LOOKBACK_MS = 10 * 60_000;
/** A person's own events: not the ones the platform derives (tier changes, audience entries). */
const OWN_EVENTS = `source_id != '${DERIVED_SOURCE_ID}'`;
/** The events columns facts read. */
const FACT_COLUMNS = `one_id, source_id, anonymous_id, user_id, message_id, timestamp, type, event, name, channel,
  utm_source, utm_medium, utm_campaign, referrer, page_url, properties, traits`;
/**
 * Rows whose anonymous id is one of `sub`'s (`anonymous_id, user_id` rows),
 * or with none, whose user id is: the second column of the sorting key, so
 * the primary index narrows the scan.
 */
const keysOf = (sub: string): string =>
  `((anonymous_id != '' AND anonymous_id IN (SELECT anonymous_id FROM (${sub}) WHERE anonymous_id != ''))
    OR (anonymous_id = '' AND user_id IN (SELECT user_id FROM (${sub}) WHERE anonymous_id = '')))`;

const iso = (ms: number): string => new Date(ms).toISOString();

/** A hash of the enabled definitions: a change forces a full run. */
export function definitionsHash(defs: readonly TagDefinition[]): string {
  return createHash('sha256').update(JSON.stringify(defs)).digest('hex');
}

export function createTagEngine(deps: TagEngineDeps): TagEngine {
  const { warehouse: wh, logger } = deps;
  const now = deps.now ?? Date.now;
  const margin = deps.loadMarginMs ?? 2000;
  let chain: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let lastRunId = 0;

  const lastDone = async (): Promise<LastRun | undefined> => {
    const rows = await wh.query<LastRun>(
      `SELECT toString(run_id) AS run_id, toString(events_to) AS events_to, toString(overrides_to) AS overrides_to,
         definitions, toString(started_at) AS started_at
       FROM ${T.tagRuns} FINAL WHERE status = 'done' ORDER BY run_id DESC LIMIT 1`,
    );
    return rows[0];
  };

  const count = async (sql: string, params: Record<string, unknown> = {}): Promise<number> => {
    const [r] = await wh.query<{ n: string }>(`SELECT toString((${sql})) AS n`, params);
    return Number(r?.n ?? 0);
  };

  const recordRun = async (row: Record<string, unknown>): Promise<void> => {
    await wh.insert(T.tagRuns, [row]);
  };

  const runOnce = async (full: boolean): Promise<RunReport> => {
    const t0 = Date.now();
    const steps: Record<string, number> = {};
    const step = async <R>(name: string, fn: () => Promise<R>): Promise<R> => {
      const t = Date.now();
      const r = await fn();
      steps[name] = Date.now() - t;
      logger.debug({ runId, step: name, ms: steps[name] }, 'tag_run_step');
      return r;
    };
    const stored = await deps.definitions.list();
    const defs = orderDefinitions(stored.map((s) => s.definition));
    const defsHash = definitionsHash(defs);
    const last = await lastDone();
    // The run id orders row versions (wall clock, always growing); `at` is
    // the time tags are computed for (the same, unless a test sets a clock).
    const runId = Math.max(Date.now(), lastRunId + 1, Number(last?.run_id ?? 0) + 1);
    lastRunId = runId;
    const at = now();
    const kind: 'full' | 'incremental' =
      full || !last || last.definitions !== defsHash ? 'full' : 'incremental';
    // Watermarks on the warehouse's own clock (loaded_at is set by it).
    const [marks] = await wh.query<{ v: string; t: string }>(
      `SELECT toString(max(version)) AS v, toString(toUnixTimestamp64Milli(now64(3))) AS t FROM ${T.personOverrides}`,
    );
    const overridesTo = marks?.v ?? '0';
    const eventsTo = Number(marks?.t ?? Date.now()) - margin;
    const base = {
      run_id: runId,
      kind,
      started_at: iso(runId),
      events_to: iso(eventsTo),
      overrides_to: overridesTo,
      definitions: defsHash,
      people: 0,
      changes: 0,
      duration_ms: 0,
      error: '',
    };
    await recordRun({ ...base, status: 'running', finished_at: null, version: 1 });
    logger.info({ runId, kind, definitions: defs.length }, 'tag_run_started');
    // Row versions of this run: facts and rank inputs write up to three
    // generations (markers, values, values with new scores).
    const p = { run: runId, v0: runId * 4, v1: runId * 4 + 1, v2: runId * 4 + 2, now: at };
    const inRun = (t: string): string => `(SELECT person_id FROM ${t} WHERE run_id = {run:UInt64})`;
    const people = inRun(T.tagRunPeople);
    try {
      // 1. Facts of the people whose events, merges, splits or erasures
      //    changed (everyone on a full run).
      let changedPeople: number;
      const factsParams = new SqlParams();
      const factsInsert = (source: string, where = ''): Promise<void> => {
        const facts = buildFactsSelect(defs, source, factsParams, T.personOverrides);
        return wh.command(
          `INSERT INTO ${T.personFacts} (person_id, first_ms, last_ms, traits, s, l, p, k, version)
           SELECT person_id, first_ms, last_ms, traits, s, l, p, k, {v1:UInt64} FROM (${facts}) ${where}
           SETTINGS do_not_merge_across_partitions_select_final = 1`,
          { ...factsParams.values, ...p, fact_now: at },
        );
      };
      if (kind === 'full') {
        await step('facts_markers', () =>
          wh.command(
            `INSERT INTO ${T.personFacts} (person_id, version, is_deleted)
             SELECT person_id, {v0:UInt64}, 1 FROM ${T.personFacts} FINAL WHERE is_deleted = 0`,
            p,
          ),
        );
        await step('facts', () =>
          factsInsert(`(SELECT ${FACT_COLUMNS} FROM ${T.events} FINAL WHERE ${OWN_EVENTS})`),
        );
        changedPeople = await count(
          `SELECT count() FROM ${T.personFacts} FINAL WHERE is_deleted = 0`,
        );
      } else {
        const prev = last as LastRun;
        const changed = {
          ...p,
          ev_from: clickHouseTimeMs(prev.events_to),
          ev_to: eventsTo,
          ov_from: prev.overrides_to,
          ov_to: overridesTo,
          audit_from: clickHouseTimeMs(prev.started_at) - AUDIT_LOOKBACK_MS,
        };
        // Every one_id that holds an event of the anonymous ids (or, for
        // events without one, the user ids) of the newly loaded events: the
        // new events' people, and the people an older copy of a re-stamped
        // event belongs to.
        await step('people', () =>
          wh.command(
            `INSERT INTO ${T.tagRunPeople} (run_id, person_id)
             WITH ids AS (
               SELECT DISTINCT one_id FROM ${T.events}
                 WHERE ${keysOf(`SELECT anonymous_id, user_id FROM ${T.events}
                   WHERE loaded_at > fromUnixTimestamp64Milli({ev_from:Int64}, 'UTC')
                     AND loaded_at <= fromUnixTimestamp64Milli({ev_to:Int64}, 'UTC')`)}
               UNION DISTINCT SELECT from_one_id FROM ${T.personOverrides}
                 WHERE version > {ov_from:UInt64} AND version <= {ov_to:UInt64}
               UNION DISTINCT SELECT into_one_id FROM ${T.personOverrides}
                 WHERE version > {ov_from:UInt64} AND version <= {ov_to:UInt64}
               UNION DISTINCT SELECT one_id FROM ${T.identityAudit}
                 WHERE kind IN ('split', 'delete') AND at > fromUnixTimestamp64Milli({audit_from:Int64}, 'UTC')
               UNION DISTINCT SELECT other_id FROM ${T.identityAudit}
                 WHERE kind = 'split' AND other_id != '' AND at > fromUnixTimestamp64Milli({audit_from:Int64}, 'UTC')
             )
             SELECT DISTINCT {run:UInt64}, arrayJoin([ids.one_id, if(o.into_one_id = '', ids.one_id, o.into_one_id)])
             FROM ids LEFT JOIN (SELECT from_one_id, into_one_id FROM ${T.personOverrides} FINAL) AS o
               ON ids.one_id = o.from_one_id
             WHERE ids.one_id != ''`,
            changed,
          ),
        );
        changedPeople = await count(`SELECT count() FROM ${people}`, p);
        if (changedPeople > 0) {
          await step('facts_markers', () =>
            wh.command(
              `INSERT INTO ${T.personFacts} (person_id, version, is_deleted)
               SELECT person_id, {v0:UInt64}, 1 FROM ${people}`,
              p,
            ),
          );
          // Their events: every one_id of those people (theirs and the ones
          // merged into them). Deduplicated as FINAL would be, without a
          // FINAL over the whole table: every copy of an event shares its
          // anonymous id (or user id), so the rows of those ids hold every
          // copy, and the latest loaded copy of each is kept.
          const ids = `(SELECT person_id FROM ${T.tagRunPeople} WHERE run_id = {run:UInt64}
            UNION DISTINCT SELECT from_one_id FROM ${T.personOverrides} FINAL
            WHERE into_one_id IN ${people})`;
          await step('facts', () =>
            factsInsert(
              `(SELECT * FROM (
                 SELECT ${FACT_COLUMNS} FROM ${T.events}
                 WHERE ${keysOf(`SELECT anonymous_id, user_id FROM ${T.events} WHERE one_id IN ${ids}`)}
                 ORDER BY loaded_at DESC LIMIT 1 BY source_id, anonymous_id, user_id, message_id
               ) WHERE one_id IN ${ids} AND ${OWN_EVENTS})`,
              `WHERE person_id IN ${people}`,
            ),
          );
        }
      }

      // 2. Whom to evaluate: the changed people and those whose tags move
      //    with time now (due); everyone on a full run.
      await step('evaluate', () =>
        kind === 'full'
          ? wh.command(
              `INSERT INTO ${T.tagRunPeople} (run_id, person_id)
               SELECT {run:UInt64}, person_id FROM ${T.personFacts} FINAL WHERE is_deleted = 0
               UNION DISTINCT SELECT {run:UInt64}, person_id FROM ${T.personTagState} FINAL WHERE is_deleted = 0`,
              p,
            )
          : wh.command(
              `INSERT INTO ${T.tagRunPeople} (run_id, person_id)
               SELECT {run:UInt64}, person_id FROM ${T.personTagState} FINAL
               WHERE is_deleted = 0 AND due_ms <= {now:Int64} AND person_id NOT IN ${people}`,
              p,
            ),
      );

      // 3. Rank inputs of the evaluated people, then every purchaser ranked
      //    again from those few columns; people whose score moved join the
      //    evaluated ones.
      const rankParams = new SqlParams();
      const rankInputs = buildRankInputsSelect(
        defs,
        rankParams,
        `(SELECT * FROM ${T.personFacts} FINAL WHERE is_deleted = 0 AND person_id IN ${people})`,
      );
      await step('ranks', async () => {
        await wh.command(
          `INSERT INTO ${T.personRankInputs} (person_id, rfm_in, rfm_last_ms, rfm_f, rfm_m, sp_in, sp_aov,
             r_score, f_score, m_score, sp_class, version)
           SELECT n.person_id, n.rfm_in, n.rfm_last_ms, n.rfm_f, n.rfm_m, n.sp_in, n.sp_aov,
             o.r_score, o.f_score, o.m_score, o.sp_class, {v1:UInt64}
           FROM (${rankInputs}) AS n
           LEFT JOIN (SELECT * FROM ${T.personRankInputs} FINAL WHERE is_deleted = 0 AND person_id IN ${people}) AS o
             ON n.person_id = o.person_id
           WHERE n.rfm_in = 1 OR n.sp_in = 1`,
          { ...rankParams.values, ...p },
        );
        await wh.command(
          `INSERT INTO ${T.personRankInputs} (person_id, version, is_deleted)
           SELECT person_id, {v0:UInt64}, 1 FROM ${people}
           WHERE person_id NOT IN (SELECT person_id FROM ${T.personRankInputs} WHERE version = {v1:UInt64})`,
          p,
        );
        await wh.command(
          `INSERT INTO ${T.tagRunScores} (run_id, person_id, r_score, f_score, m_score, sp_class, changed)
           SELECT {run:UInt64}, person_id, new_r, new_f, new_m, new_sp, changed
           FROM (${buildScoresSelect(T.personRankInputs)})
           WHERE changed = 1 OR person_id IN ${people}`,
          p,
        );
        await wh.command(
          `INSERT INTO ${T.tagRunPeople} (run_id, person_id)
           SELECT {run:UInt64}, person_id FROM ${T.tagRunScores}
           WHERE run_id = {run:UInt64} AND changed = 1 AND person_id NOT IN ${people}`,
          p,
        );
      });

      // 4. The evaluated people's tags, against their current ones.
      const tagParams = new SqlParams();
      const tags = buildTagsSelect(defs, tagParams, {
        facts: T.personFacts,
        state: T.personTagState,
        people,
        scores: `(SELECT person_id, r_score AS new_r, f_score AS new_f, m_score AS new_m, sp_class AS new_sp
                  FROM ${T.tagRunScores} WHERE run_id = {run:UInt64})`,
      });
      await step('tags', () =>
        wh.command(
          `INSERT INTO ${T.tagRunChanges} (run_id, person_id, tags, old_tags, due_ms)
           SELECT {run:UInt64}, person_id, tags, old_tags, due_ms FROM (${tags})
           WHERE tags != old_tags OR due_ms != old_due_ms`,
          { ...tagParams.values, ...p },
        ),
      );
      await step('removed', () =>
        wh.command(
          `INSERT INTO ${T.tagRunChanges} (run_id, person_id, tags, old_tags, due_ms)
           SELECT {run:UInt64}, person_id, CAST(map(), 'Map(String, String)'), tags, 0
           FROM ${T.personTagState} FINAL
           WHERE is_deleted = 0 AND person_id IN ${people}
             AND person_id NOT IN (SELECT person_id FROM ${T.personFacts} FINAL WHERE is_deleted = 0 AND person_id IN ${people})`,
          p,
        ),
      );

      // 5. Publish the changes (at least once: a crash before the state is
      //    written finds and publishes them again), then write them.
      const changeRows = `SELECT person_id, k AS tag, mapContains(old_tags, k) AS had, old_tags[k] AS from_value,
          mapContains(tags, k) AS has, tags[k] AS to_value
        FROM ${T.tagRunChanges} ARRAY JOIN arrayDistinct(arrayConcat(mapKeys(tags), mapKeys(old_tags))) AS k
        WHERE run_id = {run:UInt64} AND NOT startsWith(k, '_')
          AND (mapContains(old_tags, k) != mapContains(tags, k) OR old_tags[k] != tags[k])`;
      const [counts] = await wh.query<{ changes: string; persons: string }>(
        `SELECT toString(count()) AS changes, toString(uniqExact(person_id)) AS persons FROM (${changeRows})`,
        p,
      );
      const changes = Number(counts?.changes ?? 0);
      await step('publish', async () => {
        // Pages of people in person_id order (the scratch table's key), each
        // message built by ClickHouse as the JSON line the bus carries.
        let after = '';
        for (;;) {
          const [bound] = await wh.query<{ last: string; n: string }>(
            `SELECT max(person_id) AS last, toString(count()) AS n FROM (
               SELECT person_id FROM ${T.tagRunChanges}
               WHERE run_id = {run:UInt64} AND person_id > {after:String}
               ORDER BY person_id LIMIT ${PAGE})`,
            { ...p, after },
          );
          if (!bound || bound.n === '0') break;
          const page = await wh.query<{ k: string; v: string }>(
            `SELECT person_id AS k, concat('{"schemaVersion":1,"personId":', toJSONString(person_id),
                ',"tag":', toJSONString(tag), ',"from":', if(had, toJSONString(from_value), 'null'),
                ',"to":', if(has, toJSONString(to_value), 'null'), ',"at":', toJSONString({at:String}),
                ',"runId":', toJSONString({run_s:String}), '}') AS v
             FROM (${changeRows} AND person_id > {after:String} AND person_id <= {last:String})
             ORDER BY person_id, tag`,
            { ...p, after, last: bound.last, at: iso(at), run_s: String(runId) },
          );
          if (page.length > 0)
            await deps.bus.produce(
              deps.topics.profilesTags,
              page.map((r) => ({ key: r.k, value: r.v })),
            );
          after = bound.last;
        }
      });
      const tierDefs = defs.filter((d) => d.type === 'member_tier');
      const tierChanges = await step('tiers', () =>
        tierEvents({ warehouse: wh, logger, events: deps.events, runId, at, defs: tierDefs }),
      );
      await step('write', async () => {
        await wh.command(
          `INSERT INTO ${T.personTags} (person_id, tag, value, computed_at, version, is_deleted)
           SELECT person_id, tag, if(has, to_value, ''), fromUnixTimestamp64Milli({run:Int64}, 'UTC'), {run:UInt64}, NOT has
           FROM (${changeRows})`,
          p,
        );
        await wh.command(
          `INSERT INTO ${T.personTagState} (person_id, tags, due_ms, computed_at, version, is_deleted)
           SELECT person_id, tags, due_ms, fromUnixTimestamp64Milli({run:Int64}, 'UTC'), {run:UInt64}, empty(tags)
           FROM ${T.tagRunChanges} WHERE run_id = {run:UInt64}`,
          p,
        );
        // The scores given, kept with the rank inputs for the next run's compare.
        await wh.command(
          `INSERT INTO ${T.personRankInputs} (person_id, rfm_in, rfm_last_ms, rfm_f, rfm_m, sp_in, sp_aov,
             r_score, f_score, m_score, sp_class, version)
           SELECT i.person_id, i.rfm_in, i.rfm_last_ms, i.rfm_f, i.rfm_m, i.sp_in, i.sp_aov,
             s.r_score, s.f_score, s.m_score, s.sp_class, {v2:UInt64}
           FROM (SELECT * FROM ${T.personRankInputs} FINAL WHERE is_deleted = 0
                 AND person_id IN (SELECT person_id FROM ${T.tagRunScores} WHERE run_id = {run:UInt64} AND changed = 1)) AS i
           JOIN (SELECT * FROM ${T.tagRunScores} WHERE run_id = {run:UInt64} AND changed = 1) AS s
             ON i.person_id = s.person_id`,
          p,
        );
      });
      const evaluated = await count(`SELECT count() FROM ${people}`, p);
      const durationMs = Date.now() - t0;
      await recordRun({
        ...base,
        status: 'done',
        finished_at: iso(Date.now()),
        people: evaluated,
        changes,
        duration_ms: durationMs,
        version: 2,
      });
      await dropScratch(runId);
      const report: RunReport = {
        runId,
        kind,
        people: changedPeople,
        evaluated,
        changes,
        peopleChanged: Number(counts?.persons ?? 0),
        tierChanges,
        durationMs,
        steps,
      };
      logger.info(report, 'tag_run_done');
      return report;
    } catch (err) {
      await recordRun({
        ...base,
        status: 'failed',
        finished_at: iso(Date.now()),
        duration_ms: Date.now() - t0,
        error: err instanceof Error ? err.message.slice(0, 2000) : String(err),
        version: 2,
      }).catch((e: unknown) => logger.error({ err: e }, 'tag_run_record_failed'));
      await dropScratch(runId).catch(() => undefined);
      logger.error({ err, runId }, 'tag_run_failed');
      throw err instanceof CdpError
        ? err
        : new CdpError('CDP_ERR_TAG_RUN_FAILED', {
            cause: err,
            message: `The tag run failed: ${String(err)}`,
          });
    }
  };

  const dropScratch = async (runId: number): Promise<void> => {
    for (const t of [T.tagRunPeople, T.tagRunScores, T.tagRunChanges]) {
      // runId is this engine's own number, never user input.
      await wh.command(`ALTER TABLE ${t} DROP PARTITION ${Math.trunc(runId)}`);
    }
  };

  const engine: TagEngine = {
    run(opts = {}) {
      const next = chain.then(() => runOnce(opts.full === true));
      chain = next.catch(() => undefined);
      return next;
    },
    start(intervalMs) {
      stopped = false;
      const tick = (): void => {
        if (stopped) return;
        engine
          .run()
          .catch(() => undefined)
          .finally(() => {
            if (!stopped) timer = setTimeout(tick, intervalMs);
          });
      };
      timer = setTimeout(tick, 0);
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await chain;
    },
  };
  return engine;
}
