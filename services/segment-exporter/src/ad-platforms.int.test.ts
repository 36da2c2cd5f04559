/**
 * Audiences delivered to ad platforms' customer lists, on real parts (chDB,
 * the embedded bus) and a local server that checks every request against
 * each platform's documented shape and limits and keeps the lists
 * (platform-servers.ts): Google's Data Manager API (full, diff, then a
 * replace that never empties the list), the Google Ads OfflineUserDataJob
 * flow with a partial failure, Meta sessions with value-based seeds and
 * /usersreplace, TikTok customer files; minimum sizes checked before
 * anything is sent; consent withheld or withdrawn; pacing to the
 * platform's quota; one upload per list at a time; the platforms' upload
 * CSVs read by a CSV parser.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '@cdp/core';
import { TABLES } from '@cdp/warehouse';
import { tempDir, waitFor, type TempDir } from '@cdp/testkit';
import { createDestinationService, type DestinationService } from './destinations/service.js';
import { secretBox } from './destinations/secrets.js';
import { startPlatformServers, type PlatformServers } from './platform-servers.js';
import { createAudienceService, type AudienceService } from './service.js';
import { useRealParts } from './test-parts.js';

const logger = createLogger({ service: 'ad-platforms-test', level: 'silent' });
const parts = useRealParts('cdp-ad-platforms', logger);
const sha = (s: string): string => createHash('sha256').update(s).digest('hex');
const DAY = 86_400_000;

let fake: PlatformServers;
let files: TempDir;
beforeAll(async () => {
  fake = await startPlatformServers();
  fake.tokens.add('google-token');
  fake.tokens.add('meta-token');
  fake.tokens.add('tiktok-token');
  files = await tempDir('cdp-ad-files');
}, 60_000);
afterAll(async () => {
  await fake?.close();
  await files?.remove();
});
beforeEach(() => {
  fake.violations.length = 0;
});

/** The clock the syncs (and the platforms' `removeAsOfTime`) read. */
let clockMs = Date.now();
const slept: number[] = [];
const services = (): { audiences: AudienceService; destinations: DestinationService } => {
  const audiences = createAudienceService({
    warehouse: parts.wh,
    bus: parts.bus,
    changesTopic: 'cdp.audiences.changes',
    logger,
  });
  const destinations = createDestinationService({
    warehouse: parts.wh,
    bus: parts.bus,
    secrets: secretBox(Buffer.alloc(32, 9)),
    logger,
    audienceExists: (n) => audiences.get(n),
    sleep: async (ms) => {
      slept.push(ms);
    },
    now: () => clockMs,
  });
  fake.clock = () => clockMs;
  return { audiences, destinations };
};

interface Person {
  readonly id: string;
  readonly email?: string | undefined;
  readonly phone?: string | undefined;
  readonly traits?: Record<string, unknown>;
  /** Latest-first consent answers for Advertising, oldest first. */
  readonly consent?: boolean[];
}

const at = (ms: number): string => new Date(ms).toISOString();

/** People known to the CDP: identities (email stored hashed), an identify with their traits, consent events. */
async function know(people: readonly Person[]): Promise<void> {
  await parts.wh.insert(
    TABLES.identities,
    people.flatMap((p) => [
      {
        id_type: 'user_id',
        id_value: `u-${p.id}`,
        one_id: p.id,
        first_seen: 0,
        last_seen: 0,
        version: 1,
      },
      ...(p.email
        ? [
            {
              id_type: 'email',
              id_value: sha(p.email.trim().toLowerCase()),
              one_id: p.id,
              first_seen: 0,
              last_seen: 0,
              version: 1,
            },
          ]
        : []),
    ]),
  );
  const base = Date.now() - 3_600_000;
  await parts.wh.insert(
    TABLES.events,
    people.flatMap((p) => [
      {
        message_id: randomUUID(),
        source_id: 'test',
        type: 'identify',
        one_id: p.id,
        user_id: `u-${p.id}`,
        timestamp: at(base),
        received_at: at(base),
        traits: JSON.stringify({
          ...(p.email ? { email: p.email } : {}),
          ...(p.phone ? { phone: p.phone } : {}),
          ...p.traits,
        }),
      },
      ...(p.consent ?? []).map((granted, i) => ({
        message_id: randomUUID(),
        source_id: 'test',
        type: 'track',
        event: 'Consent Updated',
        one_id: p.id,
        user_id: `u-${p.id}`,
        timestamp: at(base + (i + 1) * 60_000),
        received_at: at(base + (i + 1) * 60_000),
        context: JSON.stringify({
          consent: { categoryPreferences: { Advertising: granted, Analytics: true } },
        }),
      })),
    ]),
  );
}

