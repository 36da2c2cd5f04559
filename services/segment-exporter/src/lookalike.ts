/**
 * Lookalike audiences: `POST /v1/audiences/:name/lookalike {ratio, exclude}`
 * builds, from the seed audience's last good run, the list of the people
 * most like its members among everyone else (`@cdp/lookalike`: a logistic
 * model of the seed against the eligible population, on each person's tags
 * and behaviour), stores it in `audience_lists`, and saves an audience
 * `{"in_list": <name>}` over it, run at once: it then diffs, publishes and
 * syncs to destinations like any other audience. Posting again rebuilds it
 * (a new list version; who dropped off the list leaves the audience on its
 * next run).
 *
 * Steps: one `INSERT ... SELECT` writes every person's features (from
 * `person_tags` and `events_by_person`) to the scratch table
 * `lookalike_features`; they are read back in person order, page by page,
 * into compact columns; the model is trained and everyone eligible scored
 * on a worker thread of this process (no network); the list is written,
 * the build recorded, the scratch rows deleted.
 */
import { randomUUID } from 'node:crypto';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { CdpError, type Logger } from '@cdp/core';
import { isAudienceName } from '@cdp/audiences';
import {
  PERSON_FEATURES,
  createFeatureBuilder,
  expandLookalikeInWorker,
  MIN_SEED_ROWS,
  type RawRecord,
} from '@cdp/lookalike';
import { TABLES, type Warehouse } from '@cdp/warehouse';
import type { AudienceStore, StoredAudience } from './store.js';
import { lastDone } from './runs.js';

const T = TABLES;
const DAY_MS = 86_400_000;
/** Rows read back from `lookalike_features` at a time. */
const PAGE = 100_000;
/** The largest ratio accepted: beyond half the population, a lookalike is everyone. */
export const MAX_LOOKALIKE_RATIO = 0.5;

/** The features from behaviour (`events_by_person`); every other one is a tag of that name. */
const BEHAVIOUR: readonly string[] = ['days_since_last_event', 'events_90d', 'device', 'channels'];
const FROM_TAGS = PERSON_FEATURES.filter((f) => !BEHAVIOUR.includes(f.name));
/** The columns of `lookalike_features` (the person, then the features' names). */
const COLUMNS = ['person_id', ...PERSON_FEATURES.map((f) => f.name)];
/** Columns that are NULL where missing (a tag the person has not, a person without events). */
const NULLABLE = new Set([
  ...FROM_TAGS.filter((f) => f.kind === 'numeric').map((f) => f.name),
  'days_since_last_event',
]);

export interface LookalikeRequest {
  readonly ratio: number;
  readonly exclude: readonly string[];
  readonly name: string;
  readonly seed: number;
  readonly refresh?: unknown;
}

/** What a build did, stored with it and answered by the API. */
export interface LookalikeReport {
  readonly list: string;
  readonly version: number;
  readonly seedAudience: string;
  readonly seedVersion: number;
  readonly ratio: number;
  readonly exclude: readonly string[];
  readonly randomSeed: number;
  /** Seed members with data (those the model learnt from). */
  readonly seedSize: number;
  /** People with data. */
  readonly people: number;
  /** People ranked: everyone with data but the seed and the excluded. */
  readonly eligible: number;
  readonly selected: number;
  readonly training: { readonly seedRows: number; readonly populationRows: number };
  readonly model: {
    readonly method: 'logistic regression (L2, Newton), seed vs a sample of the eligible';
    readonly iterations: number;
    readonly converged: boolean;
    readonly features: readonly string[];
    readonly topWeights: readonly { readonly column: string; readonly weight: number }[];
  };
  readonly builtAt: string;
  readonly ms: {
    readonly features: number;
    readonly read: number;
    readonly model: number;
    readonly write: number;
    readonly total: number;
  };
}

const bad = (field: string, message: string): CdpError =>
  new CdpError('CDP_ERR_AUDIENCE_INVALID', { field, message: `${field}: ${message}` });

const pctName = (ratio: number): string => String(Math.round(ratio * 1000) / 10).replace('.', '_');

