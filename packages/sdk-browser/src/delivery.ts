import { backoffMs, parseRetryAfter } from './backoff.js';
import { chunk, MAX_BODY_BYTES, MAX_EVENT_BYTES, utf8Length } from './chunk.js';
import { releaseLease, tryLease } from './lease.js';
import type { ResolvedOptions } from './options.js';
import { isLive, overflow, parseRecord, queueKey, serializeRecord } from './queue.js';
import type { KV } from './store.js';
import {
  batchBody,
  outcomeOf,
  type SendOutcome,
  type SendResponse,
  type Transport,
} from './transport.js';
import type { CdpEvent } from './types.js';

/** Timers as the delivery uses them (injected so tests drive time). */
export interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

/** What the delivery needs from the page. */
export interface DeliveryDeps {
  /** The batch endpoint, `${host}/v1/b`. */
  readonly url: string;
  readonly writeKey: string;
  readonly transport: Transport;
  /** localStorage: this tab's queue, other tabs' queues, the lease. */
  readonly storage: KV;
  readonly tabId: string;
  readonly options: Pick<ResolvedOptions, 'batch' | 'retry' | 'queue' | 'storagePrefix'>;
  readonly now: () => number;
  readonly random: () => number;
  /** `navigator.onLine`. */
  readonly online: () => boolean;
  readonly timers: Timers;
  /** Debug log; absent unless the `debug` option is on. */
  readonly log?: ((message: string, detail?: unknown) => void) | undefined;
  /** Always-on warning, for events the caller made unsendable. */
  readonly warn: (message: string, detail?: unknown) => void;
}

/** Batched, retried, persisted sending of events. */
export interface Delivery {
  /** Queues (and stores) an event; sends when the batch is full or its wait is over. */
  add(event: CdpEvent): void;
  /**
   * Sends everything queued now. Resolves when the queue is empty or what is
   * left waits for a retry (backoff, `Retry-After`) or for the network.
   */
  flush(): Promise<void>;
  /**
   * The page is being hidden. `unloading` (pagehide): what is not in flight
   * goes out in beacons, and the stored queue is marked closed so the next
   * visit can take it over. Otherwise (visibilitychange): a keepalive flush.
   */
  hide(unloading: boolean): void;
  /** The page came back (bfcache `pageshow`): the queue is this tab's again. */
  resume(): void;
  /** Back online: take over orphaned queues and send. */
  online(): void;
  /** Events queued, in flight included. */
  size(): number;
}

/** Lease key (per storage prefix) guarding the take-over of other tabs' queues. */
export const leaseKey = (prefix: string): string => `${prefix}lease`;
const LEASE_MS = 10_000;
/** Events in one beacon at unload (the body size limit applies first). */
const UNLOAD_CHUNK_EVENTS = 500;

interface Item {
  readonly id: string;
  /** The event as JSON, serialized once. */
  readonly s: string;
  readonly size: number;
  /** Failed attempts. */
  n: number;
  /** In flight. */
  f: boolean;
  /** Handed to the browser at unload (in flight then): not stored for the next visit. */
  h: boolean;
}

function itemOf(s: string, id: string): Item {
  return { id, s, size: utf8Length(s), n: 0, f: false, h: false };
}

/**
 * Delivery semantics (see README): every event is stored in this tab's
 * localStorage queue when added and removed once acknowledged (2xx) or
 * refused for good (4xx other than 408/429). Retryable failures back off
 * with jitter, honouring `Retry-After`; offline, nothing is tried until the
 * `online` event. At unload, events handed to the browser (accepted beacons,
 * keepalive requests in flight) are not stored for the next visit; the rest
 * is, and a later page takes it over.
 */