/** Tags `people` into (value `in`) or out of the run's audience. */
async function tag(run: string, ids: readonly string[], into = true): Promise<void> {
  const v = Date.now() * 1000 + Math.floor(Math.random() * 1000);
  await parts.wh.insert(
    TABLES.personTags,
    ids.flatMap((p) => [
      {
        person_id: p,
        tag: 'churn_risk',
        value: into ? `high-${run}` : 'low',
        computed_at: at(Date.now()),
        version: v,
      },
      {
        person_id: p,
        tag: 'ltv',
        value: String(ids.indexOf(p) + 10),
        computed_at: at(Date.now()),
        version: v,
      },
    ]),
  );
}

/** `n` people with emails (and phones) of the run, known and tagged into its audience. */
async function crowd(
  run: string,
  n: number,
  extra: (i: number) => Partial<Person> = () => ({}),
): Promise<Person[]> {
  const people = Array.from({ length: n }, (_, i): Person => ({
    id: `p${String(i).padStart(5, '0')}-${run}`,
    email: `Person.${i}.${run}@Example.com `,
    phone: `+1 650 555 ${String(1000 + (i % 9000)).padStart(4, '0')}`,
    ...extra(i),
  }));
  await know(people);
  await tag(
    run,
    people.map((p) => p.id),
  );
  return people;
}

const audienceOf = async (run: string, audiences: AudienceService): Promise<string> => {
  const name = `ads-${run}`;
  await audiences.create({
    name,
    definition: { conditions: { tag: { name: 'churn_risk', op: 'eq', value: `high-${run}` } } },
    refresh: 'manual',
  });
  await audiences.refresh(name);
  return name;
};

/** The email hash each platform should hold for a person of `crowd` (their email normalised). */
const emailHash = (p: Person): string => sha((p.email ?? '').trim().toLowerCase());

const FAST = { requestsPerMinute: 100_000 };

