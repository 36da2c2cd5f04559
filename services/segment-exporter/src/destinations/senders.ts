/**
 * Senders: how one sync's batches of changes reach a destination. A webhook
 * POSTs signed JSON batches (retrying 5xx, 429 and timeouts with backoff and
 * jitter, honouring Retry-After; a 4xx refuses the batch's records for good);
 * a file destination writes one file per sync, atomically (a temp file
 * renamed at the end), listed in the folder's manifest.json; a Kafka
 * destination produces one message per change to the topic the user named.
 */
import { createHash } from 'node:crypto';
import { appendFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '@cdp/core';
import type { Bus } from '@cdp/bus';
import { webhookHeaders } from '@cdp/destinations';
import { isAdPlatform } from './ad-config.js';
import { createAdSender } from './ad-senders.js';
import { platformFileRows, PLATFORM_FILE_HEADERS } from './platform-files.js';
import { requestWithRetry } from './http.js';
import type { Destination } from './store.js';
import type { FileConfig, KafkaConfig, WebhookConfig } from './types.js';

export interface Change {
  readonly personId: string;
  readonly change: 'entered' | 'exited';
  readonly identifiers: readonly { type: string; value: string }[];
  readonly traits: Readonly<Record<string, unknown>>;
  readonly tags: Readonly<Record<string, string>>;
}

export interface BatchResult {
  /** Person ids the destination took. */
  readonly accepted: readonly string[];
  /** Person ids not sent: nothing the destination can match them on. */
  readonly skipped?: readonly string[];
  /** Records it refused for good, with why. */
  readonly refused: readonly { personId: string; change: string; reason: string }[];
  readonly bytes: number;
}

export interface Sender {
  /** True: a batch is final once sent; false: only once `end()` returned (a file, a job). */
  readonly commitsPerBatch: boolean;
  /** Replaces the destination's whole list in a `mirror` sync (ad platforms). */
  readonly supportsMirror?: boolean;
  readonly batchSize: number;
  send(batch: readonly Change[]): Promise<BatchResult>;
  end(): Promise<void>;
  abort(): Promise<void>;
}

export interface SyncContext {
  readonly audience: string;
  readonly version: number;
  readonly runId: string;
  /** The first sync (everything is an add): a file sync is then a snapshot. */
  readonly full: boolean;
  /**
   * `full` (the first), `diff`, or `mirror`: everything the list should
   * hold is sent as `entered` and the sender replaces the list with it.
   */
  readonly mode: 'full' | 'diff' | 'mirror';
  /** How many changes of each kind this sync sends, in all (for sessions). */
  readonly totals: { readonly entered: number; readonly exited: number };
  /** When the sync started (epoch ms): a replace removes what was added before it. */
  readonly startedAt: number;
  readonly bus: Pick<Bus, 'produce' | 'ensureTopics'>;
  readonly logger: Logger;
  readonly fetch?: typeof fetch;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

export type SenderFactory = (d: Destination, ctx: SyncContext) => Sender;

export { retryDelayMs } from './http.js';

function webhookSender(d: Destination, cfg: WebhookConfig, ctx: SyncContext): Sender {
  return {
    commitsPerBatch: true,
    batchSize: cfg.batchSize,
    async send(batch) {
      const body = JSON.stringify({ audience: ctx.audience, version: ctx.version, changes: batch });
      const delivery = createHash('sha256').update(body).digest('hex').slice(0, 32);
      const bytes = Buffer.byteLength(body);
      const out = await requestWithRetry(ctx, {
        url: cfg.url,
        headers: {
          'content-type': 'application/json',
          'x-cdp-delivery-id': delivery,
          ...webhookHeaders(cfg.secret, body),
        },
        body,
        timeoutMs: cfg.timeoutMs,
        maxAttempts: cfg.maxAttempts,
        label: d.name,
      });
      if (out.kind === 'ok') return { accepted: batch.map((c) => c.personId), refused: [], bytes };
      return {
        accepted: [],
        refused: batch.map((c) => ({ personId: c.personId, change: c.change, reason: out.reason })),
        bytes,
      };
    },
    async end() {},
    async abort() {},
  };
}

/** A CSV cell: quoted when it holds a comma, quote or line break. */
const cell = (v: unknown): string => {
  const s = v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** A column's value for a change: person_id, change, an identifier type, traits.x or tags.x. */
function columnValue(c: Change, column: string): unknown {
  if (column === 'person_id') return c.personId;
  if (column === 'change') return c.change;
  if (column.startsWith('traits.')) return c.traits[column.slice(7)];
  if (column.startsWith('tags.')) return c.tags[column.slice(5)];
  return c.identifiers.find((i) => i.type === column)?.value;
}

interface ManifestEntry {
  file: string;
  audience: string;
  version: number;
  kind: 'snapshot' | 'diff';
  /** Platform upload files: who entered (`add`) or who left (`remove`). */
  list?: 'add' | 'remove';
  rows: number;
  bytes: number;
  at: string;
}

/** One file a sync writes: a temp file renamed at the end. */
interface FilePart {
  readonly name: string;
  readonly tmp: string;
  readonly list?: 'add' | 'remove';
  started: boolean;
  rows: number;
  bytes: number;
}

function fileSender(cfg: FileConfig, ctx: SyncContext): Sender {
  const folder = join(cfg.dir, ctx.audience.replace(/[^A-Za-z0-9_.-]/g, '_'));
  const platform =
    cfg.format === 'google_customer_match' || cfg.format === 'meta_custom_audience'
      ? cfg.format
      : undefined;
  const ext = cfg.format === 'ndjson' ? 'ndjson' : 'csv';
  const kind = ctx.full ? 'snapshot' : 'diff';
  const part = (list?: 'add' | 'remove'): FilePart => {
    const name = `v${ctx.version}-${kind}-${ctx.runId}${list ? `-${list}` : ''}.${ext}`;
    return {
      name,
      tmp: join(folder, `.${name}.tmp`),
      ...(list ? { list } : {}),
      started: false,
      rows: 0,
      bytes: 0,
    };
  };
  const parts = platform ? { add: part('add'), remove: part('remove') } : { all: part() };
  const header =
    cfg.format === 'ndjson'
      ? ''
      : `${(platform ? PLATFORM_FILE_HEADERS[platform] : cfg.columns).map(cell).join(',')}\n`;
  const begin = async (p: FilePart): Promise<void> => {
    if (p.started) return;
    p.started = true;
    await mkdir(folder, { recursive: true });
    await writeFile(p.tmp, header);
  };
  const write = async (p: FilePart, text: string, rows: number): Promise<void> => {
    await begin(p);
    if (text !== '') await appendFile(p.tmp, text);
    p.rows += rows;
    p.bytes += Buffer.byteLength(text);
  };
  return {
    commitsPerBatch: false,
    batchSize: cfg.batchSize,
    async send(batch) {
      let bytes = 0;
      if (platform) {
        const skipped: string[] = [];
        const lines = { add: [] as string[], remove: [] as string[] };
        for (const c of batch) {
          const row = platformFileRows(platform, c);
          if (row === undefined) skipped.push(c.personId);
          else
            lines[c.change === 'entered' ? 'add' : 'remove'].push(`${row.map(cell).join(',')}\n`);
        }
        for (const list of ['add', 'remove'] as const) {
          const p = (parts as Record<string, FilePart>)[list] as FilePart;
          if (lines[list].length === 0) continue;
          const text = lines[list].join('');
          await write(p, text, lines[list].length);
          bytes += Buffer.byteLength(text);
        }
        const skip = new Set(skipped);
        return {
          accepted: batch.filter((c) => !skip.has(c.personId)).map((c) => c.personId),
          skipped,
          refused: [],
          bytes,
        };
      }
      const text = batch
        .map((c) =>
          cfg.format === 'csv'
            ? `${cfg.columns.map((col) => cell(columnValue(c, col))).join(',')}\n`
            : `${JSON.stringify(Object.fromEntries(cfg.columns.map((col) => [col, columnValue(c, col) ?? null])))}\n`,
        )
        .join('');
      await write((parts as { all: FilePart }).all, text, batch.length);
      return {
        accepted: batch.map((c) => c.personId),
        refused: [],
        bytes: Buffer.byteLength(text),
      };
    },
    async end() {
      const all = Object.values<FilePart>(parts);
      // A snapshot is written even when empty; a platform's remove file only when someone left.
      for (const p of all) if (p.list !== 'remove') await begin(p);
      const written = all.filter((p) => p.started);
      for (const p of written) await rename(p.tmp, join(folder, p.name));
      const manifestPath = join(folder, 'manifest.json');
      const entries = await readFile(manifestPath, 'utf8')
        .then((t) => (JSON.parse(t) as { files: ManifestEntry[] }).files)
        .catch(() => [] as ManifestEntry[]);
      const at = new Date().toISOString();
      for (const p of written)
        entries.push({
          file: p.name,
          audience: ctx.audience,
          version: ctx.version,
          kind,
          ...(p.list ? { list: p.list } : {}),
          rows: p.rows,
          bytes: p.bytes,
          at,
        });
      const mtmp = `${manifestPath}.${ctx.runId}.tmp`;
      await writeFile(mtmp, `${JSON.stringify({ files: entries }, null, 2)}\n`);
      await rename(mtmp, manifestPath);
    },
    async abort() {
      for (const p of Object.values<FilePart>(parts)) await rm(p.tmp, { force: true });
    },
  };
}

function kafkaSender(cfg: KafkaConfig, ctx: SyncContext): Sender {
  let ensured = false;
  return {
    commitsPerBatch: true,
    batchSize: cfg.batchSize,
    async send(batch) {
      if (!ensured) {
        await ctx.bus.ensureTopics([{ name: cfg.topic, partitions: 1 }]);
        ensured = true;
      }
      const messages = batch.map((c) => ({
        key: c.personId,
        value: JSON.stringify({ audience: ctx.audience, version: ctx.version, ...c }),
      }));
      await ctx.bus.produce(cfg.topic, messages);
      return {
        accepted: batch.map((c) => c.personId),
        refused: [],
        bytes: messages.reduce((n, m) => n + Buffer.byteLength(m.value), 0),
      };
    },
    async end() {},
    async abort() {},
  };
}

export function createSender(d: Destination, ctx: SyncContext): Sender {
  if (isAdPlatform(d.type)) return createAdSender(d, ctx);
  switch (d.type) {
    case 'webhook':
      return webhookSender(d, d.config as WebhookConfig, ctx);
    case 'file':
      return fileSender(d.config as FileConfig, ctx);
    case 'kafka':
      return kafkaSender(d.config as KafkaConfig, ctx);
  }
}