/** Checks a request body `{ratio, exclude?, name?, seed?, refresh?}` against the seed's name. */
export function parseLookalikeRequest(seedName: string, body: unknown): LookalikeRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw bad('body', 'must be an object {ratio, exclude?, name?, seed?, refresh?}');
  const b = body as Record<string, unknown>;
  const allowed = ['ratio', 'exclude', 'name', 'seed', 'refresh'];
  for (const k of Object.keys(b))
    if (!allowed.includes(k)) throw bad(k, `unknown field (allowed: ${allowed.join(', ')})`);
  const ratio = b['ratio'];
  if (ratio === undefined)
    throw bad('ratio', 'is required (the share of the eligible people, e.g. 0.05)');
  if (
    typeof ratio !== 'number' ||
    !Number.isFinite(ratio) ||
    ratio <= 0 ||
    ratio > MAX_LOOKALIKE_RATIO
  )
    throw bad('ratio', `must be a number above 0 and at most ${MAX_LOOKALIKE_RATIO} (0.05 is 5%)`);
  const exclude = b['exclude'] ?? [];
  if (!Array.isArray(exclude)) throw bad('exclude', 'must be a list of audience names');
  exclude.forEach((x, i) => {
    if (!isAudienceName(x)) throw bad(`exclude[${i}]`, 'must be the name of an audience');
  });
  const name = b['name'] ?? `${seedName}-lookalike-${pctName(ratio)}`;
  if (!isAudienceName(name))
    throw bad('name', 'must be lower-case letters, digits, _ . - (at most 128)');
  if (name === seedName) throw bad('name', 'must not be the seed audience');
  const seed = b['seed'] ?? 1;
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed))
    throw bad('seed', 'must be an integer (the random seed of the population sample)');
  return {
    ratio,
    exclude: [...new Set(exclude as string[])].sort(),
    name,
    seed,
    ...(b['refresh'] !== undefined ? { refresh: b['refresh'] } : {}),
  };
}

/** The definition of a lookalike audience over its list. */
export const lookalikeDefinition = (name: string, seed: string, ratio: number) => ({
  conditions: { in_list: name },
  description: `Lookalike of ${seed}: the ${Math.round(ratio * 1000) / 10}% of everyone else most like its members (POST /v1/audiences/${seed}/lookalike rebuilds it)`,
});

/** Whether `a` is the lookalike audience over its own list. */
export const isLookalikeAudience = (a: StoredAudience): boolean => {
  const c = a.definition.conditions as { in_list?: unknown };
  return Object.keys(c).length === 1 && c.in_list === a.name;
};

/** The members of an audience's last good run (empty before the first). */
async function membersOf(
  wh: Warehouse,
  audience: string,
): Promise<{ ids: Set<string>; version: number }> {
  const done = await lastDone(wh, audience);
  if (!done) return { ids: new Set(), version: 0 };
  const rows = await wh.query<{ person_id: string }>(
    `SELECT person_id FROM ${T.audienceSnapshots} WHERE audience = {a:String} AND version = {v:UInt64}`,
    { a: audience, v: done.version },
  );
  return { ids: new Set(rows.map((r) => r.person_id)), version: done.version };
}

/** The SQL that writes every person's features for build `{build}` at `{now}`. */
function featuresSql(): string {
  const tag = (t: string): string => `anyIf(value, tag = '${t}')`;
  const fromTag = FROM_TAGS.map((f) =>
    f.kind === 'numeric'
      ? `toFloat64OrNull(${tag(f.name)}) AS ${f.name}`
      : f.kind === 'multi'
        ? `JSONExtract(if(${tag(f.name)} = '', '[]', ${tag(f.name)}), 'Array(String)') AS ${f.name}`
        : `${tag(f.name)} AS ${f.name}`,
  );
  // The device of the person's latest event: Segment's context.device.type
  // (apps), else what the user agent says (browsers).
  const behaviour: Record<string, string> = {
    days_since_last_event: `if(b.person_id != '', b.days_since_last_event, NULL)`,
    events_90d: 'b.events_90d',
    channels: 'b.channels',
    device: `multiIf(
      JSONExtractString(b.last.1, 'device', 'type') != '', lower(JSONExtractString(b.last.1, 'device', 'type')),
      match(b.last.2, '(?i)ipad|tablet'), 'tablet',
      match(b.last.2, '(?i)mobi|iphone|android'), 'mobile',
      b.last.2 != '', 'desktop', '')`,
  };
  const values = PERSON_FEATURES.map((f) => behaviour[f.name] ?? `t.${f.name}`);
  return `INSERT INTO ${T.lookalikeFeatures} (build, ${COLUMNS.join(', ')})
    SELECT {build:String}, if(b.person_id != '', b.person_id, t.person_id) AS pid, ${values.join(', ')}
    FROM (
      SELECT person_id,
        ({now:Int64} - toUnixTimestamp64Milli(max(timestamp))) / ${DAY_MS} AS days_since_last_event,
        toFloat64(countIf(timestamp >= fromUnixTimestamp64Milli({since90:Int64}, 'UTC'))) AS events_90d,
        arraySort(arrayFilter(x -> x != '', groupUniqArray(32)(channel))) AS channels,
        argMax((context, user_agent), timestamp) AS last
      FROM ${T.eventsByPerson}
      GROUP BY person_id
    ) AS b
    FULL OUTER JOIN (
      SELECT person_id, ${fromTag.join(', ')}
      FROM ${T.personTags} FINAL
      WHERE tag IN {tags:Array(String)}
      GROUP BY person_id
    ) AS t ON b.person_id = t.person_id
    WHERE pid != ''
    SETTINGS join_use_nulls = 0`;
}

