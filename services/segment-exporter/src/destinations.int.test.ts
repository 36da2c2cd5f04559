/**
 * Audiences delivered to destinations, on real parts (chDB, the embedded
 * bus) and a local webhook receiver that verifies every signature: the
 * first sync sends the whole membership, later ones only who entered and
 * who left; 5xx and 429 are retried (Retry-After honoured) with nothing
 * lost and nothing sent twice; a 4xx is recorded in export_failures and
 * stays pending; a GDPR-erased member is removed; a file destination writes
 * a CSV snapshot and diffs a CSV parser reads, listed in its manifest; a
 * Kafka destination produces to the named topic. Secrets are sealed at rest
 * and shown masked.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@cdp/core';
import { verifyWebhook } from '@cdp/destinations';
import { TABLES } from '@cdp/warehouse';
import { tempDir, waitFor, type TempDir } from '@cdp/testkit';
import { createDestinationService, type DestinationService } from './destinations/service.js';
import { secretBox } from './destinations/secrets.js';
import { retryDelayMs } from './destinations/senders.js';
import { createAudienceService, type AudienceService } from './service.js';
import { useRealParts } from './test-parts.js';

const logger = createLogger({ service: 'destinations-test', level: 'silent' });
const parts = useRealParts('cdp-destinations', logger);
const SECRET = 'whsec_0123456789abcdef';

interface Delivery {
  audience: string;
  version: number;
  changes: {
    personId: string;
    change: string;
    identifiers: { type: string; value: string }[];
    traits: Record<string, unknown>;
    tags: Record<string, string>;
  }[];
}

/** A webhook receiver: verifies signatures, answers from `script` first (then 200), keeps what it took. */
let server: Server;
let url = '';
const took: Delivery[] = [];
const script: { status: number; headers?: Record<string, string> }[] = [];
let badSignatures = 0;
let files: TempDir;

beforeAll(async () => {
  files = await tempDir('cdp-destination-files');
  server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (!verifyWebhook(SECRET, req.headers, body).ok) {
        badSignatures++;
        res.writeHead(401).end('bad signature');
        return;
      }
      const next = script.shift();
      if (next && next.status !== 200) {
        res.writeHead(next.status, next.headers ?? {}).end(`scripted ${next.status}`);
        return;
      }
      took.push(JSON.parse(body.toString('utf8')) as Delivery);
      res.writeHead(200).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
}, 60_000);
afterAll(async () => {
  await new Promise((r) => server?.close(r));
  await files?.remove();
});

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
    secrets: secretBox(Buffer.alloc(32, 7)),
    logger,
    audienceExists: (n) => audiences.get(n),
    sleep: async (ms) => {
      slept.push(ms);
    },
  });
  return { audiences, destinations };
};

/** People tagged churn_risk = `value` (a test's audiences select `high-<run>`). */
const tag = async (people: string[], value: string): Promise<void> => {
  const v = Date.now() * 1000 + Math.floor(Math.random() * 1000);
  await parts.wh.insert(
    TABLES.personTags,
    people.map((p) => ({
      person_id: p,
      tag: 'churn_risk',
      value,
      computed_at: new Date().toISOString(),
      version: v,
    })),
  );
  await parts.wh.insert(
    TABLES.identities,
    people.map((p) => ({
      id_type: 'user_id',
      id_value: `u-${p}`,
      one_id: p,
      first_seen: 0,
      last_seen: 0,
      version: 1,
    })),
  );
};

const highChurn = (run: string): unknown => ({
  conditions: {
    and: [
      // Each test's own people only (the warehouse is shared).
      { tag: { name: 'churn_risk', op: 'eq', value: `high-${run}` } },
      { identifier: { type: 'user_id' } },
    ],
  },
  description: run,
});

/** Who the receiver was sent as what, for one audience, in order. */
const sentOf = (audience: string): string[] =>
  took
    .filter((d) => d.audience === audience)
    .flatMap((d) => d.changes.map((c) => `${c.change}:${c.personId}`));