describe('ad platforms', () => {
  it('Google Data Manager: the whole list, then diffs, then a replace that never empties it', async () => {
    const run = randomUUID().slice(0, 8);
    const { audiences, destinations } = services();
    const people = await crowd(run, 120, (i) =>
      i === 0
        ? // Google folds gmail dots and a +suffix.
          { email: 'Cloudy.SanFrancisco+shopping@Gmail.com' }
        : i === 1
          ? // A phone nobody can parse: the person still goes on their email, the batch goes.
            { phone: 'call me maybe' }
          : i === 2
            ? // Nothing to match on: skipped, never an empty member.
              { email: undefined, phone: undefined, traits: { firstName: 'Ann' } }
            : i === 3
              ? {
                  traits: {
                    firstName: 'Mr. John',
                    lastName: "O'Neil",
                    address: { country: 'us', postalCode: '94045' },
                  },
                }
              : {},
    );
    const name = await audienceOf(run, audiences);
    const listId = String(Date.now()).slice(-9);
    const d = await destinations.create({
      name: 'google',
      type: 'google_data_manager',
      config: {
        baseUrl: fake.url,
        accountId: '1234567890',
        userListId: listId,
        // OAuth: the refresh token is exchanged at the token URL.
        refreshToken: '1//refresh',
        clientId: 'client.apps.googleusercontent.com',
        clientSecret: 'GOCSPX-secret',
        tokenUrl: `${fake.url}/token`,
        batchSize: 50,
        ...FAST,
      },
    });
    expect(d.config['clientSecret']).toBe('****cret');
    clockMs = Date.now();
    // Connecting starts the first sync at once.
    await destinations.connect(name, { destinationId: d.id });
    await waitFor(async () => expect((await destinations.runs(d.id, 1))[0]?.status).toBe('done'), {
      timeoutMs: 30_000,
    });
    const [full] = await destinations.runs(d.id, 1);
    expect(fake.violations).toEqual([]);
    expect(full).toMatchObject({ status: 'done', mode: 'full', added: 119, skipped: 1, failed: 0 });
    const list = fake.google.get(listId) as Map<string, number>;
    expect(list.has(sha('cloudysanfrancisco@gmail.com'))).toBe(true);
    // The stored hash of the raw email (trim + lower case) goes too: gmail dots differ.
    expect(list.has(emailHash(people[0] as Person))).toBe(true);
    for (const p of people.slice(1, 20)) if (p.email) expect(list.has(emailHash(p))).toBe(true);
    expect(list.has(sha('+16505551004'))).toBe(true);
    expect(list.has(`addr:${sha('john')}:${sha("o'neil")}`)).toBe(true);
    const ingests = fake.requests.filter(
      (r) => r.path === '/v1/audienceMembers:ingest' && JSON.stringify(r.body).includes(listId),
    );
    // 119 members in batches of 50 (the unmatchable one is left out of its batch).
    expect(
      ingests.map((r) => (r.body as { audienceMembers: unknown[] }).audienceMembers.length),
    ).toEqual([49, 50, 20]);
    // One person per member: each member's emails are one person's.
    const owner = new Map(people.flatMap((p) => (p.email ? [[emailHash(p), p.id] as const] : [])));
    for (const r of ingests)
      for (const m of (
        r.body as {
          audienceMembers: { userData: { userIdentifiers: { emailAddress?: string }[] } }[];
        }
      ).audienceMembers) {
        const who = new Set(
          m.userData.userIdentifiers.flatMap((x) =>
            x.emailAddress && owner.has(x.emailAddress) ? [owner.get(x.emailAddress)] : [],
          ),
        );
        expect(who.size).toBeLessThanOrEqual(1);
      }
    const [state] = await parts.wh.query<{ n: string }>(
      `SELECT toString(count()) AS n FROM ${TABLES.destinationSyncState} FINAL WHERE destination_id = {d:String} AND state = 'unmatchable'`,
      { d: d.id },
    );
    expect(state?.n).toBe('1');

    // Five leave, two come: one remove and one ingest request.
    const more = await crowd(`${run}b`, 2);
    await tag(
      run,
      more.map((p) => p.id),
    );
    await tag(
      run,
      people.slice(10, 15).map((p) => p.id),
      false,
    );
    await audiences.refresh(name);
    const before = fake.requests.length;
    expect(await destinations.sync(name, d.id)).toMatchObject({
      mode: 'diff',
      added: 2,
      removed: 5,
    });
    expect(fake.requests.slice(before).map((r) => r.path)).toEqual([
      '/token',
      '/v1/audienceMembers:ingest',
      '/v1/audienceMembers:remove',
    ]);
    for (const p of people.slice(10, 15)) expect(list.has(emailHash(p))).toBe(false);
    for (const p of more) expect(list.has(emailHash(p))).toBe(true);

    // A member added by hand on the platform long ago, then 31 days pass: the
    // list is due its replace: everyone is uploaded again, then whatever was
    // added before the sync started is removed; the list is never empty.
    list.set(sha('stranger@example.com'), clockMs - 1000);
    clockMs += 31 * DAY;
    const from = fake.requests.length;
    expect(await destinations.syncDue()).toBe(1);
    const [mirror] = await destinations.runs(d.id, 1);
    expect(mirror).toMatchObject({ status: 'done', mode: 'mirror', added: 116, skipped: 1 });
    expect(list.has(sha('stranger@example.com'))).toBe(false);
    for (const p of people.slice(10, 15)) expect(list.has(emailHash(p))).toBe(false);
    for (const p of [...people.slice(15), ...more]) expect(list.has(emailHash(p))).toBe(true);
    // Everyone uploaded first, then the remove-all of what is older than the sync.
    expect(fake.requests.slice(from).map((r) => r.path)).toEqual([
      '/token',
      '/v1/audienceMembers:ingest',
      '/v1/audienceMembers:ingest',
      '/v1/audienceMembers:ingest',
      '/v1/audienceMembers:removeAll',
    ]);
    const removeAll = fake.requests
      .filter((r) => r.path === '/v1/audienceMembers:removeAll')
      .at(-1);
    expect((removeAll?.body as { removeAsOfTime: string }).removeAsOfTime).toBe(
      new Date(mirror?.startedAt ?? 0).toISOString(),
    );
    // Not due again until another 30 days pass.
    expect(await destinations.syncDue()).toBe(0);
    expect(fake.violations).toEqual([]);
  });

  it('checks the minimum list size before sending anything, and says why', async () => {
    const run = randomUUID().slice(0, 8);
    const { audiences, destinations } = services();
    await crowd(run, 99);
    const name = await audienceOf(run, audiences);
    const d = await destinations.create({
      name: 'google-small',
      type: 'google_data_manager',
      config: {
        baseUrl: fake.url,
        accountId: '1',
        userListId: '999',
        accessToken: 'google-token',
        ...FAST,
      },
    });
    const before = fake.requests.length;
    const r = await destinations.sync(name, d.id);
    expect(r).toMatchObject({ status: 'skipped', added: 0 });
    expect(r?.error).toContain('needs at least 100');
    expect(fake.requests.length).toBe(before);
    // Up to date: not retried until the audience changes.
    expect(await destinations.syncDue()).toBe(0);
  });

  it('never sends people whose latest consent withholds advertising; a withdrawal removes them', async () => {
    const run = randomUUID().slice(0, 8);
    const { audiences, destinations } = services();
    const people = await crowd(run, 110, (i) =>
      i < 5
        ? { consent: [false] }
        : i === 5
          ? { consent: [false, true] }
          : i === 6
            ? { consent: [true] }
            : {},
    );
    const name = await audienceOf(run, audiences);
    const listId = String(Date.now() + 1).slice(-9);
    const d = await destinations.create({
      name: 'google-consent',
      type: 'google_data_manager',
      config: {
        baseUrl: fake.url,
        accountId: '1',
        userListId: listId,
        accessToken: 'google-token',
        ...FAST,
      },
    });
    expect(await destinations.sync(name, d.id)).toMatchObject({ added: 105 });
    const list = fake.google.get(listId) as Map<string, number>;
    for (const p of people.slice(0, 5)) expect(list.has(emailHash(p))).toBe(false);
    for (const p of people.slice(5)) expect(list.has(emailHash(p))).toBe(true);
    // Person 6 withdraws consent later: removed on the next sync, audience unchanged.
    await parts.wh.insert(TABLES.events, [
      {
        message_id: randomUUID(),
        source_id: 'test',
        type: 'track',
        event: 'Consent Updated',
        one_id: people[6]?.id,
        timestamp: at(Date.now()),
        received_at: at(Date.now()),
        context: JSON.stringify({ consent: { categoryPreferences: { Advertising: false } } }),
      },
    ]);
    expect(await destinations.sync(name, d.id)).toMatchObject({ added: 0, removed: 1 });
    expect(list.has(emailHash(people[6] as Person))).toBe(false);
    expect(fake.violations).toEqual([]);

    // requireConsent: only those who granted it (5 and 6 said yes last... 6 withdrew).
    const strict = await destinations.create({
      name: 'google-strict',
      type: 'google_data_manager',
      config: {
        baseUrl: fake.url,
        accountId: '1',
        userListId: '778',
        accessToken: 'google-token',
        requireConsent: true,
        ...FAST,
      },
    });
    const r = await destinations.sync(name, strict.id);
    expect(r).toMatchObject({ status: 'skipped' });
    expect(r?.error).toContain('has 1 members who granted consent for Advertising');
  });

  it('Google Ads: one job per sync, a refused member is recorded and the rest goes; a replace starts with removeAll', async () => {
    const run = randomUUID().slice(0, 8);
    const { audiences, destinations } = services();
    const people = await crowd(run, 110);
    const name = await audienceOf(run, audiences);
    fake.adsRefuse.add(emailHash(people[7] as Person));
    const listId = String(Date.now() + 2).slice(-9);
    const d = await destinations.create({
      name: 'google-ads',
      type: 'google_ads',
      config: {
        baseUrl: fake.url,
        customerId: '1234567890',
        userListId: listId,
        developerToken: 'dev-token',
        accessToken: 'google-token',
        batchSize: 40,
        pollIntervalMs: 10,
        refreshDays: 7,
        ...FAST,
      },
    });
    clockMs = Date.now();
    expect(await destinations.sync(name, d.id)).toMatchObject({
      status: 'done',
      added: 109,
      failed: 1,
    });
    const paths = fake.requests
      .filter((r) => r.path.includes('/customers/1234567890/'))
      .map((r) => r.path.replace(/\/\d+:/, '/N:'));
    expect(paths).toEqual([
      '/v22/customers/1234567890/offlineUserDataJobs:create',
      '/v22/customers/1234567890/offlineUserDataJobs/N:addOperations',
      '/v22/customers/1234567890/offlineUserDataJobs/N:addOperations',
      '/v22/customers/1234567890/offlineUserDataJobs/N:addOperations',
      '/v22/customers/1234567890/offlineUserDataJobs/N:run',
      '/v22/customers/1234567890/googleAds:search',
      '/v22/customers/1234567890/googleAds:search',
    ]);
    const list = fake.ads.get(`customers/1234567890/userLists/${listId}`) as Set<string>;
    expect(list.has(emailHash(people[7] as Person))).toBe(false);
    expect(list.has(emailHash(people[8] as Person))).toBe(true);
    const failures = await parts.wh.query<{ person_id: string; reason: string }>(
      `SELECT person_id, reason FROM ${TABLES.exportFailures} WHERE destination_id = {d:String}`,
      { d: d.id },
    );
    expect(failures).toEqual([
      { person_id: people[7]?.id, reason: 'The SHA256 encoded value is malformed.' },
    ]);
    // The refused one stays pending: it goes (and is refused) again next time only.
    fake.adsRefuse.clear();
    expect(await destinations.sync(name, d.id)).toMatchObject({ mode: 'diff', added: 1 });
    expect(list.has(emailHash(people[7] as Person))).toBe(true);
    // The weekly replace: a job whose first operation is removeAll.
    clockMs += 8 * DAY;
    list.add('stale');
    expect(await destinations.sync(name, d.id)).toMatchObject({ mode: 'mirror', added: 110 });
    const jobOps = fake.requests
      .filter((r) => r.path.endsWith(':addOperations'))
      .map((r) => r.body as { operations: Record<string, unknown>[] });
    expect(jobOps.at(-4)?.operations).toEqual([{ removeAll: true }]);
    expect(list.has('stale')).toBe(false);
    expect(list.size).toBeGreaterThanOrEqual(110);
    expect(fake.violations).toEqual([]);
  });

  it('Meta: batches in one session with value-based seeds, removals by DELETE, a replace through /usersreplace', async () => {
    const run = randomUUID().slice(0, 8);
    const { audiences, destinations } = services();
    const people = await crowd(run, 130, (i) =>
      i === 0
        ? { traits: { firstName: 'Mary-Jane', gender: 'Female', birthday: '1990-04-07' } }
        : {},
    );
    const name = await audienceOf(run, audiences);
    const audienceId = String(Date.now()).slice(-12);
    const d = await destinations.create({
      name: 'meta',
      type: 'meta',
      config: {
        baseUrl: fake.url,
        audienceId,
        accessToken: 'meta-token',
        schema: ['EXTERN_ID', 'EMAIL', 'PHONE', 'FN', 'GEN', 'DOBY', 'DOBM', 'DOBD'],
        valueField: 'tags.ltv',
        batchSize: 50,
        ...FAST,
      },
    });
    clockMs = Date.now();
    expect(await destinations.sync(name, d.id)).toMatchObject({ status: 'done', added: 130 });
    const posts = fake.requests.filter((r) => r.path === `/v24.0/${audienceId}/users`);
    const sessions = posts.map((r) => (r.body as { session: Record<string, unknown> }).session);
    expect(new Set(sessions.map((s) => s['session_id'])).size).toBe(1);
    expect(
      sessions.map((s) => [s['batch_seq'], s['last_batch_flag'], s['estimated_num_total']]),
    ).toEqual([
      [1, false, 130],
      [2, false, 130],
      [3, true, 130],
    ]);
    const first = posts[0]?.body as { payload: { schema: string[]; data: string[][] } };
    expect(first.payload.schema).toEqual([
      'EXTERN_ID',
      'EMAIL',
      'PHONE',
      'FN',
      'GEN',
      'DOBY',
      'DOBM',
      'DOBD',
      'LOOKALIKE_VALUE',
    ]);
    // Meta's documented forms: digits with country code, no '+'; lower-case letters; m/f.
    expect(first.payload.data[0]).toEqual([
      people[0]?.id,
      emailHash(people[0] as Person),
      sha('16505551000'),
      sha('maryjane'),
      sha('f'),
      sha('1990'),
      sha('04'),
      sha('07'),
      '10',
    ]);
    const list = fake.meta.get(audienceId) as Map<string, string>;
    expect(list.size).toBe(130);
    expect(list.get(emailHash(people[129] as Person))).toBe('139');

    await tag(
      run,
      people.slice(0, 10).map((p) => p.id),
      false,
    );
    await audiences.refresh(name);
    expect(await destinations.sync(name, d.id)).toMatchObject({ removed: 10 });
    expect(fake.requests.at(-1)).toMatchObject({
      method: 'DELETE',
      path: `/v24.0/${audienceId}/users`,
    });
    expect(list.size).toBe(120);

    list.set('someone-meta-kept', '');
    clockMs += 31 * DAY;
    expect(await destinations.sync(name, d.id)).toMatchObject({ mode: 'mirror', added: 120 });
    expect(fake.requests.filter((r) => r.path.endsWith('/usersreplace'))).toHaveLength(3);
    expect(list.has('someone-meta-kept')).toBe(false);
    expect(list.size).toBe(120);
    expect(fake.violations).toEqual([]);
  });

  it('Meta: a transient error is retried; a refused batch is recorded and the rest goes', async () => {
    const run = randomUUID().slice(0, 8);
    const { audiences, destinations } = services();
    await crowd(run, 100);
    const name = await audienceOf(run, audiences);
    const audienceId = String(Date.now() + 3).slice(-12);
    const d = await destinations.create({
      name: 'meta-flaky',
      type: 'meta',
      config: { baseUrl: fake.url, audienceId, accessToken: 'meta-token', batchSize: 50, ...FAST },
    });
    fake.script.meta.push(
      {
        status: 400,
        body: {
          error: { code: 2, is_transient: true, message: 'Service temporarily unavailable' },
        },
      },
      {
        status: 400,
        body: { error: { code: 100, message: 'Invalid parameter', type: 'OAuthException' } },
      },
    );
    const r = await destinations.sync(name, d.id);
    expect(r).toMatchObject({ added: 50, failed: 50 });
    expect(fake.meta.get(audienceId)?.size).toBe(50);
    const [f] = await parts.wh.query<{ reason: string }>(
      `SELECT any(reason) AS reason FROM ${TABLES.exportFailures} WHERE destination_id = {d:String}`,
      { d: d.id },
    );
    expect(f?.reason).toContain('Invalid parameter');
  });

  it('TikTok: customer files of at least 1,000 ids, APPEND, DELETE and REPLACE', async () => {
    const run = randomUUID().slice(0, 8);
    const { audiences, destinations } = services();
    const people = await crowd(run, 1000);
    const name = await audienceOf(run, audiences);
    const audienceId = String(Date.now()).slice(-10);
    const d = await destinations.create({
      name: 'tiktok',
      type: 'tiktok',
      config: {
        baseUrl: fake.url,
        advertiserId: '7000000001',
        audienceId,
        accessToken: 'tiktok-token',
        batchSize: 400,
        ...FAST,
      },
    });
    clockMs = Date.now();
    expect(await destinations.sync(name, d.id)).toMatchObject({ status: 'done', added: 1000 });
    const list = fake.tiktok.get(audienceId) as Set<string>;
    // TikTok: SHA-256 of the lower-cased email, and of the phone's digits with the country code.
    expect(list.has(emailHash(people[0] as Person))).toBe(true);
    expect(list.has(sha('16505551000'))).toBe(true);
    expect(list.size).toBe(2000);
    const updates = fake.requests
      .filter((r) => r.path.endsWith('/custom_audience/update/'))
      .map((r) => r.body as { action: string; file_paths: string[] });
    expect(updates.map((u) => [u.action, u.file_paths.length])).toEqual([['APPEND', 2]]);

    await tag(
      run,
      people.slice(0, 3).map((p) => p.id),
      false,
    );
    await audiences.refresh(name);
    expect(await destinations.sync(name, d.id)).toMatchObject({ removed: 3 });
    expect(list.has(emailHash(people[0] as Person))).toBe(false);
    // Below 1,000 now: a replace is not sent (the list would be unusable).
    clockMs += 31 * DAY;
    const r = await destinations.sync(name, d.id);
    expect(r).toMatchObject({ status: 'skipped' });
    expect(r?.error).toContain('needs at least 1000');
    await tag(
      run,
      people.slice(0, 3).map((p) => p.id),
      true,
    );
    await audiences.refresh(name);
    list.add('f'.repeat(64));
    expect(await destinations.sync(name, d.id)).toMatchObject({ mode: 'mirror', added: 1000 });
    const last = fake.requests.filter((r) => r.path.endsWith('/custom_audience/update/')).at(-1)
      ?.body as { action: string };
    expect(last.action).toBe('REPLACE');
    expect(list.has('f'.repeat(64))).toBe(false);
    expect(list.size).toBe(2000);
    expect(fake.violations).toEqual([]);
  });

  it('paces requests to the quota, waits as a 429 says, and sends one upload per list at a time', async () => {
    const run = randomUUID().slice(0, 8);
    const { audiences, destinations } = services();
    await crowd(run, 120);
    const name = await audienceOf(run, audiences);
    const listId = String(Date.now() + 4).slice(-9);
    // The platform allows 4 requests a second; the destination sends 2.5 a second.
    fake.googleLimit = 4;
    fake.googleWindowMs = 1000;
    fake.googleDelayMs = 30;
    try {
      const d = await destinations.create({
        name: 'google-paced',
        type: 'google_data_manager',
        config: {
          baseUrl: fake.url,
          accountId: '1',
          userListId: listId,
          accessToken: 'google-token',
          batchSize: 20,
          requestsPerMinute: 150,
        },
      });
      fake.script.google.push({ status: 429, headers: { 'retry-after': '7' } });
      slept.length = 0;
      fake.googleThrottled = 0;
      const t0 = Date.now();
      // Two syncs of one list at once: the second waits for the first.
      const [a, b] = await Promise.all([
        destinations.sync(name, d.id),
        destinations.sync(name, d.id),
      ]);
      expect(a).toMatchObject({ added: 120 });
      expect(b).toMatchObject({ added: 0 });
      expect(slept).toContain(7000);
      const times = fake.requests
        .filter((r) => r.path.endsWith(':ingest') && JSON.stringify(r.body).includes(listId))
        .map((r) => r.at);
      // Six batches and the one answered 429.
      expect(times).toHaveLength(7);
      // Paced: 7 requests (with the 429) 400 ms apart, none over the quota.
      expect(Date.now() - t0).toBeGreaterThanOrEqual(6 * 400 - 50);
      expect(fake.googleThrottled).toBe(0);
      expect(fake.violations).toEqual([]);
    } finally {
      fake.googleLimit = 300;
      fake.googleWindowMs = 60_000;
      fake.googleDelayMs = 0;
    }
  });

  it("writes each platform's own upload CSVs for marketers who upload by hand", async () => {
    const run = randomUUID().slice(0, 8);
    const { audiences, destinations } = services();
    const people = await crowd(run, 3, (i) =>
      i === 0
        ? {
            traits: {
              firstName: 'Ann',
              lastName: 'Lee',
              address: { country: 'GB', postalCode: 'SW1A 1AA' },
            },
          }
        : {},
    );
    const name = await audienceOf(run, audiences);
    for (const format of ['google_customer_match', 'meta_custom_audience'] as const) {
      const d = await destinations.create({
        name: format,
        type: 'file',
        config: { dir: join(files.path, format), format },
      });
      await destinations.sync(name, d.id);
      const folder = join(files.path, format, name);
      const manifest = JSON.parse(await readFile(join(folder, 'manifest.json'), 'utf8')) as {
        files: { file: string; list: string; rows: number }[];
      };
      const add = manifest.files.find((f) => f.list === 'add');
      expect(add?.rows).toBe(3);
      const rows = parse<Record<string, string>>(
        await readFile(join(folder, add?.file ?? ''), 'utf8'),
        { columns: true },
      );
      expect(rows).toHaveLength(3);
      if (format === 'google_customer_match') {
        expect(Object.keys(rows[0] ?? {})).toEqual([
          'Email',
          'Phone',
          'First Name',
          'Last Name',
          'Country',
          'Zip',
        ]);
        expect(rows[0]).toEqual({
          Email: emailHash(people[0] as Person),
          Phone: sha('+16505551000'),
          'First Name': sha('ann'),
          'Last Name': sha('lee'),
          Country: 'GB',
          Zip: 'SW1A 1AA',
        });
      } else {
        expect(rows[0]?.['email']).toBe(emailHash(people[0] as Person));
        expect(rows[0]?.['phone']).toBe(sha('16505551000'));
        expect(rows[0]?.['country']).toBe(sha('gb'));
      }
    }
  });
});