/**
 * One page of `lookalike_features` as one row of arrays, a column each (a
 * third of the JSON of a row per person, and faster to parse); NULLs as
 * NaN (JSON `null`), since groupArray would drop them.
 */
const pageSql = `SELECT ${COLUMNS.map((c) => `groupArray(${NULLABLE.has(c) ? `ifNull(${c}, nan)` : c}) AS ${c}`).join(', ')}
  FROM (
    SELECT * FROM ${T.lookalikeFeatures}
    WHERE build = {build:String} AND person_id > {after:String}
    ORDER BY person_id LIMIT {limit:UInt32}
  )`;

export interface LookalikeDeps {
  readonly warehouse: Warehouse;
  readonly store: AudienceStore;
  readonly logger: Logger;
  readonly now: () => number;
}

/**
 * Builds (or rebuilds) the lookalike list of `seedName` as `req` says and
 * saves its audience; the caller runs it. Answers the saved audience and
 * the report.
 */
export async function buildLookalike(
  deps: LookalikeDeps,
  seedName: string,
  req: LookalikeRequest,
): Promise<{ audience: StoredAudience; report: LookalikeReport }> {
  const wh = deps.warehouse;
  const started = performance.now();
  const at = deps.now();
  await deps.store.get(seedName);
  const all = await deps.store.list();
  const existing = all.find((a) => a.name === req.name);
  if (existing && !isLookalikeAudience(existing))
    throw new CdpError('CDP_ERR_AUDIENCE_EXISTS', {
      field: 'name',
      message: `An audience named ${req.name} exists and is not a lookalike: choose another name`,
    });
  const names = new Set(all.map((a) => a.name));
  req.exclude.forEach((x, i) => {
    if (!names.has(x)) throw bad(`exclude[${i}]`, `no audience named ${x}`);
  });
  const seed = await membersOf(wh, seedName);
  if (seed.version === 0)
    throw bad(
      'name',
      `the seed audience ${seedName} has not run yet (POST /v1/audiences/${seedName}/refresh)`,
    );
  const excluded = new Set<string>();
  for (const x of req.exclude) for (const id of (await membersOf(wh, x)).ids) excluded.add(id);

  // 1. Every person's features, in one statement.
  const build = randomUUID();
  const t0 = performance.now();
  await wh.command(featuresSql(), {
    build,
    now: at,
    since90: at - 90 * DAY_MS,
    tags: FROM_TAGS.map((f) => f.name),
  });
  const t1 = performance.now();
  try {
    // 2. Read back in person order: row i is the i-th person id.
    const builder = createFeatureBuilder(PERSON_FEATURES, { capacity: 1 << 16 });
    const ids: string[] = [];
    const seedRows: number[] = [];
    const eligibleRows: number[] = [];
    const record: Record<string, unknown> = {};
    for (let after = ''; ;) {
      const [page] = await wh.query<Record<string, unknown[]>>(pageSql, {
        build,
        after,
        limit: PAGE,
      });
      const pids = (page?.['person_id'] ?? []) as string[];
      for (let r = 0; r < pids.length; r++) {
        for (const c of COLUMNS) record[c] = page?.[c]?.[r];
        const pid = pids[r] as string;
        const i = builder.add(record as RawRecord);
        ids.push(pid);
        if (seed.ids.has(pid)) seedRows.push(i);
        else if (!excluded.has(pid)) eligibleRows.push(i);
      }
      if (pids.length < PAGE) break;
      after = pids[pids.length - 1] as string;
      await yieldToLoop();
    }
    if (seedRows.length < MIN_SEED_ROWS)
      throw bad(
        'name',
        `the seed audience ${seedName} has ${seedRows.length} members with data; at least ${MIN_SEED_ROWS} are needed`,
      );
    if (eligibleRows.length === 0)
      throw bad('exclude', 'no one is left to choose from (everyone is in the seed or excluded)');
    const t2 = performance.now();
    await yieldToLoop();
    // On a worker thread: the model takes seconds at a million people, and
    // in the all-in-one runner this event loop also serves ingest.
    const x = await expandLookalikeInWorker(
      {
        features: builder.finish(),
        seed: Int32Array.from(seedRows),
        eligible: Int32Array.from(eligibleRows),
      },
      { ratio: req.ratio, seed: req.seed },
    );
    const t3 = performance.now();

    // 3. The list, under a new version: who is no longer on it gets a deleted row.
    const [prev] = await wh.query<{ v: string }>(
      `SELECT toString(max(version)) AS v FROM ${T.lookalikeBuilds} WHERE list = {l:String}`,
      { l: req.name },
    );
    const version = Math.max(at, Number(prev?.v ?? 0) + 1);
    const computedAt = new Date(at).toISOString();
    const members: Record<string, unknown>[] = [];
    x.selected.forEach((row, i) =>
      members.push({
        list: req.name,
        person_id: ids[row],
        score: x.scores[i],
        rank: i + 1,
        computed_at: computedAt,
        version,
        is_deleted: 0,
      }),
    );
    for (let i = 0; i < members.length; i += PAGE)
      await wh.insert(T.audienceLists, members.slice(i, i + PAGE));
    await wh.command(
      `INSERT INTO ${T.audienceLists} (list, person_id, score, rank, computed_at, version, is_deleted)
       SELECT list, person_id, 0, 0, fromUnixTimestamp64Milli({at:Int64}, 'UTC'), {v:UInt64}, 1
       FROM ${T.audienceLists} FINAL WHERE list = {l:String} AND version < {v:UInt64}`,
      { l: req.name, v: version, at },
    );
    const t4 = performance.now();
    const report: LookalikeReport = {
      list: req.name,
      version,
      seedAudience: seedName,
      seedVersion: seed.version,
      ratio: req.ratio,
      exclude: req.exclude,
      randomSeed: req.seed,
      seedSize: seedRows.length,
      people: ids.length,
      eligible: x.eligible,
      selected: x.selected.length,
      training: x.training,
      model: {
        method: 'logistic regression (L2, Newton), seed vs a sample of the eligible',
        iterations: x.model.iterations,
        converged: x.model.converged,
        features: PERSON_FEATURES.map((f) => f.name),
        topWeights: x.topWeights.map((w) => ({
          column: w.column,
          weight: Math.round(w.weight * 1e4) / 1e4,
        })),
      },
      builtAt: computedAt,
      ms: {
        features: Math.round(t1 - t0),
        read: Math.round(t2 - t1),
        model: Math.round(t3 - t2),
        write: Math.round(t4 - t3),
        total: Math.round(t4 - started),
      },
    };
    await wh.insert(T.lookalikeBuilds, [
      {
        list: req.name,
        version,
        seed: seedName,
        report: JSON.stringify(report),
        built_at: computedAt,
      },
    ]);
    const audience = await deps.store.save(
      {
        name: req.name,
        definition: lookalikeDefinition(req.name, seedName, req.ratio),
        ...(req.refresh !== undefined ? { refresh: req.refresh } : {}),
      },
      existing ? 'replace' : 'create',
      existing ? req.name : undefined,
    );
    deps.logger.info(
      {
        list: req.name,
        seed: seedName,
        selected: report.selected,
        eligible: report.eligible,
        ms: report.ms,
      },
      'lookalike_built',
    );
    return { audience, report };
  } finally {
    await wh
      .command(`DELETE FROM ${T.lookalikeFeatures} WHERE build = {build:String}`, { build })
      .catch((err: unknown) => deps.logger.warn({ err, build }, 'lookalike_scratch_delete_failed'));
  }
}

/** The last build's report of the lookalike audience `name`, if it is one. */
export async function lastLookalikeReport(
  wh: Warehouse,
  name: string,
): Promise<LookalikeReport | undefined> {
  const [row] = await wh.query<{ report: string }>(
    `SELECT report FROM ${T.lookalikeBuilds} FINAL WHERE list = {l:String} ORDER BY version DESC LIMIT 1`,
    { l: name },
  );
  return row ? (JSON.parse(row.report) as LookalikeReport) : undefined;
}