describe('destinations', () => {
  it('a webhook gets the whole audience first, then only who entered and who left, signed', async () => {
    const run = randomUUID().slice(0, 8);
    const p = (n: number): string => `p${n}-${run}`;
    const { audiences, destinations } = services();
    const name = `hook-${run}`;
    await tag([p(1), p(2), p(3)], `high-${run}`);
    await audiences.create({ name, definition: highChurn(run), refresh: 'manual' });
    await audiences.refresh(name);
    const d = await destinations.create({
      name: 'receiver',
      type: 'webhook',
      config: { url, secret: SECRET, batchSize: 2 },
    });
    expect(d.config['secret']).toBe('****cdef');
    await destinations.connect(name, { destinationId: d.id });
    // The first sync starts at once.
    await waitFor(async () => expect(sentOf(name)).toHaveLength(3), { timeoutMs: 20_000 });
    expect(sentOf(name).sort()).toEqual([p(1), p(2), p(3)].map((x) => `entered:${x}`));
    const first = took.filter((t) => t.audience === name);
    // Batches of 2, each with the person's identifiers and tags.
    expect(first.map((t) => t.changes.length)).toEqual([2, 1]);
    expect(first[0]?.changes[0]).toMatchObject({
      identifiers: [{ type: 'user_id', value: `u-${p(1)}` }],
      tags: { churn_risk: `high-${run}` },
    });
    await waitFor(async () =>
      expect((await destinations.runs(d.id, 1))[0]).toMatchObject({
        status: 'done',
        added: 3,
        removed: 0,
      }),
    );

    // p1 leaves, p4 joins: the next sync sends exactly those two.
    await tag([p(1)], 'low');
    await tag([p(4)], `high-${run}`);
    await audiences.refresh(name);
    expect(await destinations.syncDue()).toBe(1);
    expect(sentOf(name).slice(3)).toEqual([`exited:${p(1)}`, `entered:${p(4)}`]);
    // Up to date: nothing more to do.
    expect(await destinations.syncDue()).toBe(0);
    expect(badSignatures).toBe(0);
  });

  it('retries 503s and a 429 (Retry-After honoured): nothing lost, nothing twice', async () => {
    const run = randomUUID().slice(0, 8);
    const people = [1, 2, 3, 4, 5].map((n) => `r${n}-${run}`);
    const { audiences, destinations } = services();
    const name = `retry-${run}`;
    await tag(people, `high-${run}`);
    await audiences.create({ name, definition: highChurn(run), refresh: 'manual' });
    await audiences.refresh(name);
    const d = await destinations.create({
      name: 'flaky',
      type: 'webhook',
      config: { url, secret: SECRET, batchSize: 2 },
    });
    slept.length = 0;
    script.push({ status: 503 }, { status: 503 }, { status: 429, headers: { 'retry-after': '3' } });
    const synced = await destinations.sync(name, d.id);
    expect(synced).toMatchObject({ status: 'done', added: 5, failed: 0 });
    expect(sentOf(name).sort()).toEqual(people.map((x) => `entered:${x}`).sort());
    expect(slept).toHaveLength(3);
    expect(slept[2]).toBe(3000);
  });

  it('records what a destination refuses for good (4xx); it stays pending and goes next time', async () => {
    const run = randomUUID().slice(0, 8);
    const people = [1, 2, 3].map((n) => `f${n}-${run}`);
    const { audiences, destinations } = services();
    const name = `refused-${run}`;
    await tag(people, `high-${run}`);
    await audiences.create({ name, definition: highChurn(run), refresh: 'manual' });
    await audiences.refresh(name);
    const d = await destinations.create({
      name: 'picky',
      type: 'webhook',
      config: { url, secret: SECRET, batchSize: 2 },
    });
    script.push({ status: 422 });
    expect(await destinations.sync(name, d.id)).toMatchObject({
      status: 'done',
      added: 1,
      failed: 2,
    });
    const failures = await parts.wh.query<{ person_id: string; reason: string }>(
      `SELECT person_id, reason FROM ${TABLES.exportFailures} WHERE destination_id = {d:String} ORDER BY person_id`,
      { d: d.id },
    );
    expect(failures).toEqual([
      { person_id: people[0], reason: 'HTTP 422: scripted 422' },
      { person_id: people[1], reason: 'HTTP 422: scripted 422' },
    ]);
    expect(await destinations.sync(name, d.id)).toMatchObject({ added: 2, failed: 0 });
    expect(sentOf(name).sort()).toEqual(people.map((x) => `entered:${x}`).sort());
  });

  it('removes a GDPR-erased member on the next sync', async () => {
    const run = randomUUID().slice(0, 8);
    const people = [1, 2].map((n) => `g${n}-${run}`);
    const { audiences, destinations } = services();
    const name = `gdpr-${run}`;
    await tag(people, `high-${run}`);
    await audiences.create({ name, definition: highChurn(run), refresh: 'manual' });
    await audiences.refresh(name);
    const d = await destinations.create({
      name: 'gdpr',
      type: 'webhook',
      config: { url, secret: SECRET },
    });
    await destinations.sync(name, d.id);
    // What the person delete does to the person's rows (services/api persons).
    for (const t of [TABLES.personTags, TABLES.audienceSnapshots, TABLES.audienceMembers])
      await parts.wh.command(`DELETE FROM ${t} WHERE person_id = {p:String}`, { p: people[0] });
    await parts.wh.command(`DELETE FROM ${TABLES.identities} WHERE one_id = {p:String}`, {
      p: people[0],
    });
    await audiences.refresh(name);
    expect(await destinations.sync(name, d.id)).toMatchObject({ added: 0, removed: 1 });
    expect(sentOf(name)).toEqual([...people.map((x) => `entered:${x}`), `exited:${people[0]}`]);
    const last = took.filter((t) => t.audience === name).at(-1);
    // Nothing of the erased person is left to send but their person id.
    expect(last?.changes[0]).toMatchObject({ identifiers: [], tags: {}, traits: {} });
  });

  it('a file destination writes a CSV snapshot, then diffs, atomically, listed in its manifest', async () => {
    const run = randomUUID().slice(0, 8);
    const people = [1, 2, 3].map((n) => `c${n}-${run}`);
    const { audiences, destinations } = services();
    const name = `file-${run}`;
    await tag(people, `high-${run}`);
    await audiences.create({ name, definition: highChurn(run), refresh: 'manual' });
    await audiences.refresh(name);
    const d = await destinations.create({
      name: 'files',
      type: 'file',
      config: {
        dir: files.path,
        format: 'csv',
        columns: ['person_id', 'change', 'user_id', 'tags.churn_risk'],
        batchSize: 2,
      },
    });
    await destinations.sync(name, d.id);
    await tag([people[0] as string], 'low');
    await audiences.refresh(name);
    await destinations.sync(name, d.id);
    const folder = join(files.path, name);
    const manifest = JSON.parse(await readFile(join(folder, 'manifest.json'), 'utf8')) as {
      files: { file: string; kind: string; rows: number; version: number }[];
    };
    expect(manifest.files.map((f) => [f.kind, f.version, f.rows])).toEqual([
      ['snapshot', 1, 3],
      ['diff', 2, 1],
    ]);
    const csv = async (i: number): Promise<Record<string, string>[]> =>
      parse<Record<string, string>>(
        await readFile(join(folder, manifest.files[i]?.file ?? ''), 'utf8'),
        { columns: true },
      );
    expect(await csv(0)).toEqual(
      people.map((p) => ({
        person_id: p,
        change: 'entered',
        user_id: `u-${p}`,
        'tags.churn_risk': `high-${run}`,
      })),
    );
    expect(await csv(1)).toEqual([
      {
        person_id: people[0],
        change: 'exited',
        user_id: `u-${people[0]}`,
        'tags.churn_risk': 'low',
      },
    ]);
  });

  it('a Kafka destination produces one message per change to the topic named', async () => {
    const run = randomUUID().slice(0, 8);
    const people = [1, 2].map((n) => `k${n}-${run}`);
    const { audiences, destinations } = services();
    const name = `kafka-${run}`;
    const topic = `exports.${run}`;
    await tag(people, `high-${run}`);
    await audiences.create({ name, definition: highChurn(run), refresh: 'manual' });
    await audiences.refresh(name);
    const d = await destinations.create({ name: 'topic', type: 'kafka', config: { topic } });
    await destinations.sync(name, d.id);
    const got: { personId: string; change: string; audience: string }[] = [];
    const sub = await parts.bus.subscribe({
      topic,
      group: `t-${run}`,
      handleBatch: async (b) => {
        for (const m of b.messages) got.push(JSON.parse(m.value.toString()) as (typeof got)[0]);
      },
    });
    try {
      await waitFor(async () => expect(got).toHaveLength(2), { timeoutMs: 10_000 });
    } finally {
      await sub.close();
    }
    expect(got.map((g) => [g.audience, g.change, g.personId]).sort()).toEqual(
      people.map((p) => [name, 'entered', p]),
    );
  });

  it('keeps secrets sealed at rest and masked; a PUT with the masked secret keeps it; bad configs name the field', async () => {
    const { destinations } = services();
    const d = await destinations.create({
      name: 'sealed',
      type: 'webhook',
      config: { url, secret: SECRET },
    });
    const [row] = await parts.wh.query<{ config: string }>(
      `SELECT config FROM ${TABLES.destinations} FINAL WHERE id = {id:String}`,
      { id: d.id },
    );
    expect(row?.config).not.toContain(SECRET);
    expect(row?.config).toContain('enc:v1:');
    const put = await destinations.replace(d.id, {
      name: 'sealed again',
      config: { url, secret: '****cdef', batchSize: 5 },
    });
    expect(put.config).toMatchObject({ secret: '****cdef', batchSize: 5 });
    // Still signs with the real secret: the receiver verifies it.
    expect(badSignatures).toBe(0);
    for (const [body, field] of [
      [{ name: 'x', type: 'webhook', config: { url: 'ftp://x', secret: SECRET } }, 'config.url'],
      [{ name: 'x', type: 'webhook', config: { url, secret: 'short' } }, 'config.secret'],
      [{ name: 'x', type: 'sftp', config: {} }, 'type'],
      [{ name: 'x', type: 'file', config: { dir: 'relative' } }, 'config.dir'],
      [{ name: 'x', type: 'kafka', config: { topic: 'a b' } }, 'config.topic'],
    ] as const)
      await expect(destinations.create(body)).rejects.toMatchObject({
        code: 'CDP_ERR_DESTINATION_INVALID',
        field,
      });
  });

  it('waits as Retry-After says (seconds or a date), else backs off with jitter up to 30 s', () => {
    expect(retryDelayMs(0, '2')).toBe(2000);
    expect(retryDelayMs(0, new Date(10_000).toUTCString(), Math.random, 4_000)).toBe(6000);
    expect(retryDelayMs(0, null, () => 0)).toBe(250);
    expect(retryDelayMs(3, null, () => 1)).toBe(4000);
    expect(retryDelayMs(20, null, () => 1)).toBe(30_000);
  });
});