export function createDelivery(d: DeliveryDeps): Delivery {
  const { batch, retry, queue, storagePrefix: prefix } = d.options;
  const key = queueKey(prefix, d.tabId);
  const overhead = utf8Length(batchBody([], d.writeKey, new Date(0).toISOString()));
  let items: Item[] = [];
  let failures = 0;
  let waitUntil = 0;
  let timer: unknown;
  let timerDue = 0;
  let running: Promise<void> | undefined;
  let loggedDrop = false;
  /**
   * Between pagehide and a bfcache return. Writes then keep the stored queue
   * marked closed (`t` 0), so that the next page takes it over at once, even
   * when a request aborted by the unload settles after pagehide.
   */
  let closed = false;

  const persist = (): void => {
    const kept = items.filter((i) => !i.h);
    if (kept.length === 0) d.storage.remove(key);
    else if (
      !d.storage.set(
        key,
        serializeRecord(
          closed ? 0 : d.now(),
          kept.map((i) => i.s),
        ),
      )
    ) {
      d.log?.('queue_not_stored', { events: kept.length });
    }
  };

  const trim = (): void => {
    const drop = overflow(
      items.map((i) => i.size),
      queue.maxEvents,
      queue.maxBytes,
    );
    if (drop > 0) {
      items = items.slice(drop);
      d.log?.('queue_full_dropped_oldest', { events: drop });
    }
  };

  const remove = (gone: readonly Item[]): void => {
    const set = new Set(gone);
    items = items.filter((i) => !set.has(i));
    persist();
  };

  /** Appends stored events (JSON values) not already queued. */
  const append = (events: readonly unknown[]): void => {
    const known = new Set(items.map((i) => i.id));
    for (const e of events) {
      const id = (e as { messageId?: unknown } | null)?.messageId;
      if (typeof id === 'string' && !known.has(id)) {
        known.add(id);
        items.push(itemOf(JSON.stringify(e), id));
      }
    }
  };

  const pending = (): Item[] => items.filter((i) => !i.f && !i.h);

  const schedule = (ms: number): void => {
    const due = d.now() + ms;
    if (timer !== undefined) {
      if (timerDue <= due) return;
      d.timers.clear(timer);
    }
    timerDue = due;
    timer = d.timers.set(() => {
      timer = undefined;
      void flush();
    }, ms);
  };

  const reschedule = (): void => {
    if (pending().length === 0 || !d.online()) return;
    const now = d.now();
    schedule(waitUntil > now ? waitUntil - now : batch.waitMs);
  };

  const logRejections = (res: SendResponse): void => {
    const log = d.log;
    if (!log) return;
    res.text().then(
      (text) => {
        const body = JSON.parse(text) as { rejected?: unknown[] } | null;
        if (body?.rejected?.length) log('events_rejected', body.rejected);
      },
      () => undefined,
    );
  };

  /** Sends one chunk; `true` when the next chunk may go right away. */
  const send = async (chunkItems: readonly Item[]): Promise<boolean> => {
    for (const i of chunkItems) i.f = true;
    const body = batchBody(
      chunkItems.map((i) => i.s),
      d.writeKey,
      new Date(d.now()).toISOString(),
    );
    let outcome: SendOutcome;
    let res: SendResponse | undefined;
    try {
      res = await d.transport.send(d.url, body, true);
      outcome = outcomeOf(res.status, parseRetryAfter(res.retryAfter, d.now()));
    } catch {
      outcome = { kind: 'retry' };
    }
    for (const i of chunkItems) {
      i.f = false;
      // Handed off at unload: the browser owns the request, even when the
      // dying page sees it aborted. Only a page that came back takes them back.
      if (!closed) i.h = false;
    }
    switch (outcome.kind) {
      case 'ok':
        failures = 0;
        waitUntil = 0;
        remove(chunkItems);
        if (res) logRejections(res);
        return true;
      case 'drop':
        remove(chunkItems);
        if (!loggedDrop) {
          loggedDrop = true;
          d.log?.('events_dropped', { status: outcome.status, events: chunkItems.length });
        }
        return true;
      case 'retry': {
        // A failure while offline is no attempt: the `online` event resumes.
        if (res === undefined && !d.online()) {
          persist();
          return false;
        }
        failures++;
        const dead = chunkItems.filter((i) => ++i.n >= retry.maxAttempts);
        if (dead.length > 0) d.log?.('events_given_up', { events: dead.length });
        remove(dead);
        waitUntil =
          d.now() + (outcome.waitMs ?? backoffMs(failures, retry.baseMs, retry.maxMs, d.random));
        return false;
      }
    }
  };

  const drain = async (): Promise<void> => {
    for (;;) {
      if (!d.online() || d.now() < waitUntil) break;
      const next = chunk(pending(), (i) => i.size, batch.size, MAX_BODY_BYTES, overhead)[0];
      if (!next) break;
      if (!(await send(next))) break;
    }
    reschedule();
  };

  const flush = (): Promise<void> => {
    if (running) return running.then(flush);
    if (timer !== undefined) {
      d.timers.clear(timer);
      timer = undefined;
    }
    running = drain().finally(() => {
      running = undefined;
    });
    return running;
  };

  /** Takes over the stored queues of closed or long-silent tabs, under the lease. */
  const adopt = (): void => {
    const now = d.now();
    const lease = leaseKey(prefix);
    const queuePrefix = queueKey(prefix, '');
    let held = false;
    for (const k of d.storage.keys()) {
      if (!k.startsWith(queuePrefix) || k === key) continue;
      if (isLive(parseRecord(d.storage.get(k)), now)) continue;
      if (!held) {
        held = tryLease(d.storage, lease, d.tabId, now, LEASE_MS);
        if (!held) return;
      }
      // Read again under the lease: another tab may have taken it meanwhile.
      const rec = parseRecord(d.storage.get(k));
      if (rec && !isLive(rec, now)) append(rec.q);
      if (!isLive(rec, now)) d.storage.remove(k);
    }
    if (!held) return;
    trim();
    persist();
    releaseLease(d.storage, lease, d.tabId);
  };

  const start = (): void => {
    const own = parseRecord(d.storage.get(key));
    if (own) append(own.q);
    adopt();
    trim();
    persist();
    if (items.length > 0) void flush();
  };

  const hide = (unloading: boolean): void => {
    if (!unloading) {
      void flush();
      return;
    }
    closed = true;
    if (d.online()) {
      // Keepalive requests in flight outlive the page: handed off.
      for (const i of items) if (i.f) i.h = true;
      const sentAt = new Date(d.now()).toISOString();
      const chunks = chunk(pending(), (i) => i.size, UNLOAD_CHUNK_EVENTS, MAX_BODY_BYTES, overhead);
      for (const c of chunks) {
        if (
          d.transport.beacon(
            d.url,
            batchBody(
              c.map((i) => i.s),
              d.writeKey,
              sentAt,
            ),
          )
        ) {
          const set = new Set(c);
          items = items.filter((i) => !set.has(i));
        } else {
          // Refused (quota, no beacon): a keepalive request whose fate this
          // page may never learn, so the events stay stored for the next visit
          // (a resend is deduplicated by messageId).
          void send(c);
        }
      }
    }
    persist();
  };

  start();

  return {
    add(event) {
      let s: string;
      try {
        s = JSON.stringify(event);
      } catch (err) {
        d.warn(`[cdp] ${event.type} not sent: its properties or traits cannot be serialized`, err);
        return;
      }
      const item = itemOf(s, event.messageId);
      if (item.size > MAX_EVENT_BYTES) {
        d.warn(`[cdp] ${event.type} not sent: over ${MAX_EVENT_BYTES} bytes`, item.size);
        return;
      }
      items.push(item);
      trim();
      persist();
      if (pending().length >= batch.size && d.online()) void flush();
      else reschedule();
    },
    flush,
    hide,
    resume() {
      closed = false;
      for (const i of items) if (!i.f) i.h = false;
      persist();
      reschedule();
    },
    online() {
      adopt();
      void flush();
    },
    size: () => items.length,
  };
}
