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
import { CdpError, type Logger } from '@cdp/core';
import type { Bus } from '@cdp/bus';
import { webhookHeaders } from '@cdp/destinations';
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
  /** Records it refused for good, with why. */
  readonly refused: readonly { personId: string; change: string; reason: string }[];
  readonly bytes: number;
}

export interface Sender {
  /** True: a batch is final once sent; false: only once `end()` returned (a file). */
  readonly commitsPerBatch: boolean;
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
  readonly bus: Pick<Bus, 'produce' | 'ensureTopics'>;
  readonly logger: Logger;
  readonly fetch?: typeof fetch;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

const sleepReal = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** How long to wait before the next try: Retry-After when given, else backoff with full jitter. */
export function retryDelayMs(
  attempt: number,
  retryAfter: string | null,
  random: () => number = Math.random,
  nowMs: number = Date.now(),
): number {
  if (retryAfter !== null) {
    const s = Number(retryAfter);
    if (Number.isFinite(s) && s >= 0) return Math.min(s * 1000, 300_000);
    const at = Date.parse(retryAfter);
    if (!Number.isNaN(at)) return Math.min(Math.max(at - nowMs, 0), 300_000);
  }
  const cap = Math.min(30_000, 500 * 2 ** attempt);
  return Math.round(cap / 2 + (random() * cap) / 2);
}

function webhookSender(d: Destination, cfg: WebhookConfig, ctx: SyncContext): Sender {
  const doFetch = ctx.fetch ?? fetch;
  const sleep = ctx.sleep ?? sleepReal;
  return {
    commitsPerBatch: true,
    batchSize: cfg.batchSize,
    async send(batch) {
      const body = JSON.stringify({ audience: ctx.audience, version: ctx.version, changes: batch });
      const delivery = createHash('sha256').update(body).digest('hex').slice(0, 32);
      let last = '';
      for (let attempt = 0; attempt < cfg.maxAttempts; attempt++) {
        let status = 0;
        let retryAfter: string | null = null;
        let text = '';
        try {
          const res = await doFetch(cfg.url, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              'x-cdp-delivery-id': delivery,
              ...webhookHeaders(cfg.secret, body),
            },
            body,
            redirect: 'manual',
            signal: AbortSignal.timeout(cfg.timeoutMs),
          });
          status = res.status;
          retryAfter = res.headers.get('retry-after');
          text = (await res.text().catch(() => '')).slice(0, 300);
        } catch (e) {
          last = e instanceof Error ? e.message : String(e);
        }
        if (status >= 200 && status < 300)
          return {
            accepted: batch.map((c) => c.personId),
            refused: [],
            bytes: Buffer.byteLength(body),
          };
        if (status >= 400 && status < 500 && status !== 429 && status !== 408)
          return {
            accepted: [],
            refused: batch.map((c) => ({
              personId: c.personId,
              change: c.change,
              reason: `HTTP ${status}${text ? `: ${text}` : ''}`,
            })),
            bytes: Buffer.byteLength(body),
          };
        if (status !== 0) last = `HTTP ${status}${text ? `: ${text}` : ''}`;
        if (attempt + 1 < cfg.maxAttempts) {
          const wait = retryDelayMs(attempt, retryAfter, ctx.random);
          ctx.logger.warn(
            {
              destination: d.id,
              audience: ctx.audience,
              attempt: attempt + 1,
              waitMs: wait,
              error: last,
            },
            'export_retry',
          );
          await sleep(wait);
        }
      }
      throw new CdpError('CDP_ERR_EXPORT_FAILED', {
        message: `${d.name}: ${cfg.maxAttempts} tries failed (last: ${last})`,
        retryable: true,
      });
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
  rows: number;
  bytes: number;
  at: string;
}

function fileSender(cfg: FileConfig, ctx: SyncContext): Sender {
  const folder = join(cfg.dir, ctx.audience.replace(/[^A-Za-z0-9_.-]/g, '_'));
  const ext = cfg.format === 'csv' ? 'csv' : 'ndjson';
  const kind = ctx.full ? 'snapshot' : 'diff';
  const name = `v${ctx.version}-${kind}-${ctx.runId}.${ext}`;
  const tmp = join(folder, `.${name}.tmp`);
  let started = false;
  let rows = 0;
  let bytes = 0;
  const begin = async (): Promise<void> => {
    if (started) return;
    started = true;
    await mkdir(folder, { recursive: true });
    await writeFile(tmp, cfg.format === 'csv' ? `${cfg.columns.map(cell).join(',')}\n` : '');
  };
  return {
    commitsPerBatch: false,
    batchSize: cfg.batchSize,
    async send(batch) {
      await begin();
      const text = batch
        .map((c) =>
          cfg.format === 'csv'
            ? `${cfg.columns.map((col) => cell(columnValue(c, col))).join(',')}\n`
            : `${JSON.stringify(Object.fromEntries(cfg.columns.map((col) => [col, columnValue(c, col) ?? null])))}\n`,
        )
        .join('');
      await appendFile(tmp, text);
      rows += batch.length;
      bytes += Buffer.byteLength(text);
      return {
        accepted: batch.map((c) => c.personId),
        refused: [],
        bytes: Buffer.byteLength(text),
      };
    },
    async end() {
      await begin();
      await rename(tmp, join(folder, name));
      const manifestPath = join(folder, 'manifest.json');
      const entries = await readFile(manifestPath, 'utf8')
        .then((t) => (JSON.parse(t) as { files: ManifestEntry[] }).files)
        .catch(() => [] as ManifestEntry[]);
      entries.push({
        file: name,
        audience: ctx.audience,
        version: ctx.version,
        kind,
        rows,
        bytes,
        at: new Date().toISOString(),
      });
      const mtmp = `${manifestPath}.${ctx.runId}.tmp`;
      await writeFile(mtmp, `${JSON.stringify({ files: entries }, null, 2)}\n`);
      await rename(mtmp, manifestPath);
    },
    async abort() {
      await rm(tmp, { force: true });
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
  switch (d.type) {
    case 'webhook':
      return webhookSender(d, d.config as WebhookConfig, ctx);
    case 'file':
      return fileSender(d.config as FileConfig, ctx);
    case 'kafka':
      return kafkaSender(d.config as KafkaConfig, ctx);
  }
}
