import { randomUUID } from 'node:crypto';
import {
  CdpError,
  deadLetterMessage,
  isCdpError,
  type ErrorCode,
  type Logger,
  type Topics,
} from '@cdp/core';
import type { Bus, ProduceRecord } from '@cdp/bus';
import type { EventType, EventValidator } from '@cdp/schemas';
import { stampEvent, type StampEventOptions } from '@cdp/identity';
import { enrich } from './domain/enrich.js';
import type { IngestMetrics } from './metrics.js';
import { normalizeEvent, type NormalizeOptions } from './pipeline/normalize.js';
import type { Source } from '@cdp/sources';

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

/** What ingest needs to stamp events itself. */
export interface IngestStamper {
  readonly linksTopic: string;
  readonly options: StampEventOptions;
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
  /**
   * Stamps `one_id` on events as they come in (the all-in-one runner, where
   * the identity graph is in this process): saves the stamper's hop through
   * the bus. Links the resolver must see go to `linksTopic` after the events.
   */
  readonly stamper?: IngestStamper | undefined;
  /**
   * Refused requests without a valid write key kept per minute, as 1 KiB
   * samples (default 10): the rest is only counted, so that no one without a
   * key can fill the disk through the dead-letter table.
   */
  readonly unauthSamplesPerMin?: number;
  readonly now?: () => number;
}

/** Payload kept of a refused request without a valid write key. */
export const UNAUTH_SAMPLE_BYTES = 1024;

const BODY_WRITE_KEY = /("writeKey"\s*:\s*")((?:[^"\\]|\\.)*)"/g;
const QUERY_WRITE_KEY = /([?&]writeKey=)[^&#\s]*/g;

/** The payload without any write key in it (`"writeKey":"…"` in a body, `writeKey=…` in a URL). */
export function redactWriteKeys(payload: string): string {
  if (!payload.includes('writeKey')) return payload;
  return payload.replace(BODY_WRITE_KEY, '$1[redacted]"').replace(QUERY_WRITE_KEY, '$1[redacted]');
}

function payloadString(payload: unknown): string {
  if (typeof payload === 'string') return payload;
  if (Buffer.isBuffer(payload)) return payload.toString('utf8');
  try {
    return JSON.stringify(payload) ?? '';
  } catch {
    return String(payload);
  }
}

export function createCollector(deps: CollectorDeps): Collector {
  const newId = deps.newId ?? randomUUID;
  const stamper = deps.stamper;
  const opts: NormalizeOptions = {
    validate: deps.validate,
    newMessageId: newId,
    maxEventBytes: deps.maxEventBytes,
    maxDepth: deps.maxDepth,
  };

  const now = deps.now ?? Date.now;
  const samplesPerMin = deps.unauthSamplesPerMin ?? 10;
  let sampleWindow = 0;
  let samplesInWindow = 0;
  /** Whether this refused request without a key is kept as a sample (at most N a minute). */
  const takeSample = (): boolean => {
    const minute = Math.floor(now() / 60_000);
    if (minute !== sampleWindow) {
      sampleWindow = minute;
      samplesInWindow = 0;
    }
    if (samplesInWindow >= samplesPerMin) return false;
    samplesInWindow++;
    return true;
  };

  const deadLetterRecords = (
    entries: readonly DeadLetter[],
    ctx: RequestContext,
  ): ProduceRecord[] =>
    entries.map((e) => {
      deps.metrics.deadLetters.inc({ code: e.code });
      const payload = redactWriteKeys(payloadString(e.payload));
      return {
        key: ctx.source?.id ?? null,
        value: deadLetterMessage({
          id: newId(),
          receivedAt: ctx.receivedAt,
          sourceId: ctx.source?.id ?? '',
          code: e.code,
          field: e.field,
          reason: e.reason,
          payload,
          ...(ctx.source ? {} : { maxPayload: UNAUTH_SAMPLE_BYTES }),
          ip: ctx.ip,
        }),
      };
    });

  const collector: Collector = {
    async deadLetter(all, ctx) {
      let entries = all;
      if (!ctx.source) {
        // No valid write key: counted, and only a few small samples kept.
        for (const e of all) deps.metrics.unauthenticated.inc({ code: e.code });
        entries = all.filter(() => takeSample());
      }
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
      const links: ProduceRecord[] = [];
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
        const stamp = stamper
          ? stampEvent(
              {
                type: n.event.type,
                event: n.event,
                messageId: n.event.messageId,
                at: enriched.timestamp,
              },
              stamper.options,
            )
          : undefined;
        const oneId = stamp ? `"oneId":${JSON.stringify(stamp.oneId)},` : '';
        // The event's JSON is already serialised by normalisation: splice it in.
        const value = `{${oneId}"schemaVersion":1,"messageId":${JSON.stringify(n.event.messageId)},"sourceId":${JSON.stringify(source.id)},"receivedAt":${ctx.receivedAt},"type":"${n.event.type}","enriched":${JSON.stringify(enriched)},"event":${n.json}}`;
        good.push({ key: n.key, value });
        if (stamp?.link) {
          const link = stamp.uncertain ? { ...stamp.link, event: value, key: n.key } : stamp.link;
          links.push({ key: 'identity', value: JSON.stringify(link) });
        }
      });

      const deadPromise = collector.deadLetter(dead, ctx);
      if (good.length > 0) {
        const end = deps.metrics.produceSeconds.startTimer();
        try {
          await deps.bus.produce(deps.topics.eventsRaw, good);
          // After the events: a copy the resolver corrects must come later.
          // A failure here fails the request, so the client sends it again
          // (events are deduplicated by messageId) and the links are not lost.
          if (links.length > 0 && stamper) await deps.bus.produce(stamper.linksTopic, links);
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
