import { randomUUID } from 'node:crypto';
import { CdpError, isCdpError, type ErrorCode, type Logger, type Topics } from '@cdp/core';
import type { Bus, ProduceRecord } from '@cdp/bus';
import type { EventType, EventValidator } from '@cdp/schemas';
import { enrich } from './domain/enrich.js';
import type { IngestMetrics } from './metrics.js';
import { normalizeEvent, type NormalizeOptions } from './pipeline/normalize.js';
import type { Source } from './sources/source.js';

/** Dead-letter payloads are cut at this size; the rest is not kept. */
export const MAX_DEAD_LETTER_PAYLOAD = 64 * 1024;

/** Who sent a request, when, from where. */
export interface RequestContext {
  readonly source: Source | undefined;
  readonly receivedAt: number;
  readonly ip: string;
  readonly userAgent: string;
}

/** One rejected item of a request, as the client sees it. */
export interface Rejection {
  readonly index: number;
  readonly code: ErrorCode;
  readonly field: string;
  readonly message: string;
}

export interface AcceptResult {
  readonly accepted: number;
  readonly rejected: readonly Rejection[];
  readonly messageIds: readonly string[];
}

export interface DeadLetter {
  readonly code: ErrorCode;
  readonly field: string;
  readonly reason: string;
  /** The raw input: a string as received, or a value that is serialised. */
  readonly payload: unknown;
}

export interface Collector {
  /**
   * Normalises, validates and enriches items, produces the valid ones to the
   * raw events topic and the invalid ones to the dead-letter topic, and
   * resolves once the bus holds both. Throws a retryable `CdpError` when the
   * bus cannot take the valid events (the caller answers 503).
   */
  accept(
    items: readonly { readonly raw: unknown; readonly type?: EventType }[],
    ctx: RequestContext,
  ): Promise<AcceptResult>;
  /** Records request-level rejections (bad JSON, bad key, ...). Never throws. */
  deadLetter(entries: readonly DeadLetter[], ctx: RequestContext): Promise<void>;
}

export interface CollectorDeps {
  readonly bus: Bus;
  readonly topics: Topics;
  readonly logger: Logger;
  readonly metrics: IngestMetrics;
  readonly validate: EventValidator;
  readonly maxEventBytes: number;
  readonly maxDepth: number;
  readonly maxFutureMs: number;
  readonly newId?: () => string;
}

function payloadString(payload: unknown): { payload: string; truncated: boolean } {
  let s: string;
  if (typeof payload === 'string') s = payload;
  else if (Buffer.isBuffer(payload)) s = payload.toString('utf8');
  else {
    try {
      s = JSON.stringify(payload) ?? '';
    } catch {
      s = String(payload);
    }
  }
  return s.length > MAX_DEAD_LETTER_PAYLOAD
    ? { payload: s.slice(0, MAX_DEAD_LETTER_PAYLOAD), truncated: true }
    : { payload: s, truncated: false };
}

export function createCollector(deps: CollectorDeps): Collector {
  const newId = deps.newId ?? randomUUID;
  const opts: NormalizeOptions = {
    validate: deps.validate,
    newMessageId: newId,
    maxEventBytes: deps.maxEventBytes,
    maxDepth: deps.maxDepth,
  };

  const deadLetterRecords = (
    entries: readonly DeadLetter[],
    ctx: RequestContext,
  ): ProduceRecord[] =>
    entries.map((e) => {
      const p = payloadString(e.payload);
      deps.metrics.deadLetters.inc({ code: e.code });
      return {
        key: ctx.source?.id ?? null,
        value: JSON.stringify({
          schemaVersion: 1,
          id: newId(),
          receivedAt: ctx.receivedAt,
          sourceId: ctx.source?.id ?? '',
          code: e.code,
          field: e.field,
          reason: e.reason,
          payload: p.payload,
          truncated: p.truncated,
          ip: ctx.ip,
        }),
      };
    });

  const collector: Collector = {
    async deadLetter(entries, ctx) {
      if (entries.length === 0) return;
      try {
        await deps.bus.produce(deps.topics.eventsInvalid, deadLetterRecords(entries, ctx));
      } catch (err) {
        // The dead-letter topic is down too: the log is the last place left.
        deps.logger.error({ err, entries, sourceId: ctx.source?.id }, 'dead_letter_produce_failed');
      }
    },

    async accept(items, ctx) {
      const source = ctx.source;
      if (!source) throw new CdpError('CDP_ERR_INGEST_AUTH_INVALID');
      const good: ProduceRecord[] = [];
      const messageIds: string[] = [];
      const rejected: Rejection[] = [];
      const dead: DeadLetter[] = [];
      items.forEach((item, index) => {
        const raw = item.raw;
        if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
          const r = {
            index,
            code: 'CDP_ERR_EVENT_INVALID_TYPE' as const,
            field: 'body',
            message: 'An event must be a JSON object',
          };
          rejected.push(r);
          dead.push({ code: r.code, field: r.field, reason: r.message, payload: raw });
          return;
        }
        const n = normalizeEvent(raw as Record<string, unknown>, item.type, opts);
        if (!n.ok) {
          rejected.push({ index, ...n.problem });
          dead.push({
            code: n.problem.code,
            field: n.problem.field,
            reason: n.problem.message,
            payload: raw,
          });
          return;
        }
        const enriched = enrich(n.event, {
          receivedAt: ctx.receivedAt,
          sourceId: source.id,
          ip: ctx.ip,
          userAgent: ctx.userAgent,
          ipPolicy: source.ipPolicy,
          maxFutureMs: deps.maxFutureMs,
        });
        messageIds.push(n.event.messageId);
        // The event's JSON is already serialised by normalisation: splice it in.
        good.push({
          key: n.key,
          value: `{"schemaVersion":1,"messageId":${JSON.stringify(n.event.messageId)},"sourceId":${JSON.stringify(source.id)},"receivedAt":${ctx.receivedAt},"type":"${n.event.type}","enriched":${JSON.stringify(enriched)},"event":${n.json}}`,
        });
      });

      const deadPromise = collector.deadLetter(dead, ctx);
      if (good.length > 0) {
        const end = deps.metrics.produceSeconds.startTimer();
        try {
          await deps.bus.produce(deps.topics.eventsRaw, good);
        } catch (err) {
          deps.metrics.events.inc({ outcome: 'backpressure' }, good.length);
          await deadPromise;
          if (isCdpError(err) && err.code === 'CDP_ERR_BUS_MESSAGE_TOO_LARGE') throw err;
          throw new CdpError('CDP_ERR_INGEST_BACKPRESSURE', { retryable: true, cause: err });
        } finally {
          end();
        }
      }
      await deadPromise;
      if (good.length > 0) deps.metrics.events.inc({ outcome: 'accepted' }, good.length);
      if (rejected.length > 0) deps.metrics.events.inc({ outcome: 'rejected' }, rejected.length);
      return { accepted: good.length, rejected, messageIds };
    },
  };
  return collector;
}
