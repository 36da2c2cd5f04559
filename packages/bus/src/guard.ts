/**
 * Poison isolation and consumer health, for any consumer of the `Bus` port.
 *
 * A handler that throws gets its batch again (at-least-once). That is right
 * when a dependency is down, and wrong when one record can never be handled:
 * it would be retried forever, and every later record waits behind it (the
 * resolver has one partition). {@link guardConsumer} tells the two apart: once
 * the same batch has failed `isolateAfter` times it bisects the batch, hands
 * the halves to the handler on their own, and a single record that still
 * fails while the dependency answers its probe is dead-lettered with the
 * reason; the rest goes on. If the probe fails, the failure is the
 * dependency's: nothing is dead-lettered, the batch is retried.
 *
 * {@link createConsumerHealth} keeps, per consumer, how long it has been
 * failing and how old the oldest record it has not finished is: the metrics
 * `cdp_consumer_*` and the `stuck` list that `/readyz` reports.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { BusMessage, MessageBatch } from './bus.js';

/** A record the handler could not process, with why. */
export interface PoisonRecord {
  readonly message: BusMessage;
  readonly reason: string;
}

export interface GuardOptions {
  /** Consumer name in metrics, logs and `/readyz` (e.g. `identity.resolver`). */
  readonly name: string;
  readonly handleBatch: (batch: MessageBatch) => Promise<void>;
  /**
   * Stores poison records durably (a dead-letter topic or table) before it
   * resolves; if it throws, the batch is retried.
   */
  readonly deadLetter: (records: readonly PoisonRecord[]) => Promise<void>;
  /** Throws when the handler's dependencies are down: failures are then not the record's. */
  readonly probe: () => Promise<void>;
  /** Failures of the same batch before it is bisected (default 3). */
  readonly isolateAfter?: number;
  readonly health?: ConsumerHealth;
  readonly onPoison?: (records: readonly PoisonRecord[]) => void;
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** Wraps a batch handler so that one bad record is dead-lettered instead of retried forever. */
export function guardConsumer(opts: GuardOptions): (batch: MessageBatch) => Promise<void> {
  const isolateAfter = opts.isolateAfter ?? 3;
  const track = opts.health?.consumer(opts.name);
  /** Per partition: the first offset of the batch that fails, and how often it failed. */
  const failing = new Map<string, { offset: string; failures: number }>();

  const one = (batch: MessageBatch, messages: readonly BusMessage[]): MessageBatch => ({
    topic: batch.topic,
    partition: batch.partition,
    messages,
  });

  /** Handles `messages`, bisecting on failure; a single failing record is poison if the probe passes. */
  const isolate = async (batch: MessageBatch, messages: readonly BusMessage[]): Promise<void> => {
    try {
      await opts.handleBatch(one(batch, messages));
      return;
    } catch (err) {
      if (messages.length > 1) {
        const mid = Math.ceil(messages.length / 2);
        await isolate(batch, messages.slice(0, mid));
        await isolate(batch, messages.slice(mid));
        return;
      }
      // Throws when a dependency is down: then this is not the record's fault.
      await opts.probe();
      const poison = [{ message: messages[0] as BusMessage, reason: message(err) }];
      await opts.deadLetter(poison);
      track?.deadLettered(poison.length);
      opts.onPoison?.(poison);
    }
  };

  return async (batch) => {
    const first = batch.messages[0];
    if (!first) return;
    const part = `${batch.topic}:${batch.partition}`;
    const f = failing.get(part);
    const again = f?.offset === first.offset ? f : undefined;
    track?.started(part, first.timestamp);
    try {
      if (again && again.failures >= isolateAfter) await isolate(batch, batch.messages);
      else await opts.handleBatch(batch);
    } catch (err) {
      if (again) again.failures++;
      else failing.set(part, { offset: first.offset, failures: 1 });
      track?.failed(part, message(err));
      throw err;
    }
    failing.delete(part);
    track?.succeeded(part);
  };
}

/** What `/readyz` says of a consumer that keeps failing. */
export interface StuckConsumer {
  readonly consumer: string;
  /** Since when the same work has been failing (ms since the epoch). */
  readonly failingSince: number;
  readonly failures: number;
  readonly lastError: string;
  /** Age of the oldest record not yet handled, in ms. */
  readonly oldestPendingMs: number;
}

/** One consumer's reports, per partition (`part`: topic and partition). */
export interface ConsumerTrack {
  /** A batch whose oldest record the bus accepted at `timestamp` is being handled. */
  started(part: string, timestamp: number): void;
  failed(part: string, error: string): void;
  succeeded(part: string): void;
  deadLettered(n: number): void;
}

export interface ConsumerHealth {
  consumer(name: string): ConsumerTrack;
  /** Consumers failing for longer than the threshold. */
  stuck(): StuckConsumer[];
}

export interface ConsumerHealthOptions {
  readonly registry?: Registry;
  /** A consumer failing for this long is stuck (default 30 s). */
  readonly stuckAfterMs?: number;
  readonly now?: () => number;
}

interface State {
  pendingSince: number | undefined;
  failingSince: number | undefined;
  failures: number;
  lastError: string;
}

/** Per-consumer health: metrics and the stuck list. */
export function createConsumerHealth(opts: ConsumerHealthOptions = {}): ConsumerHealth {
  const now = opts.now ?? Date.now;
  const stuckAfterMs = opts.stuckAfterMs ?? 30_000;
  /** Consumer name -> partition -> state. */
  const states = new Map<string, Map<string, State>>();
  /** The worst of a consumer's partitions: the oldest pending record, the longest failure. */
  const worst = (parts: Map<string, State>): State => {
    const w: State = {
      pendingSince: undefined,
      failingSince: undefined,
      failures: 0,
      lastError: '',
    };
    for (const s of parts.values()) {
      if (
        s.pendingSince !== undefined &&
        (w.pendingSince === undefined || s.pendingSince < w.pendingSince)
      )
        w.pendingSince = s.pendingSince;
      if (
        s.failingSince !== undefined &&
        (w.failingSince === undefined || s.failingSince < w.failingSince)
      ) {
        w.failingSince = s.failingSince;
        w.failures = s.failures;
        w.lastError = s.lastError;
      }
    }
    return w;
  };
  const registers = opts.registry ? [opts.registry] : [];
  new Gauge({
    name: 'cdp_consumer_oldest_pending_seconds',
    help: 'Age of the oldest record a consumer has not finished handling (0 when idle): its lag in time',
    labelNames: ['consumer'],
    registers,
    collect() {
      for (const [consumer, parts] of states) {
        const s = worst(parts);
        this.set({ consumer }, s.pendingSince === undefined ? 0 : (now() - s.pendingSince) / 1000);
      }
    },
  });
  new Gauge({
    name: 'cdp_consumer_stuck',
    help: '1 when a consumer has been failing on the same work for longer than the stuck threshold',
    labelNames: ['consumer'],
    registers,
    collect() {
      const stuck = new Set(list().map((s) => s.consumer));
      for (const consumer of states.keys()) this.set({ consumer }, stuck.has(consumer) ? 1 : 0);
    },
  });
  const failuresTotal = new Counter({
    name: 'cdp_consumer_failures_total',
    help: 'Batches a consumer failed to handle (each is retried)',
    labelNames: ['consumer'],
    registers,
  });
  const poisonTotal = new Counter({
    name: 'cdp_consumer_dead_lettered_total',
    help: 'Records a consumer could not process and dead-lettered',
    labelNames: ['consumer'],
    registers,
  });

  const list = (): StuckConsumer[] => {
    const t = now();
    const out: StuckConsumer[] = [];
    for (const [consumer, parts] of states) {
      const s = worst(parts);
      if (s.failingSince === undefined || t - s.failingSince < stuckAfterMs) continue;
      out.push({
        consumer,
        failingSince: s.failingSince,
        failures: s.failures,
        lastError: s.lastError,
        oldestPendingMs: s.pendingSince === undefined ? 0 : t - s.pendingSince,
      });
    }
    return out;
  };

  return {
    consumer(name) {
      const parts = new Map<string, State>();
      states.set(name, parts);
      const of = (part: string): State => {
        let s = parts.get(part);
        if (!s) {
          s = { pendingSince: undefined, failingSince: undefined, failures: 0, lastError: '' };
          parts.set(part, s);
        }
        return s;
      };
      return {
        started(part, timestamp) {
          of(part).pendingSince ??= timestamp;
        },
        failed(part, error) {
          const s = of(part);
          s.failingSince ??= now();
          s.failures++;
          s.lastError = error;
          failuresTotal.inc({ consumer: name });
        },
        succeeded(part) {
          parts.delete(part);
        },
        deadLettered(n) {
          poisonTotal.inc({ consumer: name }, n);
        },
      };
    },
    stuck: list,
  };
}

/** One line naming every stuck consumer, for `/readyz`. */
export function describeStuck(stuck: readonly StuckConsumer[]): string {
  return stuck
    .map(
      (c) =>
        `${c.consumer} failing ${c.failures} times since ${new Date(c.failingSince).toISOString()}: ${c.lastError}`,
    )
    .join('; ');
}
